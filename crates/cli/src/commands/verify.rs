//! `kui verify` and `kui tick`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use kui_engine::EngineError;
use kui_log::LogError;

use crate::cli::TickArgs;
use crate::{open, progress};

pub fn verify(data: &Path, now: Option<&str>) -> Result<ExitCode> {
    if open::is_fresh(data) {
        bail!("{} holds no kui log", data.display());
    }
    let (engine, log) = open::engine(data, now)?;
    let total = kui_log::EventLog::head(log.as_ref())?.map(|(p, _)| p.0).unwrap_or(0);
    let bar = progress::events(total, "verifying");
    let result = engine.verify(&mut |stage, position| {
        bar.set_message(stage);
        bar.set_position(position);
    });
    bar.finish_and_clear();
    match result {
        Ok(verified) => {
            let head = verified
                .log
                .head
                .map(|(p, h)| format!("{} ({})", p.0, kui_engine::history::hex(&h)));
            println!(
                "ok: {} events in {} streams; {} young people and {} meetings satisfy every invariant; head {}",
                verified.log.events,
                verified.log.streams,
                verified.youth,
                verified.meetings,
                head.unwrap_or_else(|| "-".into())
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(EngineError::Log(LogError::Corrupt {
            position: Some(position),
            reason,
        })) => {
            eprintln!("FAILED at position {position}: {reason}");
            Ok(ExitCode::from(1))
        }
        Err(EngineError::Invariant { position, reason }) => {
            eprintln!("FAILED at position {position}: {reason}");
            Ok(ExitCode::from(1))
        }
        Err(EngineError::Decode { position, source }) => {
            eprintln!("FAILED at position {position}: {source}");
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(other.into()),
    }
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
    Ok(ExitCode::SUCCESS)
}
