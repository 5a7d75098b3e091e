//! The conformance suite: the definition of what every [`EventLog`] guarantees.
//!
//! A backend runs it from its own integration tests with [`crate::contract_tests!`],
//! giving a function that makes a fresh, empty log (and keeps whatever it needs alive,
//! a temporary directory or a database schema, in the returned [`Subject`]):
//!
//! ```text
//! kui_log::contract_tests!(|| {
//!     let dir = tempfile::tempdir().expect("temporary directory");
//!     let log = MyLog::open(dir.path()).expect("open");
//!     kui_log::contract::Subject::new(std::sync::Arc::new(log), dir)
//! });
//! ```
//!
//! Every check is a plain function taking that maker, so a backend can also call them one
//! by one. They cover appends and reads, conflicts, idempotent command ids, multi-stream
//! atomicity, the hash chain, scans, subscriptions (catch-up then live), imports (all or
//! nothing), verification, concurrent writers and visibility at acknowledgement.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use uuid::Uuid;

use crate::canonical::{envelope_hash, ZERO_HASH};
use crate::{
    Actor, AppendOutcome, AppendRequest, Envelope, EventLog, ExpectedVersion, LogError, Metadata, NewEvent, Position,
    StreamAppend, StreamId, Version,
};

/// A fresh, empty log under test, with what must outlive it.
pub struct Subject {
    /// The log.
    pub log: Arc<dyn EventLog>,
    _keep: Box<dyn std::any::Any>,
}

impl Subject {
    /// A log and anything it needs kept alive (dropped after the log).
    pub fn new(log: Arc<dyn EventLog>, keep: impl std::any::Any) -> Subject {
        Subject {
            log,
            _keep: Box::new(keep),
        }
    }
}

/// Makes a fresh, empty log for one check.
pub type Maker<'a> = &'a dyn Fn() -> Subject;

/// Generates one `#[test]` per check of the suite, in a module `contract`, for the log
/// that `$make` (an expression of type `Fn() -> Subject`) creates.
#[macro_export]
macro_rules! contract_tests {
    ($make:expr) => {
        mod contract {
            #[allow(unused_imports)]
            use super::*;

            fn make() -> $crate::contract::Subject {
                ($make)()
            }

            $crate::contract_tests!(@checks
                appends_get_gap_free_positions_and_versions,
                a_stream_reads_from_a_version,
                a_wrong_expected_version_is_a_conflict_and_writes_nothing,
                a_multi_stream_append_is_all_or_nothing,
                a_command_id_replays_the_first_outcome_and_writes_nothing,
                every_event_is_chained_to_the_one_before,
                scans_cover_ranges_and_stop_when_asked,
                event_scans_show_what_envelope_scans_show,
                a_subscription_catches_up_then_follows,
                an_import_continues_the_chain_all_or_nothing,
                an_ndjson_export_imports_into_a_fresh_log,
                verify_counts_events_streams_and_the_head,
                concurrent_appenders_get_gap_free_positions,
                concurrent_writers_on_one_version_one_wins,
                an_answered_append_is_visible_everywhere,
                append_many_stops_at_the_first_failure,
                invalid_requests_write_nothing
            );
        }
    };
    (@checks $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::contract::$check(&make);
            }
        )*
    };
}

/// The stream `name`.
fn stream(name: &str) -> StreamId {
    StreamId::new(name).expect("test stream ids are valid")
}

/// An event of type `event_type` with payload `{"n":n}`.
pub fn event(event_type: &str, n: u64) -> NewEvent {
    let at = DateTime::from_timestamp(1_767_225_600 + n as i64, 0).expect("in range");
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version: 1,
        payload: format!(r#"{{"n":{n}}}"#).into_bytes(),
        metadata: Metadata {
            actor: Actor {
                staff_id: Some("staff-1".into()),
                role: "caseworker".into(),
                department: Some("uu".into()),
            },
            command_id: None,
            causation_id: None,
            correlation_id: None,
            occurred_at: at,
            recorded_at: at,
        },
    }
}

