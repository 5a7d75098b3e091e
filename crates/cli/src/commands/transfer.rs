//! `kui export` and `kui import`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{ExportArgs, ImportArgs};
use crate::{open, progress};

pub fn export(data: &Path, now: Option<&str>, args: ExportArgs) -> Result<ExitCode> {
    if open::is_fresh(data) {
        anyhow::bail!("{} holds no kui log", data.display());
    }
    let (engine, log) = open::engine(data, now)?;
    let total = kui_log::EventLog::head(log.as_ref())?.map(|(p, _)| p.0).unwrap_or(0);
    let bar = progress::events(total, "exporting");
    let written = match &args.out {
        Some(path) => {
            let mut file =
                BufWriter::new(File::create(path).with_context(|| format!("cannot create {}", path.display()))?);
            let written = engine.export_ndjson(&mut file, &mut |n| bar.set_position(n))?;
            file.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
            file.get_ref()
                .sync_all()
                .with_context(|| format!("cannot sync {}", path.display()))?;
            written
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let written = engine.export_ndjson(&mut out, &mut |n| bar.set_position(n))?;
            out.flush().context("cannot write to standard output")?;
            written
        }
    };
    bar.finish_and_clear();
    if let Some(path) = &args.out {
        eprintln!("exported {written} events to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn import(data: &Path, now: Option<&str>, args: ImportArgs) -> Result<ExitCode> {
    let file = File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let (engine, _log) = open::engine(data, now)?;
    let bar = progress::events(size, "importing");
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {bytes}/{total_bytes}  {bytes_per_sec}  eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let imported = engine
        .import_ndjson(&mut BufReader::new(file), &mut |stage, bytes| {
            bar.set_message(stage);
            bar.set_position(bytes);
        })
        .with_context(|| format!("cannot import {} (nothing was written)", args.file.display()))?;
    bar.finish_and_clear();
    println!(
        "imported {imported} events from {}; the chain verifies",
        args.file.display()
    );
    Ok(ExitCode::SUCCESS)
}
