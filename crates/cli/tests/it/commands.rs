//! Every subcommand on the small fixture, and bad input.

use std::fs;

use crate::helpers::{kui, small_data, small_fixture, workspace_root};

fn first_youth_id(fixture: &str) -> String {
    let line = fixture
        .lines()
        .find(|l| l.contains("\"YouthReferred\""))
        .expect("no referral");
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    value["payload"]["youth_id"].as_str().expect("no youth id").to_owned()
}

#[test]
fn import_verify_summary_and_export_round_trip() {
    let dir = small_data();
    let data = dir.path().join("data");
    let verified = kui(&data, &["verify"]).ok();
    assert!(verified.stdout.starts_with("ok: "), "{}", verified.stdout);
    let summary = kui(&data, &["summary"]).ok();
    assert!(summary.stdout.contains("YouthReferred"), "{}", summary.stdout);
    assert!(summary.stdout.contains("540 Sønderborg"), "{}", summary.stdout);
    let out = dir.path().join("again.ndjson");
    kui(&data, &["export", "-o", out.to_str().unwrap_or_default()]).ok();
    let again = fs::read(&out).unwrap();
    let original = fs::read(small_fixture()).unwrap();
    assert!(again == original, "export after import differs from the fixture");
}

#[test]
fn history_by_id_and_by_cpr_as_table_json_and_as_of() {
    // Generated here, so that this data directory's key store holds the keys.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    kui(&data, &["generate", "--preset", "small"]).ok();
    let export = kui(&data, &["export"]).ok();
    let id = first_youth_id(&export.stdout);
    let opened = kui(&data, &["history", &id, "--json"]).ok();
    let opened: serde_json::Value = serde_json::from_str(&opened.stdout).unwrap();
    let cpr = opened["entries"][0]["payload"]["cpr"]
        .as_str()
        .expect("the CPR number, opened")
        .to_owned();
    assert!(
        !export.stdout.contains(&cpr),
        "an export holds the CPR number sealed only"
    );

    let table = kui(&data, &["history", &id]).ok();
    assert!(table.stdout.contains("YouthReferred"), "{}", table.stdout);
    assert!(table.stdout.contains("state:"), "{}", table.stdout);
    assert!(!table.stdout.contains(&cpr), "the table must not print the CPR number");

    let by_cpr = kui(&data, &["history", &cpr]).ok();
    assert_eq!(by_cpr.stdout, table.stdout);

    let json = kui(&data, &["history", &id, "--json"]).ok();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let entries = value["entries"].as_array().expect("entries");
    assert!(entries.len() >= 2);
    let positions: Vec<u64> = entries.iter().filter_map(|e| e["position"].as_u64()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "in log order");
    let first_day = entries[0]["occurred_at"].as_str().unwrap_or_default()[..10].to_owned();

    let early = kui(&data, &["history", &id, "--as-of", &first_day, "--json"]).ok();
    let early: serde_json::Value = serde_json::from_str(&early.stdout).unwrap();
    let early_entries = early["entries"].as_array().map(Vec::len).unwrap_or(0);
    assert!(early_entries >= 1 && early_entries <= entries.len());
}

#[test]
fn tick_is_idempotent() {
    let dir = small_data();
    let data = dir.path().join("data");
    let first = kui(&data, &["tick", "--as-of", "2026-11-01"]).ok();
    let second = kui(&data, &["tick", "--as-of", "2026-11-01"]).ok();
    assert!(
        second.stdout.contains(": 0 turned 18, 0 aged out"),
        "{}\n{}",
        first.stdout,
        second.stdout
    );
    kui(&data, &["verify"]).ok();
    kui(&data, &["tick", "--as-of", "2027-01-01"]).fails_with(2, "cannot tick into the future");
}

#[test]
fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let dir = small_data();
    let data = dir.path().join("data");
    kui(&data, &["history", "310299-12"]).fails_with(2, "neither a youth id");
    kui(&data, &["history", "300299-1234"]).fails_with(2, "not a real date");
    kui(&data, &["history", "0190b5a0-0000-7000-8000-000000000001"]).fails_with(2, "not found");

    let not_a_log = tempfile::tempdir().unwrap();
    fs::write(not_a_log.path().join("notes.txt"), "hello").unwrap();
    kui(not_a_log.path(), &["verify"]).fails_with(2, "not a kui log");

    let fixture = fs::read(small_fixture()).unwrap();
    let truncated = dir.path().join("truncated.ndjson");
    fs::write(&truncated, &fixture[..fixture.len() / 2]).unwrap();
    let fresh = dir.path().join("fresh");
    kui(&fresh, &["import", truncated.to_str().unwrap_or_default()]).fails_with(2, "truncated");
    let summary = kui(&fresh, &["summary"]).ok();
    assert!(summary.stdout.contains("events:        0"), "{}", summary.stdout);

    kui(&fresh, &["init", "--municipality", "99", "--name", "X"]).fails_with(2, "not a municipality code");
    kui(
        &fresh,
        &["init", "--municipality", "540", "--name", "S", "--band", "30-15"],
    )
    .fails_with(2, "age band");
}