/// A request appending `events` to one stream.
fn single(name: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        command_id: None,
        streams: vec![StreamAppend {
            stream: stream(name),
            expected,
            events,
        }],
    }
}

fn append(log: &dyn EventLog, request: AppendRequest) -> AppendOutcome {
    log.append(request).expect("the append succeeds")
}

/// Every event of the log.
fn all(log: &dyn EventLog) -> Vec<Envelope> {
    log.read_all(Position(1), usize::MAX).expect("read")
}

fn head(log: &dyn EventLog) -> u64 {
    log.head_position().expect("head")
}

/// Positions and versions count from 1 without gaps; each stream keeps its own versions.
pub fn appends_get_gap_free_positions_and_versions(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    assert_eq!(log.head().expect("head"), None);
    let first = append(
        log,
        single("a", ExpectedVersion::NoStream, vec![event("X", 1), event("X", 2)]),
    );
    assert_eq!((first.first_position, first.last_position), (Position(1), Position(2)));
    assert_eq!(first.streams, vec![(stream("a"), Version(2))]);
    assert!(!first.replayed);
    let second = append(log, single("b", ExpectedVersion::Any, vec![event("Y", 3)]));
    assert_eq!(
        (second.first_position, second.last_position),
        (Position(3), Position(3))
    );
    let third = append(
        log,
        single("a", ExpectedVersion::Exact(Version(2)), vec![event("X", 4)]),
    );
    assert_eq!(third.streams, vec![(stream("a"), Version(3))]);
    let events = all(log);
    let positions: Vec<u64> = events.iter().map(|envelope| envelope.position.0).collect();
    assert_eq!(positions, vec![1, 2, 3, 4]);
    let versions: Vec<(String, u64)> = events
        .iter()
        .map(|envelope| (envelope.stream.to_string(), envelope.version.0))
        .collect();
    assert_eq!(
        versions,
        vec![("a".into(), 1), ("a".into(), 2), ("b".into(), 1), ("a".into(), 3)]
    );
    assert_eq!(log.stream_version(&stream("a")).expect("version"), Some(Version(3)));
    assert_eq!(log.stream_version(&stream("none")).expect("version"), None);
    assert_eq!(head(log), 4);
}

/// `read_stream` returns a stream's events from a version on, exactly as appended.
pub fn a_stream_reads_from_a_version(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    let appended: Vec<NewEvent> = (1..=5).map(|n| event("X", n)).collect();
    append(log, single("s", ExpectedVersion::NoStream, appended.clone()));
    append(log, single("other", ExpectedVersion::Any, vec![event("Y", 9)]));
    let read = log.read_stream(&stream("s"), Version(3)).expect("read");
    assert_eq!(read.len(), 3);
    for (envelope, sent) in read.iter().zip(&appended[2..]) {
        assert_eq!(envelope.event_id, sent.event_id);
        assert_eq!(envelope.payload, sent.payload);
        assert_eq!(envelope.metadata, sent.metadata);
        assert_eq!(envelope.event_type, sent.event_type);
    }
    assert_eq!(read[0].version, Version(3));
    assert!(log.read_stream(&stream("s"), Version(6)).expect("read").is_empty());
    assert!(log.read_stream(&stream("none"), Version(1)).expect("read").is_empty());
}

