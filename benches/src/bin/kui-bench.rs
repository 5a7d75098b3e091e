//! kui-bench: the reproducible performance report.
//!
//! ```text
//! kui-bench append  [--writers N] [--events N] [--workload FILE] [--dir DIR]
//! kui-bench replay  [--preset NAME] [--dir DIR]
//! kui-bench history [--preset NAME] [--dir DIR] [--samples N]
//! kui-bench all     [--dir DIR]        sonderborg and national (5,000,000 events)
//! ```
//! Durable appends (fsync on) of single-event commands from N threads; full replay
//! decoding and folding every event; one young person's stream read and full history.
//! Data directories are kept under --dir (default target/kui-bench) so a second run
//! reuses the generated presets.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kui_benches::{ensure_preset, fold_all, open_log, percentile, read_workload, request, synthetic_workload};
use kui_domain::{Youth, YouthId};
use kui_fixtures::Preset;
use kui_log::{EventLog, Position};

/// The allocator of the `kui` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    writers: usize,
    events: usize,
    workload: Option<PathBuf>,
    dir: PathBuf,
    preset: String,
    samples: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first().cloned() else {
        eprintln!("usage: kui-bench append|replay|history|all [options]; see the source's header");
        std::process::exit(2);
    };
    let options = match parse(&args[1..]) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    let result = match command.as_str() {
        "append" => append(&options, options.writers),
        "replay" => replay(&options, &options.preset),
        "history" => history(&options, &options.preset),
        "all" => all(&options),
        other => Err(format!("unknown command {other:?}")),
    };
    if let Err(message) = result {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        writers: 64,
        events: 200_000,
        workload: None,
        dir: PathBuf::from("target/kui-bench"),
        preset: "sonderborg".into(),
        samples: 2_000,
    };
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let value = iter.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag} {value:?} is not a number"))
        };
        match flag.as_str() {
            "--writers" => options.writers = number()?.max(1),
            "--events" => options.events = number()?,
            "--samples" => options.samples = number()?.max(1),
            "--workload" => options.workload = Some(PathBuf::from(value)),
            "--dir" => options.dir = PathBuf::from(value),
            "--preset" => options.preset = value.clone(),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(options)
}

fn all(options: &Options) -> Result<(), String> {
    append(options, 1)?;
    append(options, 64)?;
    for preset in ["sonderborg", "national"] {
        replay(options, preset)?;
        history(options, preset)?;
    }
    Ok(())
}

