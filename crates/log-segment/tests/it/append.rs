//! Appends: one and several streams, atomicity, expected versions, idempotency, input
//! validation.

use std::sync::{Arc, Barrier};

use kui_log::{AppendRequest, EventLog, ExpectedVersion, LogError, Position, StreamAppend, StreamId, Version};
use uuid::Uuid;

use crate::helpers::{
    all_events, append_n, assert_gap_free_chain, event, event_with_payload, metadata, open_fast, single, stream,
    temp_dir,
};

#[test]
fn append_and_read_one_stream() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let youth = stream("youth-1");
    let events = vec![
        event("YouthReferred", 1),
        event("CoordinatorAssigned", 2),
        event("PlanUpdated", 3),
    ];
    let outcome = log
        .append(single(&youth, ExpectedVersion::NoStream, events.clone()))
        .expect("append");
    assert_eq!(outcome.first_position, Position(1));
    assert_eq!(outcome.last_position, Position(3));
    assert_eq!(outcome.streams, vec![(youth.clone(), Version(3))]);
    assert!(!outcome.replayed);

    let stored = log.read_stream(&youth, Version(1)).expect("read stream");
    assert_eq!(stored.len(), 3);
    for (index, (envelope, new_event)) in stored.iter().zip(&events).enumerate() {
        assert_eq!(envelope.position, Position(index as u64 + 1));
        assert_eq!(envelope.version, Version(index as u64 + 1));
        assert_eq!(envelope.stream, youth);
        assert_eq!(envelope.event_id, new_event.event_id);
        assert_eq!(envelope.event_type, new_event.event_type);
        assert_eq!(envelope.schema_version, new_event.schema_version);
        assert_eq!(envelope.payload, new_event.payload);
        assert_eq!(envelope.metadata, new_event.metadata);
    }
    assert_gap_free_chain(&stored);
    assert_eq!(log.stream_version(&youth).expect("version"), Some(Version(3)));
    let (head_position, head_hash) = log.head().expect("head").expect("not empty");
    assert_eq!(head_position, Position(3));
    assert_eq!(head_hash, stored[2].hash);
}

#[test]
fn append_to_several_streams_in_one_request() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let (youth, meeting) = (stream("youth-1"), stream("meeting-1"));
    append_n(&log, &youth, 2);
    let request = AppendRequest {
        command_id: None,
        streams: vec![
            StreamAppend {
                stream: meeting.clone(),
                expected: ExpectedVersion::NoStream,
                events: vec![event("CaseTabled", 1), event("DecisionRecorded", 2)],
            },
            StreamAppend {
                stream: youth.clone(),
                expected: ExpectedVersion::Exact(Version(2)),
                events: vec![event("CoordinatorAssigned", 3)],
            },
        ],
    };
    let outcome = log.append(request).expect("append");
    assert_eq!(
        (outcome.first_position, outcome.last_position),
        (Position(3), Position(5))
    );
    assert_eq!(
        outcome.streams,
        vec![(meeting.clone(), Version(2)), (youth.clone(), Version(3))]
    );

    let events = all_events(&log);
    let shape: Vec<(&str, u64)> = events.iter().map(|e| (e.stream.as_str(), e.version.0)).collect();
    assert_eq!(
        shape,
        vec![
            ("youth-1", 1),
            ("youth-1", 2),
            ("meeting-1", 1),
            ("meeting-1", 2),
            ("youth-1", 3)
        ]
    );
    assert_gap_free_chain(&events);
}

#[test]
fn a_stream_named_twice_sees_its_earlier_entry() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let youth = stream("youth-1");
    let request = AppendRequest {
        command_id: None,
        streams: vec![
            StreamAppend {
                stream: youth.clone(),
                expected: ExpectedVersion::NoStream,
                events: vec![event("A", 1)],
            },
            StreamAppend {
                stream: youth.clone(),
                expected: ExpectedVersion::Exact(Version(1)),
                events: vec![event("B", 2)],
            },
        ],
    };
    let outcome = log.append(request).expect("append");
    assert_eq!(
        outcome.streams,
        vec![(youth.clone(), Version(1)), (youth.clone(), Version(2))]
    );
    let versions: Vec<u64> = log
        .read_stream(&youth, Version(1))
        .expect("read")
        .iter()
        .map(|e| e.version.0)
        .collect();
    assert_eq!(versions, vec![1, 2]);
}