#[test]
fn rebuild_names_the_alarms_model_by_its_one_name() {
    let dir = small_data();
    let data = dir.path().join("data");
    kui(&data, &["rebuild", "transitions"]).fails_with(2, "the read model \"transitions\" is now called \"alarms\"");
    let rebuilt = kui(&data, &["rebuild", "alarms"]).ok();
    assert!(rebuilt.stdout.contains("alarms"), "{}", rebuilt.stdout);
    assert!(data.join("projections/alarms.snapshot").exists());
    assert!(!data.join("projections/transitions.snapshot").exists());
}

#[test]
fn reports_as_of_a_past_date_show_the_models_as_they_stood_then() {
    let dir = small_data();
    let data = dir.path().join("data");
    let members = |args: &[&str]| -> u64 {
        let run = kui(&data, args).ok();
        let report: serde_json::Value =
            serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
        report["teams"]
            .as_array()
            .map(|teams| teams.iter().filter_map(|team| team["count"].as_u64()).sum())
            .unwrap_or_default()
    };
    let now = members(&["report", "teams", "--json"]);
    let then = members(&["report", "teams", "--as-of", "2021-01-31", "--json"]);
    assert!(then > 0 && then < now, "{then} members then, {now} now");
    let alarms = kui(&data, &["report", "alarms", "--as-of", "2023-06-30", "--json"]).ok();
    let report: serde_json::Value = serde_json::from_str(&alarms.stdout).unwrap();
    assert_eq!(report["as_of"], "2023-06-30");
}

#[test]
fn init_then_generate_refuses_a_used_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let init = kui(
        &data,
        &[
            "init",
            "--municipality",
            "540",
            "--name",
            "Sønderborg",
            "--band",
            "15-30",
        ],
    )
    .ok();
    assert!(init.stdout.contains("municipality 540"), "{}", init.stdout);
    kui(&data, &["generate", "--preset", "small"]).fails_with(2, "not empty");
    kui(&data, &["generate", "--preset", "nowhere"]).fails_with(2, "unknown preset");
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        "init", "demo", "generate", "history", "verify", "tick", "export", "import", "summary", "serve", "schema",
    ] {
        let help = kui(dir.path(), &[command, "--help"]).ok();
        assert!(help.stdout.contains("Usage: kui"), "{command}: {}", help.stdout);
    }
}

#[test]
fn verify_names_the_first_altered_position() {
    let dir = small_data();
    let data = dir.path().join("data");
    let segment = data.join("events.seg");
    let mut bytes = fs::read(&segment).unwrap_or_else(|e| panic!("{}: {e}", segment.display()));
    let fixture = fs::read_to_string(small_fixture()).unwrap();
    // Change the sealed personal data of the 100th referral in the stored bytes, keeping the length.
    let line = fixture
        .lines()
        .filter(|l| l.contains("\"YouthReferred\""))
        .nth(99)
        .unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    let position = value["position"].as_u64().unwrap_or_default();
    let sealed = value["payload"]["sealed"].as_str().unwrap_or_default().to_owned();
    let needle = format!("\"sealed\":\"{sealed}\"");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("{needle} not found in the segment"));
    let first_letter = at + "\"sealed\":\"".len();
    bytes[first_letter] = if bytes[first_letter] == b'X' { b'Y' } else { b'X' };
    fs::write(&segment, &bytes).unwrap();

    let run = kui(&data, &["verify"]);
    assert_ne!(run.code, 0, "an altered log must not verify:\n{}", run.stdout);
    assert!(
        run.stderr.contains(&format!("position {position}")),
        "expected position {position} in:\n{}",
        run.stderr
    );
}

#[test]
fn schema_prints_the_committed_graphql_sdl() {
    let dir = tempfile::tempdir().unwrap();
    let printed = kui(dir.path(), &["schema"]).ok();
    let committed = fs::read_to_string(workspace_root().join("schemas/schema.graphql")).unwrap_or_default();
    assert_eq!(printed.stdout, committed);
}

#[test]
fn serve_refuses_an_empty_data_directory_and_a_weak_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "s".repeat(40);
    kui(dir.path(), &["serve", "--jwt-secret", &secret, "--addr", "127.0.0.1:0"]).fails_with(2, "holds no kui log");
    let data = small_data();
    kui(
        &data.path().join("data"),
        &["serve", "--jwt-secret", "short", "--addr", "127.0.0.1:0"],
    )
    .fails_with(2, "at least 32 bytes");
    kui(
        &data.path().join("data"),
        &["serve", "--jwt-secret", &secret, "--access-ack", "eventually"],
    )
    .fails_with(2, "possible values: synced, written");
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    use std::io::Read;
    let dir = small_data();
    let data = dir.path().join("data");
    for args in [&["export"][..], &["report", "alarms", "--json"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kui"))
            .arg("--data")
            .arg(&data)
            .args(args)
            .env_remove("KUI_DATA")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 64];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader is gone (like `head`): the pipe is closed.
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            output.status.code() == Some(141) || output.status.success(),
            "{args:?}: {:?} {stderr}",
            output.status
        );
    }
}
