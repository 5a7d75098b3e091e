//! `kui erase`, `kui erasure-report`, `kui legal-hold`, `kui archive`, `kui migrate`,
//! `kui subject-access`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use kui_domain::{CaseCommand, StaffId, YouthCommand, YouthId};
use kui_engine::{Actor, Command, CommandContext, Erasure, Role};

use crate::cli::{ArchiveArgs, EraseArgs, LegalHoldArgs, MigrateArgs, SubjectAccessArgs, YouthArg};
use crate::open;
use crate::progress;

fn youth(text: &str) -> Result<YouthId> {
    text.parse::<YouthId>()
        .map_err(|_| anyhow::anyhow!("{text:?} is not a youth id (a uuid, or youth-<uuid>)"))
}

fn staff(text: &str) -> Result<StaffId> {
    text.parse::<StaffId>()
        .map_err(|_| anyhow::anyhow!("{text:?} is not a staff id (a uuid, or staff-<uuid>)"))
}

fn existing(data: &Path) -> Result<()> {
    if open::is_fresh(data) {
        bail!("{} holds no kui log", data.display());
    }
    Ok(())
}

/// `kui erase`: the engine's erasure, reported.
pub fn erase(data: &Path, now: Option<&str>, args: EraseArgs) -> Result<ExitCode> {
    existing(data)?;
    let youth = youth(&args.youth)?;
    let (engine, log) = open::engine(data, now)?;
    // The timeline read model knows which meetings hold data about the young person.
    let engine = engine.with_read_models(open::read_models(data, log, None)?);
    let by = args.by.as_deref().map(staff).transpose()?;
    let actor = match by {
        Some(staff) => Actor {
            staff: Some(staff),
            role: Role::Admin,
            department: None,
        },
        None => Actor::system(),
    };
    let erasure = Erasure {
        erased_by: by.map_or_else(|| "operator".to_owned(), |s| s.to_string()),
        reason: args.reason,
        authority: args.authority,
        streams: Vec::new(),
    };
    let erased = engine
        .erase(youth, erasure, &CommandContext::by(actor))
        .with_context(|| format!("cannot erase young person {youth}"))?;
    println!(
        "erased the personal data of young person {youth}{}: PersonalDataErased at position {}; key and CPR lookup destroyed ({} bytes of the key store rewritten); {} stream(s) reached: {}",
        if erased.resumed { " (finishing an interrupted erasure)" } else { "" },
        erased.position,
        erased.key_store_bytes,
        erased.streams.len(),
        erased.streams.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// `kui erasure-report`.
pub fn report(data: &Path, now: Option<&str>, args: YouthArg) -> Result<ExitCode> {
    existing(data)?;
    let youth = youth(&args.youth)?;
    let (engine, _log) = open::engine(data, now)?;
    let report = engine.erasure_report(youth)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("young person {youth}");
    match &report.erasure {
        Some(e) => println!(
            "  erased at position {} on {} by {}: {} (authority: {}); streams: {}",
            e.position,
            e.recorded_at.format("%Y-%m-%d %H:%M:%S UTC"),
            e.erased_by,
            e.reason,
            if e.authority.is_empty() { "-" } else { &e.authority },
            e.streams.join(", ")
        ),
        None => println!("  not erased"),
    }
    println!("  key in the key store: {}", report.key);
    for event in &report.events {
        println!(
            "  {:>9}  {:<32} {:<28} {}  {}",
            event.position,
            event.stream,
            event.event_type,
            event.hash,
            if event.recomputes { "ok" } else { "DOES NOT RECOMPUTE" }
        );
    }
    println!(
        "  {} events; every hash recomputes and links: {}; log head {}",
        report.events.len(),
        if report.chain_verified { "yes" } else { "NO" },
        report.head_hash.as_deref().unwrap_or("-")
    );
    Ok(if report.chain_verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `kui legal-hold`.
pub fn legal_hold(data: &Path, now: Option<&str>, args: LegalHoldArgs) -> Result<ExitCode> {
    existing(data)?;
    let youth = youth(&args.youth)?;
    let by = staff(&args.by)?;
    let (engine, _log) = open::engine(data, now)?;
    let command = if args.action == "place" {
        CaseCommand::PlaceLegalHold {
            placed_by: by,
            reason: args.reason,
        }
    } else {
        CaseCommand::LiftLegalHold {
            lifted_by: by,
            reason: args.reason,
        }
    };
    let context = CommandContext::by(Actor {
        staff: Some(by),
        role: Role::Admin,
        department: None,
    });
    let executed = engine.execute(Command::Youth(youth, YouthCommand::Case(command)), &context)?;
    println!(
        "legal hold {} for young person {youth} (position {})",
        if args.action == "place" { "placed" } else { "lifted" },
        executed.position
    );
    Ok(ExitCode::SUCCESS)
}

/// `kui archive`.
pub fn archive(data: &Path, now: Option<&str>, args: ArchiveArgs) -> Result<ExitCode> {
    existing(data)?;
    let youth = youth(&args.youth)?;
    let (engine, _log) = open::engine(data, now)?;
    let manifest = engine.archive(youth, &args.out)?;
    println!(
        "wrote the archive copy of young person {youth}: {} events in {} (sha256 {})",
        manifest.events,
        args.out.join(youth.to_string()).display(),
        manifest.events_sha256
    );
    Ok(ExitCode::SUCCESS)
}

/// `kui migrate`: the old directory read only, the new one created with its key store.
pub fn migrate(data: &Path, now: Option<&str>, args: MigrateArgs) -> Result<ExitCode> {
    if !open::is_fresh(data) {
        bail!(
            "{} is not empty: a migration writes into a new data directory",
            data.display()
        );
    }
    let source =
        kui_log_segment::SegmentLog::open_read_only(&args.from).map_err(|error| open::explain(&args.from, error))?;
    let total = kui_log::EventLog::head(&source)?.map_or(0, |(position, _)| position.0);
    let (engine, _log) = open::engine(data, now)?;
    let bar = progress::events(total, "migrating");
    let migrated = engine
        .migrate_from(&source, &mut |position| bar.set_position(position))
        .with_context(|| format!("cannot migrate {}", args.from.display()))?;
    bar.finish_and_clear();
    println!(
        "migrated {} events of {} young people from {} into {}: {} events sealed, every young person under a new random id; the new log has its own hash chain",
        migrated.events,
        migrated.youth,
        args.from.display(),
        data.display(),
        migrated.sealed
    );
    println!(
        "note: {} still holds the personal data in clear: keep it as the archive's copy or dispose of it as the archive's rules say",
        args.from.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `kui subject-access`: the case, every event with its personal fields, the plan
/// history, the decisions and every read, as JSON; the report is recorded as a read.
pub fn subject_access(data: &Path, now: Option<&str>, args: SubjectAccessArgs) -> Result<ExitCode> {
    existing(data)?;
    let by = staff(&args.by)?;
    let (engine, log) = open::engine(data, now)?;
    let engine = engine.with_read_models(open::read_models(data, log, None)?);
    let youth = super::history::parse_youth(&engine, &args.youth)?;
    let history = engine.history(youth, None)?;
    let access = kui_api::access_log::AccessLog::new(
        open::access_log(data, kui_log_segment::Acknowledge::Synced)?,
        open::clock(now)?,
    );
    let reads = access.read(youth).map_err(|e| anyhow::anyhow!("{e}"))?;
    let principal = kui_api::auth::Principal {
        staff: by,
        role: Role::Admin,
        department: kui_domain::values::Department::Other,
        municipality: None,
        purposes: None,
    };
    let stated = kui_api::need_to_know::Stated {
        purpose: kui_api::need_to_know::Purpose::SubjectAccess,
        reason: None,
    };
    let all = kui_api::need_to_know::Class::ALL;
    access
        .record(
            &principal,
            &kui_api::access_log::Read::of("subjectAccessReport", &stated, &all, &[]),
            &[youth],
        )
        .map_err(|e| anyhow::anyhow!("the report could not be recorded as a read, so it was not written: {e}"))?;
    let of_type = |name: &str| -> Vec<&kui_engine::history::HistoryEntry> {
        history.entries.iter().filter(|e| e.event_type == name).collect()
    };
    let read_rows: Vec<serde_json::Value> = reads
        .iter()
        .filter(|record| record.read.refused.is_none())
        .map(|record| {
            let mut row = serde_json::json!({
                "at": record.read.at,
                "purpose": record.read.purpose,
                "operation": record.read.operation,
                "department": record.read.department,
            });
            if args.include_staff {
                row["staff_id"] = serde_json::Value::String(record.read.staff_id.clone());
            }
            row
        })
        .collect();
    let report = serde_json::json!({
        "youth_id": youth,
        "generated_at": engine.now(),
        "case": history.state,
        "events": history.entries,
        "plan_history": of_type("PlanUpdated"),
        "decisions": of_type("DecisionRecorded"),
        "reads": read_rows,
    });
    let text = if args.out.extension().is_some_and(|ext| ext == "txt") {
        readable(&report).into_bytes()
    } else {
        let mut text = serde_json::to_vec_pretty(&report)?;
        text.push(b'\n');
        text
    };
    std::fs::write(&args.out, text).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "wrote the subject access report of young person {youth} to {}: {} events, {} plan revisions, {} decisions, {} reads of the case",
        args.out.display(),
        history.entries.len(),
        of_type("PlanUpdated").len(),
        of_type("DecisionRecorded").len(),
        read_rows.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// A subject access report as text for the young person: the case, what happened, and who
/// (by department) read the case when and why.
fn readable(report: &serde_json::Value) -> String {
    use std::fmt::Write as _;
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let mut out = String::new();
    let case = &report["case"];
    let _ = writeln!(out, "What the municipality's youth effort holds about you");
    let _ = writeln!(out, "(made {})", text(&report["generated_at"]));
    let _ = writeln!(out);
    let _ = writeln!(out, "Your case");
    for (label, key) in [
        ("Name", "name"),
        ("Birth date", "birth_date"),
        ("Status", "status"),
        ("Need level", "need_level"),
        ("Team", "team"),
        ("School", "school_status"),
        ("Coordinator", "coordinator"),
        ("Plan", "plan"),
        ("Destination", "destination"),
    ] {
        let _ = writeln!(out, "  {label:<12} {}", text(&case[key]));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "What was recorded, in order");
    for entry in report["events"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {}  {}",
            text(&entry["occurred_at"]).get(..10).unwrap_or_default(),
            text(&entry["summary"])
        );
        let payload = &entry["payload"];
        for key in ["note", "reason"] {
            if let Some(value) = payload[key].as_str().filter(|v| !v.is_empty()) {
                let _ = writeln!(out, "              {key}: {value}");
            }
        }
        if let Some(goals) = payload["plan"]["goals"].as_array() {
            for goal in goals {
                let _ = writeln!(out, "              goal: {}", text(goal));
            }
        }
        for action in payload["plan"]["actions"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "              action: {}", text(&action["description"]));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Who read your case, when and why");
    for read in report["reads"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {}  {:<22} {:<20} {}{}",
            text(&read["at"]).get(..16).unwrap_or_default().replace('T', " "),
            text(&read["purpose"]),
            text(&read["department"]),
            text(&read["operation"]),
            read.get("staff_id")
                .map(|s| format!("  ({})", text(s)))
                .unwrap_or_default()
        );
    }
    out
}