/// Durable single-event appends from `writers` threads, each to its own streams.
fn append(options: &Options, writers: usize) -> Result<(), String> {
    let events = if writers == 1 {
        options.events.min(20_000)
    } else {
        options.events
    };
    let workload = match &options.workload {
        Some(path) => read_workload(path, events)?,
        None => synthetic_workload(events, 10_000),
    };
    let dir = options.dir.join(format!("append-{writers}"));
    let _ = std::fs::remove_dir_all(&dir);
    let log = open_log(&dir).map_err(|e| e.to_string())?;
    // Each writer owns the streams whose index falls to it, so versions stay in order per stream.
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); writers];
    let mut lane_of_stream = std::collections::HashMap::new();
    for (idx, event) in workload.iter().enumerate() {
        let next = lane_of_stream.len() % writers;
        let lane = *lane_of_stream.entry(event.stream.clone()).or_insert(next);
        lanes[lane].push(idx);
    }
    let workload = Arc::new(workload);
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = lanes
        .into_iter()
        .map(|lane| {
            let log = log.clone();
            let workload = workload.clone();
            let done = done.clone();
            std::thread::spawn(move || -> Result<Vec<f64>, String> {
                let mut latencies = Vec::with_capacity(lane.len());
                for idx in lane {
                    let request = request(&workload[idx], idx as u128 + 1).map_err(|e| e.to_string())?;
                    let t0 = Instant::now();
                    log.append(request).map_err(|e| e.to_string())?;
                    latencies.push(t0.elapsed().as_secs_f64() * 1e3);
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(events);
    for thread in threads {
        latencies.extend(thread.join().map_err(|_| "writer panicked".to_string())??);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    println!(
        "RESULT append writers={writers} events={} secs={seconds:.3} events_per_s={:.0} p50_ms={:.2} p99_ms={:.2}",
        done.load(Ordering::Relaxed),
        done.load(Ordering::Relaxed) as f64 / seconds,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    let stats = log.write_stats();
    println!(
        "RESULT append-groups groups={} syncs={} events_per_sync={:.1} sync_us={:.0}",
        stats.groups,
        stats.syncs,
        stats.events as f64 / stats.syncs.max(1) as f64,
        stats.sync_micros as f64 / stats.syncs.max(1) as f64
    );
    let verify_started = Instant::now();
    let report = log.verify(&mut |_| {}).map_err(|e| e.to_string())?;
    println!(
        "RESULT append-verify events={} secs={:.3}",
        report.events,
        verify_started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn preset_dir(options: &Options, preset: &str) -> PathBuf {
    options.dir.join(preset.replace(':', "-"))
}

fn load(options: &Options, preset_name: &str) -> Result<(Arc<kui_log_segment::SegmentLog>, u64), String> {
    let preset = Preset::by_name(preset_name).ok_or_else(|| format!("unknown preset {preset_name}"))?;
    let dir = preset_dir(options, preset_name);
    let started = Instant::now();
    let (log, events, loaded) = ensure_preset(&dir, &preset)?;
    if loaded {
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "RESULT load preset={preset_name} events={events} secs={seconds:.3} events_per_s={:.0}",
            events as f64 / seconds
        );
    }
    Ok((log, events))
}

/// Full replay: scan only, then scan + decode + fold into aggregates.
fn replay(options: &Options, preset: &str) -> Result<(), String> {
    let (log, _) = load(options, preset)?;
    let started = Instant::now();
    let scanned = log
        .scan(Position(1), Position(u64::MAX), &mut |_| ControlFlow::Continue(()))
        .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "RESULT scan preset={preset} events={scanned} secs={seconds:.3} events_per_s={:.0}",
        scanned as f64 / seconds
    );
    let started = Instant::now();
    let mut decoded = 0u64;
    log.scan(Position(1), Position(u64::MAX), &mut |envelope| {
        if kui_domain::Event::decode(&envelope.event_type, envelope.schema_version, &envelope.payload).is_ok() {
            decoded += 1;
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "RESULT decode preset={preset} events={decoded} secs={seconds:.3} events_per_s={:.0}",
        decoded as f64 / seconds
    );
    let started = Instant::now();
    let folded = fold_all(log.as_ref(), 2)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "RESULT replay preset={preset} events={} youth={} secs={seconds:.3} events_per_s={:.0}",
        folded.events,
        folded.youth,
        folded.events as f64 / seconds
    );
    Ok(())
}

/// One young person: the stream read and aggregate fold (p50/p99), and the full cross-stream history.
fn history(options: &Options, preset: &str) -> Result<(), String> {
    let (log, _) = load(options, preset)?;
    let mut youth: Vec<YouthId> = Vec::new();
    log.scan(Position(1), Position(u64::MAX), &mut |envelope| {
        if envelope.event_type == "YouthReferred" {
            if let Some(id) = YouthId::from_stream_name(envelope.stream.as_str()) {
                youth.push(id);
            }
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| e.to_string())?;
    if youth.is_empty() {
        return Err("no young people in the log".into());
    }
    let engine = kui_benches::engine(log.clone(), kui_benches::keys(&preset_dir(options, preset))?);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        youth[(rng % youth.len() as u64) as usize]
    };
    let mut latencies = Vec::with_capacity(options.samples);
    for _ in 0..options.samples {
        let id = next();
        let t0 = Instant::now();
        engine.load::<Youth>(&id.stream_name()).map_err(|e| e.to_string())?;
        latencies.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "RESULT stream-read preset={preset} samples={} p50_us={:.1} p99_us={:.1}",
        options.samples,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    let samples = 20.min(options.samples);
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let id = next();
        let t0 = Instant::now();
        engine.history(id, None).map_err(|e| e.to_string())?;
        latencies.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "RESULT history preset={preset} samples={samples} p50_ms={:.1} p99_ms={:.1}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    Ok(())
}
