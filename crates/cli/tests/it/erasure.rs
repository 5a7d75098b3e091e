//! Erasure through the real binary: nothing personal of the person left in the data
//! directory or a new export, others untouched, the chain still verifying.

use std::fs;
use std::path::Path;

use crate::helpers::kui;

fn every_file(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            every_file(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The files of `dir` holding `needle` (as bytes).
fn holding(dir: &Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    every_file(dir, &mut files);
    files
        .into_iter()
        .filter(|file| {
            fs::read(file)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

fn referred(data: &Path) -> Vec<String> {
    let export = kui(data, &["export"]).ok();
    export
        .stdout
        .lines()
        .filter(|l| l.contains("\"YouthReferred\""))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["payload"]["youth_id"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn an_erased_person_is_found_nowhere_in_the_data_directory_and_the_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let generated = kui(&data, &["generate", "--preset", "small"]).ok();
    assert!(generated.stderr.contains("master key"), "{}", generated.stderr);
    let people = referred(&data);
    let (target, other) = (&people[0], &people[1]);
    let opened = |id: &str| -> serde_json::Value {
        serde_json::from_str(&kui(&data, &["history", id, "--json"]).ok().stdout).unwrap()
    };
    let before = opened(target);
    let name = before["state"]["name"].as_str().unwrap().to_owned();
    let cpr = before["entries"][0]["payload"]["cpr"].as_str().unwrap().to_owned();
    let other_name = opened(other)["state"]["name"].as_str().unwrap().to_owned();
    let stats_before = kui(&data, &["report", "stats", "--json"]).ok().stdout;
    // Personal values are sealed from the start: neither is in any file in clear.
    assert!(holding(&data, &cpr).is_empty());

    let erased = kui(
        &data,
        &[
            "erase",
            target,
            "--reason",
            "the young person asked",
            "--authority",
            "GDPR art. 17",
        ],
    )
    .ok();
    assert!(erased.stdout.contains("PersonalDataErased"), "{}", erased.stdout);
    kui(&data, &["verify"]).ok();

    // Nothing personal of theirs anywhere: log, index, read-model snapshots, key store.
    let history = kui(&data, &["history", target, "--json"]).ok().stdout;
    for needle in [name.as_str(), cpr.as_str()] {
        assert!(!history.contains(needle), "{needle} in the history after erasure");
        let export = kui(&data, &["export"]).ok().stdout;
        assert!(!export.contains(needle), "{needle} in a new export");
    }
    assert!(history.contains("(erased)"));
    let by_cpr = kui(&data, &["history", &cpr]);
    assert_ne!(by_cpr.code, 0, "the CPR lookup is gone");
    // Others are untouched; statistics still count the erased case.
    assert_eq!(opened(other)["state"]["name"].as_str(), Some(other_name.as_str()));
    assert_eq!(kui(&data, &["report", "stats", "--json"]).ok().stdout, stats_before);

    let report = kui(&data, &["erasure-report", target]).ok();
    assert!(
        report.stdout.contains("key in the key store: erased"),
        "{}",
        report.stdout
    );
    assert!(
        report.stdout.contains("every hash recomputes and links: yes"),
        "{}",
        report.stdout
    );

    // A second erasure is refused and writes nothing.
    let again = kui(&data, &["erase", target, "--reason", "again"]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("erased"), "{}", again.stderr);

    // An export with the erased person, imported into a new data directory: the chain
    // verifies, the erasure is there, and the person stays erased (the new key store has
    // no key for anyone in it).
    let file = dir.path().join("export.ndjson");
    kui(&data, &["export", "-o", file.to_str().unwrap()]).ok();
    let moved = dir.path().join("moved");
    kui(&moved, &["import", file.to_str().unwrap()]).ok();
    kui(&moved, &["verify"]).ok();
    let history = kui(&moved, &["history", target, "--json"]).ok().stdout;
    assert!(history.contains("PersonalDataErased"));
    assert!(!history.contains(&name) && !history.contains(&cpr));
    let report = kui(&moved, &["erasure-report", target]).ok();
    assert!(
        report.stdout.contains("key in the key store: unknown"),
        "{}",
        report.stdout
    );
}

#[test]
fn ids_are_not_derived_from_the_cpr_number() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    kui(&data, &["generate", "--preset", "small"]).ok();
    let people = referred(&data);
    let opened: serde_json::Value =
        serde_json::from_str(&kui(&data, &["history", &people[0], "--json"]).ok().stdout).unwrap();
    let cpr = opened["entries"][0]["payload"]["cpr"].as_str().unwrap().to_owned();
    // The namespace earlier builds derived ids from.
    let derived = uuid::Uuid::new_v5(
        &uuid::Uuid::from_u128(0x6b75_692d_796f_7574_682d_6e73_2d76_3100),
        cpr.as_bytes(),
    );
    assert_ne!(people[0], derived.to_string());
}

#[test]
fn a_wrong_or_missing_master_key_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    kui(&data, &["generate", "--preset", "small"]).ok();
    let wrong = dir.path().join("wrong.key");
    fs::write(&wrong, format!("kui master key v1\n{}\n", "ab".repeat(32))).unwrap();
    let refused = kui(&data, &["--master-key-file", wrong.to_str().unwrap(), "summary"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("master key"), "{}", refused.stderr);
    let missing = dir.path().join("missing.key");
    let refused = kui(&data, &["--master-key-file", missing.to_str().unwrap(), "summary"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("no master key"), "{}", refused.stderr);
    // The key store removed beside a log with sealed data is refused, not recreated.
    fs::remove_dir_all(data.join("keys")).unwrap();
    let refused = kui(&data, &["summary"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("no key store"), "{}", refused.stderr);
}

/// `kui erase` killed (SIGKILL) at moments spread over its run: afterwards each person is
/// erased everywhere or not at all, a retry completes the erasure, and the log verifies.
#[test]
fn an_erasure_killed_at_any_moment_is_all_or_nothing_and_a_retry_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    kui(&data, &["generate", "--preset", "small"]).ok();
    let people = referred(&data);
    let erase_command = |youth: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kui"));
        command
            .arg("--data")
            .arg(&data)
            .arg("--now")
            .arg(crate::helpers::NOW)
            .args(["erase", youth, "--reason", "retention test"])
            .env_remove("KUI_DATA")
            .env_remove("KUI_NOW")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    };
    // How long one erasure takes from start to exit, to spread the kills over it.
    let started = std::time::Instant::now();
    assert!(erase_command(&people[0]).status().unwrap().success());
    let whole = started.elapsed().as_micros() as u64;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut killed_midway = 0;
    for youth in people.iter().skip(1).take(24) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = seed % whole.max(1);
        let mut child = erase_command(youth).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_micros(delay));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        // The next open finishes a begun erasure whose event is in the log, or abandons it.
        let report: serde_json::Value =
            serde_json::from_str(&kui(&data, &["erasure-report", youth, "--json"]).ok().stdout).unwrap();
        let recorded = !report["erasure"].is_null();
        let key = report["key"].as_str().unwrap().to_owned();
        assert!(
            (recorded && key == "erased") || (!recorded && key == "present"),
            "half an erasure after a kill at {delay} us: recorded {recorded}, key {key}"
        );
        if recorded && !finished {
            killed_midway += 1;
        }
        if !recorded {
            kui(&data, &["erase", youth, "--reason", "retry"]).ok();
        }
        let history = kui(&data, &["history", youth, "--json"]).ok().stdout;
        assert!(history.contains("(erased)"), "{youth} is not erased after the retry");
    }
    kui(&data, &["verify"]).ok();
    // Not asserted (timing decides), but reported: kills that landed after the event.
    eprintln!("{killed_midway} of 24 kills landed after the erasure event was durable");
}

#[test]
fn a_subject_access_report_lists_the_case_and_every_read_with_its_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    kui(&data, &["generate", "--preset", "small"]).ok();
    let people = referred(&data);
    // The summary's examples are named: opened under each young person's key.
    let summary = kui(&data, &["summary"]).ok().stdout;
    let example = summary
        .lines()
        .find(|line| line.contains(", referred "))
        .unwrap_or_else(|| panic!("no example in {summary}"));
    assert!(
        !example.contains("  , referred"),
        "an example without a name: {example}"
    );
    let out = dir.path().join("report.json");
    let by = "0190f000-0000-7000-8000-0000000000a1";
    let written = kui(
        &data,
        &["subject-access", &people[0], "-o", out.to_str().unwrap(), "--by", by],
    )
    .ok();
    assert!(written.stdout.contains("subject access report"), "{}", written.stdout);
    let report: serde_json::Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert!(report["case"]["name"].is_string());
    assert!(!report["events"].as_array().unwrap().is_empty());
    // A second report lists the first as a read, for subject access, without staff ids.
    kui(
        &data,
        &["subject-access", &people[0], "-o", out.to_str().unwrap(), "--by", by],
    )
    .ok();
    let again: serde_json::Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    let reads = again["reads"].as_array().unwrap();
    assert_eq!(reads.len(), 1, "{again}");
    assert_eq!(reads[0]["purpose"], "subject_access");
    assert!(reads[0].get("staff_id").is_none());
    kui(
        &data,
        &[
            "subject-access",
            &people[0],
            "-o",
            out.to_str().unwrap(),
            "--by",
            by,
            "--include-staff",
        ],
    )
    .ok();
    let named: serde_json::Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(named["reads"][0]["staff_id"], by);
    // The readable text for the young person.
    let text_file = dir.path().join("report.txt");
    kui(
        &data,
        &[
            "subject-access",
            &people[0],
            "-o",
            text_file.to_str().unwrap(),
            "--by",
            by,
        ],
    )
    .ok();
    let text = fs::read_to_string(&text_file).unwrap();
    assert!(text.contains("Who read your case, when and why"), "{text}");
    assert!(text.contains("subject_access"), "{text}");
    assert!(text.contains(report["case"]["name"].as_str().unwrap()));
}