#[test]
fn multi_stream_append_with_one_conflict_writes_nothing() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let (youth, meeting) = (stream("youth-1"), stream("meeting-1"));
    append_n(&log, &youth, 1);
    let head_before = log.head().expect("head");
    let request = AppendRequest {
        command_id: Some(Uuid::from_u128(77)),
        streams: vec![
            StreamAppend {
                stream: meeting.clone(),
                expected: ExpectedVersion::NoStream,
                events: vec![event("MeetingScheduled", 1)],
            },
            StreamAppend {
                stream: youth.clone(),
                expected: ExpectedVersion::Exact(Version(5)),
                events: vec![event("PlanUpdated", 2)],
            },
        ],
    };
    match log.append(request) {
        Err(LogError::Conflict {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(stream, youth);
            assert_eq!(expected, ExpectedVersion::Exact(Version(5)));
            assert_eq!(actual, Some(Version(1)));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(log.head().expect("head"), head_before);
    assert_eq!(log.stream_version(&meeting).expect("version"), None);
    assert_eq!(all_events(&log).len(), 1);
    // A rejected command is not remembered: it can be retried.
    assert_eq!(log.command_outcome(Uuid::from_u128(77)).expect("lookup"), None);
    // The next append gets the next position: the rejected one used none.
    let outcome = log.append(single(&meeting, ExpectedVersion::NoStream, vec![event("X", 1)]));
    assert_eq!(outcome.expect("append").first_position, Position(2));
}

#[test]
fn conflict_reports_expected_and_actual_versions() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let youth = stream("youth-1");
    append_n(&log, &youth, 2);
    let conflict = log.append(single(&youth, ExpectedVersion::NoStream, vec![event("X", 1)]));
    assert!(matches!(
        conflict,
        Err(LogError::Conflict {
            expected: ExpectedVersion::NoStream,
            actual: Some(Version(2)),
            ..
        })
    ));
    let missing = stream("youth-2");
    let conflict = log.append(single(
        &missing,
        ExpectedVersion::Exact(Version(3)),
        vec![event("X", 1)],
    ));
    assert!(matches!(
        conflict,
        Err(LogError::Conflict {
            expected: ExpectedVersion::Exact(Version(3)),
            actual: None,
            ..
        })
    ));
}

#[test]
fn expected_version_no_stream_exact_and_any() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let youth = stream("youth-1");
    let append = |expected| log.append(single(&youth, expected, vec![event("X", 0)]));
    assert!(append(ExpectedVersion::NoStream).is_ok());
    assert!(matches!(
        append(ExpectedVersion::NoStream),
        Err(LogError::Conflict { .. })
    ));
    assert!(append(ExpectedVersion::Exact(Version(1))).is_ok());
    assert!(matches!(
        append(ExpectedVersion::Exact(Version(1))),
        Err(LogError::Conflict { .. })
    ));
    assert!(matches!(
        append(ExpectedVersion::Exact(Version(3))),
        Err(LogError::Conflict { .. })
    ));
    assert!(append(ExpectedVersion::Exact(Version(2))).is_ok());
    assert!(append(ExpectedVersion::Any).is_ok());
    assert_eq!(log.stream_version(&youth).expect("version"), Some(Version(4)));
    assert_eq!(all_events(&log).len(), 4);
}

#[test]
fn concurrent_appends_with_the_same_expected_version_let_exactly_one_win() {
    let dir = temp_dir();
    let log = Arc::new(open_fast(dir.path()));
    let youth = stream("youth-1");
    append_n(&*log, &youth, 1);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|n| {
            let (log, youth, barrier) = (Arc::clone(&log), youth.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                log.append(single(&youth, ExpectedVersion::Exact(Version(1)), vec![event("X", n)]))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    let winners = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(LogError::Conflict {
                    actual: Some(Version(2)),
                    ..
                })
            )
        })
        .count();
    assert_eq!((winners, conflicts), (1, 7));
    assert_eq!(log.stream_version(&youth).expect("version"), Some(Version(2)));
}

