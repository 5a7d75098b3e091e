//! Quick throughput check of the log (not a benchmark suite; see `benches/`).
//!
//! ```text
//! cargo run --release -p kui-log-segment --example throughput -- [events] [threads] [--no-command-ids] [--no-fsync] [--dir PATH] [--cache-mb N] [--bulk N]
//! ```
//!
//! Appends `events` (default 200,000) single-event requests from `threads` (default 64)
//! threads, each to its own 20 streams, with fsync on; then scans, reads streams and
//! verifies. Payloads are ~300 bytes of JSON, like the shared baseline workload.
//! Every request carries a command id unless `--no-command-ids` is given; `--no-fsync`
//! builds a large log quickly to measure reads.
//! Without `--dir` a temporary directory is used; with `--dir` and 0 events, only the
//! reads of an existing log are measured. `--cache-mb` sets sled's cache (default 1024).
//! `--bulk N` then also loads N more events with `append_many` (batches of 10,000
//! single-event requests, one stream per 1,000 events) and reports the rate and the
//! log directory's size.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::DateTime;
use kui_log::{
    Actor, AppendRequest, EventLog, ExpectedVersion, Metadata, NewEvent, Position, StreamAppend, StreamId, Version,
};
use kui_log_segment::{LogOptions, SegmentLog};
use uuid::Uuid;

