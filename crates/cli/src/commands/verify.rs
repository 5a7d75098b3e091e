//! `kui verify` and `kui tick`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Result};
use kui_engine::{Engine, EngineError, RandomIds};
use kui_log::{EventLog, LogError};
use kui_log_segment::OpenError;

use crate::cli::TickArgs;
use crate::{open, progress};

/// Checks the event log (every stored byte, the chain, the invariants) and the access log
/// (every stored byte, the chain), through read-only opens: no file is written, and a
/// running server is no obstacle.
pub fn verify(data: &Path, now: Option<&str>) -> Result<ExitCode> {
    if open::is_fresh(data) {
        bail!("{} holds no kui log", data.display());
    }
    let mut failed = false;
    for (what, path) in open::logs(data) {
        let log = match kui_log_segment::SegmentLog::open_read_only(&path) {
            Ok(log) => Arc::new(log),
            Err(OpenError::Log(LogError::Corrupt { position, reason })) => {
                report_failure(what, position, &reason);
                failed = true;
                continue;
            }
            Err(error) => return Err(open::explain(&path, error)),
        };
        if let Some(found) = log.interrupted() {
            println!("note: {}", open::describe_interrupted(&path, found));
        }
        let total = log.head()?.map_or(0, |(position, _)| position.0);
        let bar = progress::events(total, "verifying");
        let result = if what == "event log" {
            // Verification reads no personal field: an empty key store is enough.
            let keys = Arc::new(kui_engine::keys::KeyStore::in_memory()?);
            let engine = Engine::new(log.clone(), keys, open::clock(now)?, Arc::new(RandomIds));
            engine
                .verify(&mut |stage, position| {
                    bar.set_message(stage);
                    bar.set_position(position);
                })
                .map(|verified| {
                    format!(
                        "{} events in {} streams; {} young people and {} meetings satisfy every invariant; head {}",
                        verified.log.events,
                        verified.log.streams,
                        verified.youth,
                        verified.meetings,
                        head_text(verified.log.head)
                    )
                })
        } else {
            log.verify(&mut |position| bar.set_position(position))
                .map(|verified| {
                    format!(
                        "{} records of reads in {} streams; head {}",
                        verified.events,
                        verified.streams,
                        head_text(verified.head)
                    )
                })
                .map_err(EngineError::from)
        };
        bar.finish_and_clear();
        match result {
            Ok(summary) => println!("ok: {what}: {summary}"),
            Err(EngineError::Log(LogError::Corrupt { position, reason })) => {
                report_failure(what, position, &reason);
                failed = true;
            }
            Err(EngineError::Invariant { position, reason }) => {
                report_failure(what, Some(position), &reason);
                failed = true;
            }
            Err(EngineError::Decode { position, source }) => {
                report_failure(what, Some(position), &source.to_string());
                failed = true;
            }
            Err(other) => return Err(other.into()),
        }
    }
    if failed {
        eprintln!("nothing was changed; `kui repair` shows what cutting the damage would lose");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn report_failure(what: &str, position: Option<u64>, reason: &str) {
    match position {
        Some(position) => eprintln!("FAILED: {what} at position {position}: {reason}"),
        None => eprintln!("FAILED: {what}: {reason}"),
    }
}

fn head_text(head: Option<(kui_log::Position, [u8; 32])>) -> String {
    head.map_or_else(
        || "-".into(),
        |(position, hash)| format!("{} ({})", position.0, kui_engine::history::hex(&hash)),
    )
}

pub fn tick(data: &Path, now: Option<&str>, args: TickArgs) -> Result<ExitCode> {
    if open::is_fresh(data) {
        bail!("{} holds no kui log", data.display());
    }
    let (engine, _log) = open::engine(data, now)?;
    let as_of = args.as_of.unwrap_or_else(|| engine.now().date_naive());
    let bar = progress::spinner("scanning");
    let report = engine.tick(as_of, &mut |position| bar.set_position(position))?;
    bar.finish_and_clear();
    println!(
        "tick as of {as_of}: {} turned 18, {} aged out, {} already recorded ({} open cases)",
        report.turned_eighteen, report.aged_out, report.already_recorded, report.open_cases
    );
    if args.no_retention {
        return Ok(ExitCode::SUCCESS);
    }
    let bar = progress::spinner("retention");
    let retention = engine.retention(as_of, args.archive_dir.as_deref(), &mut |position| {
        bar.set_position(position)
    })?;
    bar.finish_and_clear();
    println!(
        "retention as of {as_of}: {} erased, {} kept by a legal hold, {} not yet due, {} erased before",
        retention.erased.len(),
        retention.held.len(),
        retention.not_due,
        retention.already_erased
    );
    for (youth, due) in &retention.erased {
        println!("  erased {youth} (due {due})");
    }
    for (youth, reason) in &retention.held {
        println!("  held   {youth} ({reason})");
    }
    if !retention.without_key.is_empty() {
        println!(
            "  {} due case(s) have no key in this key store (recorded before personal data was sealed, or imported without the key store) and were not erased",
            retention.without_key.len()
        );
    }
    for dir in &retention.archived {
        println!("  archive copy in {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