#[test]
fn repeated_command_id_returns_the_first_outcome_and_writes_nothing() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let youth = stream("youth-1");
    let command_id = Uuid::from_u128(1234);
    let mut request = single(&youth, ExpectedVersion::NoStream, vec![event("YouthReferred", 1)]);
    request.command_id = Some(command_id);
    let first = log.append(request.clone()).expect("first append");
    assert!(!first.replayed);
    append_n(&log, &stream("other"), 2);
    let head_before = log.head().expect("head");

    // Same command id, even with different content and an expected version that
    // would now conflict: the stored outcome comes back.
    let mut retry = single(
        &youth,
        ExpectedVersion::NoStream,
        vec![event("Other", 9), event("Other", 10)],
    );
    retry.command_id = Some(command_id);
    let second = log.append(retry).expect("replayed append");
    assert!(second.replayed);
    assert_eq!(second.first_position, first.first_position);
    assert_eq!(second.last_position, first.last_position);
    assert_eq!(second.streams, first.streams);
    assert_eq!(log.head().expect("head"), head_before);
    assert_eq!(all_events(&log).len(), 3);

    assert_eq!(log.command_outcome(command_id).expect("lookup"), Some(first));
    assert_eq!(log.command_outcome(Uuid::from_u128(999)).expect("lookup"), None);
}

#[test]
fn concurrent_duplicates_of_one_command_are_written_once() {
    let dir = temp_dir();
    let log = Arc::new(open_fast(dir.path()));
    let command_id = Uuid::from_u128(5555);
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|n| {
            let (log, barrier) = (Arc::clone(&log), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut request = single(
                    &stream("youth-1"),
                    ExpectedVersion::Any,
                    vec![event("X", n), event("Y", n)],
                );
                request.command_id = Some(command_id);
                barrier.wait();
                log.append(request).expect("append")
            })
        })
        .collect();
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
    assert!(outcomes
        .iter()
        .all(|o| o.first_position == Position(1) && o.last_position == Position(2)));
    assert_eq!(all_events(&*log).len(), 2);
}

#[test]
fn command_ids_survive_reopen() {
    let dir = temp_dir();
    let command_id = Uuid::from_u128(31);
    let first = {
        let log = open_fast(dir.path());
        let mut request = single(&stream("s"), ExpectedVersion::Any, vec![event("X", 1)]);
        request.command_id = Some(command_id);
        let outcome = log.append(request).expect("append");
        log.close().expect("close");
        outcome
    };
    let log = open_fast(dir.path());
    let mut request = single(&stream("s"), ExpectedVersion::Any, vec![event("X", 1)]);
    request.command_id = Some(command_id);
    let again = log.append(request).expect("append");
    assert!(again.replayed);
    assert_eq!(again.first_position, first.first_position);
    assert_eq!(all_events(&log).len(), 1);
}

#[test]
fn empty_appends_are_rejected() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let no_streams = AppendRequest {
        command_id: None,
        streams: vec![],
    };
    assert!(matches!(log.append(no_streams), Err(LogError::EmptyAppend)));
    let no_events = single(&stream("s"), ExpectedVersion::Any, vec![]);
    assert!(matches!(log.append(no_events), Err(LogError::EmptyAppend)));
    assert_eq!(log.head().expect("head"), None);
}

#[test]
fn invalid_stream_ids_are_rejected() {
    for bad in ["", "nul\0byte", "new\nline", "æøå"] {
        assert!(
            matches!(StreamId::new(bad), Err(LogError::InvalidStreamId { .. })),
            "{bad:?}"
        );
    }
    assert!(matches!(
        StreamId::new("x".repeat(201)),
        Err(LogError::InvalidStreamId { .. })
    ));
    assert_eq!(StreamId::new("youth-1").expect("valid").to_string(), "youth-1");
}

