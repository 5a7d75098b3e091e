//! `kui-log-torture`: a durability-testing tool for kui-log, driven by the crash test
//! (`tests/it/crash.rs`).
//!
//! ```text
//! kui-log-torture <log-dir> <seed> [threads]
//! ```
//!
//! Opens (or creates) a durable log in `<log-dir>` and appends from `threads` threads
//! (default 16) until it is killed: single events, several events to one stream (with
//! an exact expected version, so some conflict) and multi-stream appends, some with
//! command ids and some resending an earlier command id, and now and then one request of
//! several megabytes, which the log writes as records that continue one another.
//!
//! For every acknowledged (durable) append it prints one line to stdout and flushes it:
//!
//! ```text
//! ack <first-position> <stream>:<version> <stream>:<version> ...
//! ```
//!
//! listing each event of the append in position order, and for an append with a
//! command id also
//!
//! ```text
//! cmd <command-id> <first-position> <last-position>
//! ```
//! Kill it at any moment (SIGKILL): every printed event must be in the reopened log.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::DateTime;
use kui_log::{Actor, AppendRequest, EventLog, ExpectedVersion, LogError, Metadata, NewEvent, StreamAppend, StreamId};
use kui_log_segment::{Acknowledge, LogOptions, SegmentLog};
use uuid::Uuid;

/// Number of distinct streams the threads write to.
const STREAMS: u64 = 64;

/// xorshift64*: small, deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn stream(rng: &mut Rng) -> StreamId {
    StreamId::new(format!("torture-{}", rng.below(STREAMS))).expect("torture stream ids are valid")
}

/// One request in this many is a large one.
const LARGE_EVERY: u64 = 4000;
/// Events of a large request, and the padding of each (together about 5 MB: more than one
/// segment record).
const LARGE_EVENTS: u64 = 60;
const LARGE_PAD: usize = 80_000;

fn new_event(thread: u64, counter: u64, pad: usize) -> NewEvent {
    let at = DateTime::from_timestamp(1_767_225_600, 0).expect("a fixed, valid timestamp");
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "TortureEvent".into(),
        schema_version: 1,
        payload: format!(r#"{{"thread":{thread},"n":{counter},"pad":"{}"}}"#, "x".repeat(pad)).into_bytes(),
        metadata: Metadata {
            actor: Actor {
                staff_id: None,
                role: "torture".into(),
                department: None,
            },
            command_id: None,
            causation_id: None,
            correlation_id: None,
            occurred_at: at,
            recorded_at: at,
        },
    }
}