/// A stream not at the expected version fails with the actual version; nothing is
/// written.
pub fn a_wrong_expected_version_is_a_conflict_and_writes_nothing(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    append(
        log,
        single("s", ExpectedVersion::NoStream, vec![event("X", 1), event("X", 2)]),
    );
    for expected in [ExpectedVersion::NoStream, ExpectedVersion::Exact(Version(1))] {
        match log.append(single("s", expected, vec![event("X", 3)])) {
            Err(LogError::Conflict {
                stream: conflicted,
                expected: reported,
                actual,
            }) => {
                assert_eq!(conflicted, stream("s"));
                assert_eq!(reported, expected);
                assert_eq!(actual, Some(Version(2)));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    match log.append(single("new", ExpectedVersion::Exact(Version(1)), vec![event("X", 4)])) {
        Err(LogError::Conflict { actual: None, .. }) => {}
        other => panic!("expected a conflict on a missing stream, got {other:?}"),
    }
    assert_eq!(head(log), 2);
}

/// When one stream of a multi-stream append conflicts, no stream is written.
pub fn a_multi_stream_append_is_all_or_nothing(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    append(log, single("b", ExpectedVersion::NoStream, vec![event("X", 1)]));
    let both = |expected_b: ExpectedVersion| AppendRequest {
        command_id: None,
        streams: vec![
            StreamAppend {
                stream: stream("a"),
                expected: ExpectedVersion::NoStream,
                events: vec![event("X", 2)],
            },
            StreamAppend {
                stream: stream("b"),
                expected: expected_b,
                events: vec![event("X", 3), event("X", 4)],
            },
        ],
    };
    assert!(matches!(
        log.append(both(ExpectedVersion::NoStream)),
        Err(LogError::Conflict { .. })
    ));
    assert_eq!(head(log), 1);
    assert_eq!(log.stream_version(&stream("a")).expect("version"), None);
    let outcome = append(log, both(ExpectedVersion::Exact(Version(1))));
    assert_eq!(
        (outcome.first_position, outcome.last_position),
        (Position(2), Position(4))
    );
    assert_eq!(
        outcome.streams,
        vec![(stream("a"), Version(1)), (stream("b"), Version(3))]
    );
}

/// Resending a command id answers its first outcome with `replayed`, writing nothing,
/// whatever the resent request holds.
pub fn a_command_id_replays_the_first_outcome_and_writes_nothing(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    let command_id = Uuid::now_v7();
    let request = |name: &str| AppendRequest {
        command_id: Some(command_id),
        ..single(name, ExpectedVersion::Any, vec![event("X", 1), event("X", 2)])
    };
    let first = append(log, request("s"));
    assert_eq!(log.command_outcome(command_id).expect("lookup"), Some(first.clone()));
    let again = append(log, request("elsewhere"));
    assert!(again.replayed);
    assert_eq!(
        (again.first_position, again.last_position, again.streams),
        (first.first_position, first.last_position, first.streams)
    );
    assert_eq!(head(log), 2);
    assert_eq!(log.command_outcome(Uuid::now_v7()).expect("lookup"), None);
}

/// Each event's `prev_hash` is the previous event's hash, and its hash is the one
/// recomputed from its canonical bytes; the head carries the last hash.
pub fn every_event_is_chained_to_the_one_before(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    for n in 0..20 {
        append(
            log,
            single(&format!("s-{}", n % 3), ExpectedVersion::Any, vec![event("X", n)]),
        );
    }
    let mut previous = ZERO_HASH;
    for envelope in all(log) {
        assert_eq!(envelope.prev_hash, previous, "position {}", envelope.position);
        assert_eq!(
            envelope_hash(&envelope),
            envelope.hash,
            "position {}",
            envelope.position
        );
        previous = envelope.hash;
    }
    assert_eq!(log.head().expect("head"), Some((Position(20), previous)));
}

/// A scan visits exactly its range, in order, and stops where the visitor breaks;
/// `read_all` honours its limit.
pub fn scans_cover_ranges_and_stop_when_asked(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    for n in 0..30 {
        append(log, single("s", ExpectedVersion::Any, vec![event("X", n)]));
    }
    let mut seen = Vec::new();
    let visited = log
        .scan(Position(5), Position(12), &mut |envelope| {
            seen.push(envelope.position.0);
            ControlFlow::Continue(())
        })
        .expect("scan");
    assert_eq!(visited, 8);
    assert_eq!(seen, (5..=12).collect::<Vec<_>>());
    let mut count = 0;
    log.scan(Position(1), Position(u64::MAX), &mut |_| {
        count += 1;
        if count == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .expect("scan");
    assert_eq!(count, 3);
    let page = log.read_all(Position(28), 10).expect("read");
    assert_eq!(
        page.iter().map(|envelope| envelope.position.0).collect::<Vec<_>>(),
        vec![28, 29, 30]
    );
    assert_eq!(log.read_all(Position(2), 2).expect("read").len(), 2);
    let past_the_head = log
        .scan(Position(28), Position(1000), &mut |_| ControlFlow::Continue(()))
        .expect("scan");
    assert_eq!(past_the_head, 3, "a range past the head stops at the head");
    let empty = log
        .scan(Position(9), Position(8), &mut |_| ControlFlow::Continue(()))
        .expect("scan");
    assert_eq!(empty, 0, "an empty range visits nothing");
    assert!(log.read_all(Position(31), 10).expect("read").is_empty());
    let failed: Result<u64, LogError> = crate::try_scan(log, Position(1), Position(30), |envelope| {
        if envelope.position.0 == 7 {
            Err(LogError::Closed)
        } else {
            Ok(())
        }
    });
    assert!(
        matches!(failed, Err(LogError::Closed)),
        "the visitor's own error comes back"
    );
}

/// `scan_events` shows every event's position, type, schema version, time and payload
/// as `scan` does.
pub fn event_scans_show_what_envelope_scans_show(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    for n in 0..25 {
        let mut sent = event(if n % 2 == 0 { "Even" } else { "Odd" }, n);
        sent.schema_version = 1 + (n % 3) as u16;
        append(log, single(&format!("s-{}", n % 4), ExpectedVersion::Any, vec![sent]));
    }
    let mut from_events = Vec::new();
    log.scan_events(Position(3), Position(20), &mut |event| {
        from_events.push((
            event.position,
            event.event_type.to_owned(),
            event.schema_version,
            event.occurred_at,
            event.payload.to_vec(),
        ));
        ControlFlow::Continue(())
    })
    .expect("scan events");
    let from_envelopes: Vec<_> = all(log)
        .into_iter()
        .filter(|envelope| (3..=20).contains(&envelope.position.0))
        .map(|envelope| {
            (
                envelope.position,
                envelope.event_type,
                envelope.schema_version,
                envelope.metadata.occurred_at,
                envelope.payload,
            )
        })
        .collect();
    assert_eq!(from_events, from_envelopes);
}

/// A subscription first delivers what is there, then what is appended later, in order,
/// without gaps or duplicates.
pub fn a_subscription_catches_up_then_follows(make: Maker<'_>) {
    let subject = make();
    let log = Arc::clone(&subject.log);
    for n in 0..5 {
        append(log.as_ref(), single("s", ExpectedVersion::Any, vec![event("X", n)]));
    }
    let mut subscription = log.subscribe(Position(3));
    let writer = {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            for n in 5..25 {
                append(log.as_ref(), single("t", ExpectedVersion::Any, vec![event("Y", n)]));
            }
        })
    };
    let mut seen = Vec::new();
    while seen.len() < 23 {
        match subscription
            .next_timeout(Duration::from_secs(10))
            .expect("subscription")
        {
            Some(envelope) => seen.push(envelope.position.0),
            None => panic!("the subscription stalled after {seen:?}"),
        }
    }
    writer.join().expect("writer");
    assert_eq!(seen, (3..=25).collect::<Vec<_>>());
    assert_eq!(
        subscription
            .next_timeout(Duration::from_millis(50))
            .expect("subscription"),
        None
    );
}

/// Envelopes of another log import exactly when they continue the chain; a broken one
/// refuses the whole import.
pub fn an_import_continues_the_chain_all_or_nothing(make: Maker<'_>) {
    let source = make();
    for n in 0..12 {
        append(
            source.log.as_ref(),
            single(&format!("s-{}", n % 2), ExpectedVersion::Any, vec![event("X", n)]),
        );
    }
    let exported = all(source.log.as_ref());
    let target = make();
    let log = target.log.as_ref();
    log.import(&exported[..5]).expect("the first five");
    let mut tampered = exported[5..].to_vec();
    tampered[3].payload = b"{\"n\":999}".to_vec();
    assert!(matches!(
        log.import(&tampered),
        Err(LogError::Import { position: 9, .. })
    ));
    assert_eq!(head(log), 5, "a refused import writes nothing");
    assert!(matches!(
        log.import(&exported[6..]),
        Err(LogError::Import { position: 7, .. })
    ));
    let mut relinked = exported[5..].to_vec();
    relinked[0].prev_hash = [7; 32];
    relinked[0].hash = envelope_hash(&relinked[0]);
    assert!(matches!(
        log.import(&relinked),
        Err(LogError::Import { position: 6, .. })
    ));
    log.import(&exported[5..]).expect("the rest");
    assert_eq!(all(log), exported);
    assert_eq!(log.head().expect("head"), source.log.head().expect("head"));
    assert_eq!(log.stream_version(&stream("s-1")).expect("version"), Some(Version(6)));
    log.verify(&mut |_| {}).expect("an imported log verifies");
    append(
        log,
        single("s-0", ExpectedVersion::Exact(Version(6)), vec![event("X", 13)]),
    );
}

/// The NDJSON export of a log imports into a fresh log as the same events and hashes.
pub fn an_ndjson_export_imports_into_a_fresh_log(make: Maker<'_>) {
    let source = make();
    for n in 0..40 {
        append(
            source.log.as_ref(),
            single(&format!("s-{}", n % 5), ExpectedVersion::Any, vec![event("X", n)]),
        );
    }
    let mut bytes = Vec::new();
    let written = crate::ndjson::write_ndjson(source.log.as_ref(), &mut bytes, &mut |_| {}).expect("export");
    assert_eq!(written, 40);
    let target = make();
    let imported =
        crate::ndjson::import_ndjson(target.log.as_ref(), &mut bytes.as_slice(), &mut |_| {}).expect("import");
    assert_eq!(imported, 40);
    assert_eq!(all(target.log.as_ref()), all(source.log.as_ref()));
}

/// `verify` counts every event and stream and names the head.
pub fn verify_counts_events_streams_and_the_head(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    let empty = log.verify(&mut |_| {}).expect("an empty log verifies");
    assert_eq!((empty.events, empty.streams, empty.head), (0, 0, None));
    for n in 0..50 {
        append(
            log,
            single(&format!("s-{}", n % 7), ExpectedVersion::Any, vec![event("X", n)]),
        );
    }
    let mut reached = 0;
    let report = log
        .verify(&mut |position| reached = reached.max(position))
        .expect("verifies");
    assert_eq!((report.events, report.streams), (50, 7));
    assert_eq!(report.head, log.head().expect("head"));
    assert_eq!(reached, 50);
}

/// Appends from many threads at once get distinct, gap-free positions, and each
/// stream's versions follow its positions.
pub fn concurrent_appenders_get_gap_free_positions(make: Maker<'_>) {
    let subject = make();
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let log = Arc::clone(&subject.log);
            std::thread::spawn(move || {
                (0..40)
                    .map(|n| {
                        append(
                            log.as_ref(),
                            single(
                                &format!("t-{}", n % 4),
                                ExpectedVersion::Any,
                                vec![event("X", thread * 100 + n)],
                            ),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut positions: Vec<u64> = threads
        .into_iter()
        .flat_map(|thread| thread.join().expect("thread"))
        .map(|outcome| outcome.first_position.0)
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=320).collect::<Vec<_>>());
    let mut versions: HashMap<String, u64> = HashMap::new();
    for envelope in all(subject.log.as_ref()) {
        let version = versions.entry(envelope.stream.to_string()).or_insert(0);
        *version += 1;
        assert_eq!(envelope.version.0, *version, "position {}", envelope.position);
    }
}

/// Writers that all expect the same version: exactly one wins, the others conflict.
pub fn concurrent_writers_on_one_version_one_wins(make: Maker<'_>) {
    let subject = make();
    append(
        subject.log.as_ref(),
        single("s", ExpectedVersion::NoStream, vec![event("X", 0)]),
    );
    let threads: Vec<_> = (0..8)
        .map(|n| {
            let log = Arc::clone(&subject.log);
            std::thread::spawn(move || log.append(single("s", ExpectedVersion::Exact(Version(1)), vec![event("X", n)])))
        })
        .collect();
    let results: Vec<_> = threads
        .into_iter()
        .map(|thread| thread.join().expect("thread"))
        .collect();
    let won = results.iter().filter(|result| result.is_ok()).count();
    let conflicted = results
        .iter()
        .filter(|result| matches!(result, Err(LogError::Conflict { .. })))
        .count();
    assert_eq!((won, conflicted), (1, 7), "{results:?}");
    assert_eq!(
        subject.log.stream_version(&stream("s")).expect("version"),
        Some(Version(2))
    );
}

/// Once an append is answered (directly or through its callback), its events and its
/// command id are visible to every read, from any thread.
pub fn an_answered_append_is_visible_everywhere(make: Maker<'_>) {
    let subject = make();
    let log = Arc::clone(&subject.log);
    for n in 0..20 {
        let command_id = Uuid::now_v7();
        let (sender, answer) = std::sync::mpsc::channel();
        let reader = Arc::clone(&log);
        log.append_then(
            AppendRequest {
                command_id: Some(command_id),
                ..single("s", ExpectedVersion::Any, vec![event("X", n)])
            },
            Box::new(move |result| {
                // Seen from the answering thread, before the caller hears of it.
                let visible = result
                    .as_ref()
                    .ok()
                    .map(|outcome| reader.head_position().map(|head| head >= outcome.last_position.0));
                drop(sender.send((result, visible)));
            }),
        );
        let (result, visible) = answer.recv_timeout(Duration::from_secs(10)).expect("answered");
        let outcome = result.expect("appended");
        assert_eq!(visible.map(|visible| visible.ok()), Some(Some(true)));
        let other = Arc::clone(&log);
        let seen = std::thread::spawn(move || {
            let events = other.read_stream(&stream("s"), Version(1)).expect("read");
            let known = other.command_outcome(command_id).expect("lookup");
            (events.len() as u64, known)
        })
        .join()
        .expect("reader");
        assert_eq!(seen.0, n + 1);
        assert_eq!(seen.1.map(|known| known.first_position), Some(outcome.first_position));
    }
}

/// `append_many` appends its requests in order and stops at the first that fails.
pub fn append_many_stops_at_the_first_failure(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    let requests = vec![
        single("a", ExpectedVersion::NoStream, vec![event("X", 1)]),
        single("b", ExpectedVersion::NoStream, vec![event("X", 2), event("X", 3)]),
    ];
    let outcomes = log.append_many(requests).expect("append many");
    assert_eq!(
        outcomes
            .iter()
            .map(|outcome| outcome.last_position.0)
            .collect::<Vec<_>>(),
        vec![1, 3]
    );
    let failing = vec![
        single("c", ExpectedVersion::NoStream, vec![event("X", 4)]),
        single("a", ExpectedVersion::NoStream, vec![event("X", 5)]),
        single("d", ExpectedVersion::NoStream, vec![event("X", 6)]),
    ];
    assert!(matches!(log.append_many(failing), Err(LogError::Conflict { .. })));
    assert_eq!(log.stream_version(&stream("c")).expect("version"), Some(Version(1)));
    assert_eq!(log.stream_version(&stream("d")).expect("version"), None);
}

/// Requests without events, with an empty event type or an oversized payload are
/// refused before anything is written.
pub fn invalid_requests_write_nothing(make: Maker<'_>) {
    let subject = make();
    let log = subject.log.as_ref();
    let empty = AppendRequest {
        command_id: None,
        streams: vec![],
    };
    assert!(matches!(log.append(empty), Err(LogError::EmptyAppend)));
    assert!(matches!(
        log.append(single("s", ExpectedVersion::Any, vec![])),
        Err(LogError::EmptyAppend)
    ));
    let mut untyped = event("X", 1);
    untyped.event_type.clear();
    assert!(matches!(
        log.append(single("s", ExpectedVersion::Any, vec![event("X", 0), untyped])),
        Err(LogError::InvalidEvent { .. })
    ));
    let mut huge = event("X", 1);
    huge.payload = vec![b' '; crate::MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        log.append(single("s", ExpectedVersion::Any, vec![huge])),
        Err(LogError::InvalidEvent { .. })
    ));
    assert_eq!(head(log), 0);
}
