//! `kui demo`, `kui generate`, `kui summary`: a realistic municipality and what is in it.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use kui_engine::transfer::Summary;
use kui_engine::Engine;
use kui_fixtures::Preset;

use crate::cli::DemoArgs;
use crate::commands::demo_tokens;
use crate::commands::serve::{self, ServeConfig};
use crate::{open, progress};

pub fn demo(data: &Path, now: Option<&str>, args: &DemoArgs) -> Result<ExitCode> {
    if open::is_fresh(data) {
        generate(data, now, &args.preset)?;
    } else {
        println!(
            "reusing the log in {} (remove the directory to generate it again)",
            data.display()
        );
    }
    let (summary, tokens) = {
        let (engine, _log) = open::engine(data, now)?;
        let summary = print_summary(&engine)?;
        let tokens = if args.no_serve {
            Vec::new()
        } else {
            demo_tokens::ensure(&engine, data)?
        };
        (summary, tokens)
    };
    println!();
    if !args.no_serve {
        let secret = demo_tokens::secret(data)?;
        let token_file = data.join(demo_tokens::TOKEN_FILE);
        let config = ServeConfig {
            addr: args.addr,
            secret,
            token_file: Some(token_file),
            introspection: true,
            access_ack: args.access_ack.into(),
        };
        let example = summary.examples.first().map(|(id, _)| id.clone());
        return serve::run(data, now, config, |addr| {
            demo_tokens::announce(addr, data, &tokens, example.as_deref());
        });
    }
    println!("next steps (the binary is target/release/kui after `cargo build --release`):");
    println!(
        "  kui --data {} history <youth id or CPR>   replay one young person's history",
        data.display()
    );
    println!(
        "  kui --data {} verify                      check the hash chain and invariants",
        data.display()
    );
    println!(
        "  kui --data {} tick                        record birthdays due by today",
        data.display()
    );
    println!(
        "  kui --data {} export -o log.ndjson        export the whole log",
        data.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn generate(data: &Path, now: Option<&str>, preset_name: &str) -> Result<ExitCode> {
    let Some(preset) = Preset::by_name(preset_name) else {
        bail!("unknown preset {preset_name:?}: choose small, sonderborg, national or national:N (N events)");
    };
    if !open::is_fresh(data) {
        bail!(
            "{} is not empty: generate writes a whole municipality into a fresh data directory",
            data.display()
        );
    }
    let (engine, log) = open::engine(data, now)?;
    let started = Instant::now();
    let bar = progress::spinner(&format!("generating {}", preset.name));
    let stats = kui_fixtures::load(log.as_ref(), engine.keys(), &preset, &mut |events| {
        bar.set_position(events)
    })
    .with_context(|| format!("cannot generate the {} preset", preset.name))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "generated {} ({}): {} events from {} commands in {:.1} s ({:.0} events/s), {} young people, {} staff, {} meetings",
        preset.name,
        preset.municipality_name,
        stats.events,
        stats.commands,
        seconds,
        stats.events as f64 / seconds.max(1e-9),
        stats.youth,
        stats.staff,
        stats.meetings
    );
    Ok(ExitCode::SUCCESS)
}

pub fn summary(data: &Path, now: Option<&str>) -> Result<ExitCode> {
    if open::is_fresh(data) {
        bail!(
            "{} holds no kui log: run `kui demo` or `kui init` first",
            data.display()
        );
    }
    let (engine, _log) = open::engine(data, now)?;
    print_summary(&engine)?;
    Ok(ExitCode::SUCCESS)
}

fn print_summary(engine: &Engine) -> Result<Summary> {
    let bar = progress::spinner("reading");
    let summary = engine.summary(&mut |position| bar.set_position(position))?;
    bar.finish_and_clear();
    println!("events:        {}", summary.events);
    if let Some(hash) = &summary.head_hash {
        println!("head hash:     {hash}");
    }
    for municipality in &summary.municipalities {
        println!("municipality:  {municipality}");
    }
    println!("young people:  {} ({} open cases)", summary.youth, summary.open_cases);
    println!("staff:         {}", summary.staff);
    println!("meetings:      {}", summary.meetings);
    println!();
    println!("{:<34} {:>10}", "event type", "count");
    for (event_type, count) in &summary.by_type {
        println!("{event_type:<34} {count:>10}");
    }
    if !summary.examples.is_empty() {
        println!();
        println!("some young people (try `kui history <id>`):");
        for (id, description) in &summary.examples {
            println!("  {id}  {description}");
        }
    }
    Ok(summary)
}