fn request(log: &SegmentLog, rng: &mut Rng, thread: u64, counter: &mut u64) -> Result<AppendRequest, LogError> {
    let mut events_padded = |n: u64, pad: usize| -> Vec<NewEvent> {
        (0..n)
            .map(|_| {
                *counter += 1;
                new_event(thread, *counter, pad)
            })
            .collect()
    };
    if rng.below(LARGE_EVERY) == 0 {
        return Ok(AppendRequest {
            command_id: Some(Uuid::from_u64_pair(rng.next(), rng.next())),
            streams: vec![StreamAppend {
                stream: stream(rng),
                expected: ExpectedVersion::Any,
                events: events_padded(LARGE_EVENTS, LARGE_PAD),
            }],
        });
    }
    let mut events = |n: u64| events_padded(n, 0);
    let streams = match rng.below(10) {
        0..=5 => vec![StreamAppend {
            stream: stream(rng),
            expected: ExpectedVersion::Any,
            events: events(1),
        }],
        6..=7 => {
            let target = stream(rng);
            let expected = match log.stream_version(&target)? {
                Some(version) => ExpectedVersion::Exact(version),
                None => ExpectedVersion::NoStream,
            };
            let n = 2 + rng.below(3);
            vec![StreamAppend {
                stream: target,
                expected,
                events: events(n),
            }]
        }
        _ => {
            let mut targets: Vec<StreamId> = Vec::new();
            while targets.len() < 2 + rng.below(2) as usize {
                let target = stream(rng);
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
            targets
                .into_iter()
                .map(|target| {
                    let n = 1 + rng.below(2);
                    StreamAppend {
                        stream: target,
                        expected: ExpectedVersion::Any,
                        events: events(n),
                    }
                })
                .collect()
        }
    };
    let command_id = (rng.below(4) == 0).then(|| Uuid::from_u64_pair(rng.next(), rng.next()));
    Ok(AppendRequest { command_id, streams })
}

fn ack_line(request: &AppendRequest, outcome: &kui_log::AppendOutcome) -> String {
    let mut line = format!("ack {}", outcome.first_position);
    for (stream_append, (stream, new_version)) in request.streams.iter().zip(&outcome.streams) {
        let n = stream_append.events.len() as u64;
        for version in new_version.0 + 1 - n..=new_version.0 {
            line.push_str(&format!(" {stream}:{version}"));
        }
    }
    line
}

fn run_thread(log: &SegmentLog, seed: u64, thread: u64) -> Result<(), LogError> {
    let mut rng = Rng::new(seed ^ (thread + 1).wrapping_mul(0x1234_5678_9abc_def1));
    let mut counter = 0;
    let mut previous_command: Option<(Uuid, kui_log::AppendOutcome)> = None;
    loop {
        // Now and then resend an earlier command: it must replay, not write again.
        if let (Some((command_id, first)), 0) = (&previous_command, rng.below(20)) {
            let mut resend = request(log, &mut rng, thread, &mut counter)?;
            resend.command_id = Some(*command_id);
            let outcome = log.append(resend)?;
            if !outcome.replayed || outcome.first_position != first.first_position {
                eprintln!("command {command_id} was not replayed: {outcome:?} after {first:?}");
                std::process::exit(3);
            }
            continue;
        }
        let request = request(log, &mut rng, thread, &mut counter)?;
        match log.append(request.clone()) {
            Ok(outcome) if !outcome.replayed => {
                let mut line = ack_line(&request, &outcome);
                if let Some(command_id) = request.command_id {
                    line.push_str(&format!(
                        "\ncmd {command_id} {} {}",
                        outcome.first_position, outcome.last_position
                    ));
                }
                let mut stdout = std::io::stdout().lock();
                if writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_err() {
                    // Nobody is listening any more.
                    std::process::exit(0);
                }
                if let Some(command_id) = request.command_id {
                    previous_command = Some((command_id, outcome));
                }
            }
            Ok(_) | Err(LogError::Conflict { .. }) => {}
            Err(error) => return Err(error),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(seed)) = (args.get(1), args.get(2).and_then(|seed| seed.parse::<u64>().ok())) else {
        eprintln!("usage: kui-log-torture <log-dir> <seed> [threads]");
        return ExitCode::from(2);
    };
    let threads = args.get(3).and_then(|n| n.parse::<u64>().ok()).unwrap_or(16);
    let options = LogOptions {
        cache_capacity_bytes: 64 * 1024 * 1024,
        persist_every_events: 16_384,
        acknowledge: Acknowledge::Synced,
        ..LogOptions::durable()
    };
    let log = match SegmentLog::open(&PathBuf::from(dir), options) {
        Ok(log) => Arc::new(log),
        Err(error) => {
            eprintln!("kui-log-torture: cannot open {dir}: {error:?}");
            return ExitCode::FAILURE;
        }
    };
    let handles: Vec<_> = (0..threads)
        .map(|thread| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || run_thread(&log, seed, thread))
        })
        .collect();
    for handle in handles {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                eprintln!("kui-log-torture: append failed: {error:?}");
                return ExitCode::FAILURE;
            }
            Err(_) => return ExitCode::FAILURE,
        }
    }
    ExitCode::SUCCESS
}