#[test]
fn invalid_events_are_rejected_before_anything_is_written() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let mut nameless = event("X", 1);
    nameless.event_type.clear();
    let request = single(&stream("s"), ExpectedVersion::Any, vec![event("Fine", 0), nameless]);
    assert!(matches!(log.append(request), Err(LogError::InvalidEvent { .. })));
    let huge = event_with_payload("X", vec![b' '; kui_log::MAX_PAYLOAD_BYTES + 1]);
    let request = single(&stream("s"), ExpectedVersion::Any, vec![huge]);
    assert!(matches!(log.append(request), Err(LogError::InvalidEvent { .. })));
    let mut long_role = event("X", 1);
    long_role.metadata = metadata();
    long_role.metadata.actor.role = "r".repeat(kui_log::MAX_NAME_BYTES + 1);
    let request = single(&stream("s"), ExpectedVersion::Any, vec![long_role]);
    assert!(matches!(log.append(request), Err(LogError::InvalidEvent { .. })));
    assert_eq!(log.head().expect("head"), None);
}

#[test]
fn append_many_writes_requests_in_order_and_stops_at_the_first_failure() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let (youth, other) = (stream("youth-1"), stream("youth-2"));
    let requests: Vec<_> = (0..300)
        .map(|n| {
            let target = if n % 3 == 0 { &other } else { &youth };
            single(target, ExpectedVersion::Any, vec![event("X", n), event("Y", n)])
        })
        .collect();
    let outcomes = log.append_many(requests).expect("append many");
    assert_eq!(outcomes.len(), 300);
    for (n, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome.first_position, Position(2 * n as u64 + 1));
        assert_eq!(outcome.last_position, Position(2 * n as u64 + 2));
    }
    assert_eq!(log.stream_version(&youth).expect("version"), Some(Version(400)));
    assert_gap_free_chain(&all_events(&log));

    // The second request conflicts: the first is written, the third is not.
    let requests = vec![
        single(&youth, ExpectedVersion::Exact(Version(400)), vec![event("A", 1)]),
        single(&youth, ExpectedVersion::Exact(Version(400)), vec![event("B", 2)]),
        single(&other, ExpectedVersion::Any, vec![event("C", 3)]),
    ];
    assert!(matches!(
        log.append_many(requests),
        Err(LogError::Conflict {
            actual: Some(Version(401)),
            ..
        })
    ));
    assert_eq!(log.stream_version(&youth).expect("version"), Some(Version(401)));
    assert_eq!(log.stream_version(&other).expect("version"), Some(Version(200)));
    assert_eq!(all_events(&log).len(), 601);
    assert!(log.append_many(Vec::new()).expect("nothing to do").is_empty());
}

/// Appends through `append_then` and waits for the callback's answer, with what the log
/// showed as durable when the callback ran.
fn append_then_and_wait(
    log: &Arc<kui_log_segment::SegmentLog>,
    request: AppendRequest,
) -> (Result<kui_log::AppendOutcome, LogError>, Option<Position>) {
    let (sender, answer) = std::sync::mpsc::channel();
    let seen_by_callback = Arc::clone(log);
    log.append_then(
        request,
        Box::new(move |result| {
            let head = seen_by_callback.head().ok().flatten().map(|(position, _)| position);
            drop(sender.send((result, head)));
        }),
    );
    answer
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the callback is called")
}

#[test]
fn append_then_answers_through_the_callback_once_the_events_are_durable() {
    let dir = temp_dir();
    let log = Arc::new(open_fast(dir.path()));
    let youth = stream("youth-1");
    let (result, head) = append_then_and_wait(
        &log,
        single(&youth, ExpectedVersion::NoStream, vec![event("A", 1), event("B", 2)]),
    );
    let outcome = result.expect("appended");
    assert_eq!(outcome.last_position, Position(2));
    assert_eq!(head, Some(Position(2)), "visible to readers when answered");

    // The same checks as a blocking append: a conflict and an invalid request write nothing.
    let (conflict, _) = append_then_and_wait(&log, single(&youth, ExpectedVersion::NoStream, vec![event("C", 3)]));
    assert!(matches!(conflict, Err(LogError::Conflict { .. })), "{conflict:?}");
    let (empty, _) = append_then_and_wait(&log, single(&youth, ExpectedVersion::Any, Vec::new()));
    assert!(matches!(empty, Err(LogError::EmptyAppend)), "{empty:?}");
    assert_eq!(all_events(log.as_ref()).len(), 2);
}