fn payload(n: u64) -> Vec<u8> {
    let mut text = format!(
        r#"{{"type":"PlanUpdated","youth_id":"{}","goal":"Attend school at least 4 days a week","actions":["weekly check-in","family meeting","arrange mentor"],"at":"2026-03-04T05:06:07Z","actor":"caseworker-{:04}","note":""#,
        Uuid::from_u128(u128::from(n)),
        n % 500
    );
    while text.len() < 296 {
        text.push('x');
    }
    text.push_str("\"}");
    text.into_bytes()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let with_command_ids = !args.iter().any(|arg| arg == "--no-command-ids");
    let fsync = !args.iter().any(|arg| arg == "--no-fsync");
    let value_of = |flag: &str| args.iter().position(|arg| arg == flag).and_then(|at| args.get(at + 1));
    let dir_arg = value_of("--dir");
    let cache_mb: u64 = value_of("--cache-mb").map_or(Ok(1024), |mb| mb.parse())?;
    // Positional numbers, not the values of flags.
    let numbers: Vec<u64> = args
        .iter()
        .enumerate()
        .filter(|(at, _)| *at == 0 || !args[at - 1].starts_with("--"))
        .filter_map(|(_, arg)| arg.parse().ok())
        .collect();
    let n_events = numbers.first().copied().unwrap_or(200_000);
    let n_threads = numbers.get(1).copied().unwrap_or(64);
    let temp = tempfile::tempdir()?;
    let dir = dir_arg.map_or_else(|| temp.path().to_path_buf(), std::path::PathBuf::from);
    let streams_per_thread = 20;

    let log = Arc::new(SegmentLog::open(
        &dir,
        LogOptions {
            fsync,
            cache_capacity_bytes: cache_mb * 1024 * 1024,
            persist_every_events: 131_072,
            acknowledge: kui_log_segment::Acknowledge::Synced,
        },
    )?);
    let next = Arc::new(AtomicU64::new(0));
    let at = DateTime::from_timestamp(1_767_225_600, 0).ok_or("time")?;
    let started = Instant::now();
    let handles: Vec<_> = (0..n_threads)
        .map(|thread| {
            let (log, next) = (Arc::clone(&log), Arc::clone(&next));
            std::thread::spawn(move || -> Result<(), kui_log::LogError> {
                let mut round = 0u64;
                while next.fetch_add(1, Ordering::Relaxed) < n_events {
                    let stream = StreamId::new(format!("youth-{thread}-{}", round % streams_per_thread))?;
                    round += 1;
                    let event = NewEvent {
                        event_id: Uuid::now_v7(),
                        event_type: "PlanUpdated".into(),
                        schema_version: 1,
                        payload: payload(round),
                        metadata: Metadata {
                            actor: Actor {
                                staff_id: Some("staff-1".into()),
                                role: "coordinator".into(),
                                department: None,
                            },
                            command_id: if with_command_ids { Some(Uuid::now_v7()) } else { None },
                            causation_id: None,
                            correlation_id: None,
                            occurred_at: at,
                            recorded_at: at,
                        },
                    };
                    log.append(AppendRequest {
                        command_id: event.metadata.command_id,
                        streams: vec![StreamAppend {
                            stream,
                            expected: ExpectedVersion::Any,
                            events: vec![event],
                        }],
                    })?;
                }
                Ok(())
            })
        })
        .collect();
    for handle in handles {
        handle.join().map_err(|_| "append thread panicked")??;
    }
    let append_secs = started.elapsed().as_secs_f64();
    if n_events > 0 {
        let stats = log.write_stats();
        println!(
            "pipeline: {} groups ({:.1} events each, {} us apply each), {} syncs ({:.1} events each, {} us each)",
            stats.groups,
            stats.events as f64 / stats.groups.max(1) as f64,
            stats.apply_micros / stats.groups.max(1),
            stats.syncs,
            stats.events as f64 / stats.syncs.max(1) as f64,
            stats.sync_micros / stats.syncs.max(1)
        );
        println!(
            "append: {n_events} single-event appends (fsync: {fsync}, command ids: {with_command_ids}) from {n_threads} threads in {append_secs:.2} s = {:.0} events/s",
            n_events as f64 / append_secs
        );
    }

    if let Some(bulk) = value_of("--bulk") {
        let bulk: u64 = bulk.parse()?;
        let started = Instant::now();
        let mut done = 0;
        while done < bulk {
            let batch = (bulk - done).min(10_000);
            let requests = (done..done + batch)
                .map(|k| -> Result<AppendRequest, kui_log::LogError> {
                    let command_id = with_command_ids.then(Uuid::now_v7);
                    Ok(AppendRequest {
                        command_id,
                        streams: vec![StreamAppend {
                            stream: StreamId::new(format!("bulk-{}", k / 1000))?,
                            expected: ExpectedVersion::Any,
                            events: vec![NewEvent {
                                event_id: Uuid::now_v7(),
                                event_type: "PlanUpdated".into(),
                                schema_version: 1,
                                payload: payload(k),
                                metadata: Metadata {
                                    actor: Actor {
                                        staff_id: Some("staff-1".into()),
                                        role: "coordinator".into(),
                                        department: None,
                                    },
                                    command_id,
                                    causation_id: None,
                                    correlation_id: None,
                                    occurred_at: at,
                                    recorded_at: at,
                                },
                            }],
                        }],
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            log.append_many(requests)?;
            done += batch;
        }
        let bulk_secs = started.elapsed().as_secs_f64();
        let disk: u64 = walk_size(&dir);
        println!(
            "bulk append_many: {bulk} events (fsync: {fsync}, command ids: {with_command_ids}) in {bulk_secs:.2} s = {:.0} events/s; log directory {} MB ({} bytes per event overall)",
            bulk as f64 / bulk_secs,
            disk / 1_000_000,
            disk / (n_events + bulk).max(1)
        );
    }

    for pass in ["first", "second"] {
        let started = Instant::now();
        let mut payload_bytes = 0u64;
        let scanned = log.scan(Position(1), Position(u64::MAX), &mut |envelope| {
            payload_bytes += envelope.payload.len() as u64;
            std::ops::ControlFlow::Continue(())
        })?;
        let scan_secs = started.elapsed().as_secs_f64();
        println!(
            "scan ({pass} pass): {scanned} events ({} MB payload) in {scan_secs:.2} s = {:.0} events/s",
            payload_bytes / 1_000_000,
            scanned as f64 / scan_secs
        );
    }

    for pass in ["first", "second"] {
        let started = Instant::now();
        let mut read = 0;
        for thread in 0..n_threads {
            for k in 0..streams_per_thread {
                read += log
                    .read_stream(&StreamId::new(format!("youth-{thread}-{k}"))?, Version(1))?
                    .len();
            }
        }
        let read_secs = started.elapsed().as_secs_f64();
        println!(
            "read_stream ({pass} pass): {} streams, {read} events in {read_secs:.2} s = {:.0} events/s",
            n_threads * streams_per_thread,
            read as f64 / read_secs
        );
    }

    let started = Instant::now();
    let report = log.verify(&mut |_| {})?;
    let verify_secs = started.elapsed().as_secs_f64();
    println!(
        "verify: {} events, {} streams in {verify_secs:.2} s = {:.0} events/s",
        report.events,
        report.streams,
        report.events as f64 / verify_secs
    );
    Ok(())
}

/// Bytes of all files under `path` (apparent sizes; the segment's preallocated zero tail,
/// at most 8 MiB, is included).
fn walk_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => walk_size(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}
