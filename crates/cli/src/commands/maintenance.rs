//! `kui repair`, `kui reindex` and `kui upgrade`: what an operator does with a data
//! directory the other commands refuse. None of them runs beside a server (each checks
//! the logs' locks first).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use kui_log_segment::repair::{self, RepairPlan};
use kui_log_segment::OpenError;

use crate::cli::RepairArgs;
use crate::open;

/// Shows what a repair of each log would cut and, confirmed, cuts it (keeping a copy).
///
/// Exit codes: 0 when nothing needed repair or the repair was made; 1 when damage was
/// found and left as it was (not confirmed).
pub fn repair(data: &Path, args: &RepairArgs) -> Result<ExitCode> {
    ensure_log(data)?;
    let mut left_damaged = false;
    for (what, path) in open::logs(data) {
        let plan = repair::inspect(&path).map_err(|error| open::explain(&path, error))?;
        let Some(plan) = plan else {
            println!("ok: {what}: nothing to repair");
            continue;
        };
        describe(what, &plan);
        if !confirmed(args.yes)? {
            println!("{what}: left as it was");
            left_damaged = true;
            continue;
        }
        let repaired = repair::repair(&plan).map_err(|error| busy(&path, error))?;
        println!("{what}: repaired; the log ends at position {}", repaired.head);
        for copy in &repaired.copies {
            println!("  kept: {}", copy.display());
        }
        if what == "event log" {
            // Read-model snapshots past the new head are discarded on the next open; say
            // so, since that open folds them again.
            println!("  the read models are brought up to the repaired log by the next command");
        }
    }
    Ok(if left_damaged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn describe(what: &str, plan: &RepairPlan) {
    println!("{what}: {}", plan.problem);
    match plan.cut_at {
        Some(at) => {
            println!(
                "  a repair cuts {} bytes from segment byte {at} on: position {} and everything after it{}",
                plan.cut_bytes,
                plan.kept_head + 1,
                plan.last_found
                    .map(|last| format!(" (intact events up to at least position {last} follow the damage)"))
                    .unwrap_or_default()
            );
            println!("  the log would end at position {}", plan.kept_head);
        }
        None => println!("  a repair rewrites the segment's header block; no event is cut"),
    }
    if let Some(last) = plan.acknowledged_to {
        println!(
            "  WARNING: positions {}..={last} were acknowledged as durable; restore them from a backup or an export if you have one",
            plan.kept_head + 1
        );
    }
}

/// Whether to go ahead: `--yes`, or "yes" typed on the terminal.
fn confirmed(yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        println!("  run `kui repair --yes` to cut it (the cut bytes are copied first)");
        return Ok(false);
    }
    print!("  cut it? a copy of the cut bytes is kept [type yes]: ");
    std::io::stdout().flush().context("writing the question")?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).context("reading the answer")?;
    Ok(answer.trim() == "yes")
}

/// Drops the derived index data of every log, then opens each (which rebuilds it).
pub fn reindex(data: &Path) -> Result<ExitCode> {
    ensure_log(data)?;
    for (what, path) in open::logs(data) {
        repair::reindex(&path).map_err(|error| busy(&path, error))?;
        let log = open::open_log(&path, kui_log_segment::LogOptions::durable())?;
        let head = kui_log::EventLog::head_position(&log)?;
        log.close().with_context(|| format!("closing {}", path.display()))?;
        println!("{what}: index rebuilt from the events (head {head})");
    }
    Ok(ExitCode::SUCCESS)
}

/// Converts every log of the data directory written in an earlier format.
pub fn upgrade(data: &Path) -> Result<ExitCode> {
    ensure_log(data)?;
    for (what, path) in open::logs(data) {
        match repair::upgrade(&path) {
            Ok(Some(upgraded)) => {
                println!(
                    "{what}: upgraded: {} events ({} bytes) copied into the current format",
                    upgraded.events, upgraded.bytes
                );
                if upgraded.interrupted_bytes > 0 {
                    println!(
                        "  an interrupted write at its end ({} bytes, never acknowledged) was left behind",
                        upgraded.interrupted_bytes
                    );
                }
            }
            Ok(None) => println!("{what}: already in the current format"),
            Err(error) => return Err(busy(&path, error)),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ensure_log(data: &Path) -> Result<()> {
    if open::is_fresh(data) {
        bail!("{} holds no kui log", data.display());
    }
    Ok(())
}

/// A maintenance error, with the usual cause named: a server has the log open.
fn busy(path: &Path, error: OpenError) -> anyhow::Error {
    open::explain(path, error)
}
