//! Reads: pagination, one stream from a version, scans, reopening.

use kui_log::{AppendRequest, EventLog, ExpectedVersion, Position, StreamAppend, Version};

use crate::helpers::{
    all_events, append_n, assert_gap_free_chain, event, event_with_payload, open_durable, open_fast, raw_sled, single,
    stream, temp_dir,
};

fn positions(events: &[kui_log::Envelope]) -> Vec<u64> {
    events.iter().map(|e| e.position.0).collect()
}

#[test]
fn read_all_pages_through_the_log() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    for n in 0..25 {
        let target = stream(&format!("youth-{}", n % 3));
        log.append(single(&target, ExpectedVersion::Any, vec![event("X", n)]))
            .expect("append");
    }
    assert_eq!(
        positions(&log.read_all(Position(1), 10).expect("page")),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(
        positions(&log.read_all(Position(11), 10).expect("page")),
        (11..=20).collect::<Vec<_>>()
    );
    assert_eq!(
        positions(&log.read_all(Position(21), 10).expect("page")),
        (21..=25).collect::<Vec<_>>()
    );
    assert!(log.read_all(Position(26), 10).expect("page").is_empty());
    assert!(log.read_all(Position(3), 0).expect("page").is_empty());
    // Position 0 means "from the start".
    assert_eq!(positions(&log.read_all(Position(0), 2).expect("page")), vec![1, 2]);
    // Paging gives the same events as one big read.
    let mut paged = Vec::new();
    let mut from = Position(1);
    loop {
        let page = log.read_all(from, 7).expect("page");
        let Some(last) = page.last() else { break };
        from = last.position.next();
        paged.extend(page);
    }
    assert_eq!(paged, all_events(&log));
}

#[test]
fn read_stream_from_a_version() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let (youth, other) = (stream("youth-1"), stream("youth-2"));
    for n in 0..10 {
        log.append(single(&youth, ExpectedVersion::Any, vec![event("X", n)]))
            .expect("append");
        log.append(single(&other, ExpectedVersion::Any, vec![event("Y", n)]))
            .expect("append");
    }
    let tail = log.read_stream(&youth, Version(4)).expect("read");
    assert_eq!(
        tail.iter().map(|e| e.version.0).collect::<Vec<_>>(),
        (4..=10).collect::<Vec<_>>()
    );
    assert!(tail.iter().all(|e| e.stream == youth));
    assert!(tail.windows(2).all(|pair| pair[0].position < pair[1].position));
    assert_eq!(tail[0].payload, br#"{"n":3}"#);
    assert_eq!(log.read_stream(&youth, Version(0)).expect("read").len(), 10);
    assert!(log.read_stream(&youth, Version(11)).expect("read").is_empty());
    assert!(log.read_stream(&stream("youth"), Version(1)).expect("read").is_empty());
    assert_eq!(log.stream_version(&stream("youth")).expect("version"), None);
    assert_eq!(log.stream_version(&other).expect("version"), Some(Version(10)));
}

#[test]
fn large_groups_and_large_events_span_several_chunks() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let youth = stream("youth-1");
    // 700 events in one request: more than one chunk can hold by count and by size.
    let events: Vec<_> = (0..700).map(|n| event("X", n)).collect();
    log.append(single(&youth, ExpectedVersion::NoStream, events))
        .expect("append");
    // Events larger than a chunk's size bound, including one sled stores as a blob.
    for size in [5_000, 7_000, 200_000] {
        let payload = format!(r#"{{"blob":"{}"}}"#, "x".repeat(size)).into_bytes();
        let request = single(
            &youth,
            ExpectedVersion::Any,
            vec![event_with_payload("Big", payload.clone())],
        );
        let outcome = log.append(request).expect("append");
        let stored = log.read_all(outcome.first_position, 1).expect("read");
        assert_eq!(stored[0].payload, payload);
    }
    let events = all_events(&log);
    assert_eq!(events.len(), 703);
    assert_gap_free_chain(&events);
    assert_eq!(log.read_stream(&youth, Version(1)).expect("read"), events);
    log.verify(&mut |_| {}).expect("verifies");
}

#[test]
fn reopening_keeps_events_head_and_chain() {
    let dir = temp_dir();
    let youth = stream("youth-1");
    let (events_before, head_before) = {
        let log = open_durable(dir.path());
        assert_eq!(log.head_position().expect("head position"), 0, "empty");
        append_n(&log, &youth, 5);
        let request = AppendRequest {
            command_id: None,
            streams: vec![
                StreamAppend {
                    stream: stream("a"),
                    expected: ExpectedVersion::NoStream,
                    events: vec![event("X", 1)],
                },
                StreamAppend {
                    stream: stream("b"),
                    expected: ExpectedVersion::NoStream,
                    events: vec![event("X", 2)],
                },
            ],
        };
        log.append(request).expect("append");
        let snapshot = (all_events(&log), log.head().expect("head"));
        log.close().expect("close");
        snapshot
    };
    assert_eq!(head_before.map(|(position, _)| position), Some(Position(7)));

    let log = open_durable(dir.path());
    assert_eq!(log.head().expect("head"), head_before);
    assert_eq!(log.head_position().expect("head position"), 7);
    assert_eq!(all_events(&log), events_before);
    assert_eq!(log.stream_version(&youth).expect("version"), Some(Version(5)));
    // Expected versions and the chain continue where they were.
    let outcome = log
        .append(single(&youth, ExpectedVersion::Exact(Version(5)), vec![event("X", 6)]))
        .expect("append");
    assert_eq!(outcome.first_position, Position(8));
    assert_eq!(log.head_position().expect("head position"), 8);
    assert_eq!(outcome.streams, vec![(youth.clone(), Version(6))]);
    let events = all_events(&log);
    assert_gap_free_chain(&events);
    assert_eq!(events[7].prev_hash, head_before.expect("head").1);
}

#[test]
fn dropping_the_log_flushes_and_releases_the_directory() {
    let dir = temp_dir();
    {
        let log = open_fast(dir.path());
        append_n(&log, &stream("s"), 3);
    }
    let log = open_fast(dir.path());
    assert_eq!(all_events(&log).len(), 3);
}

/// More events than the writer keeps in its in-memory index (16,384), in five streams.
fn append_many(log: &dyn EventLog) -> Vec<kui_log::StreamId> {
    let streams: Vec<_> = (0..5).map(|n| stream(&format!("youth-{n}"))).collect();
    for request in 0..180u64 {
        let target = &streams[(request % 5) as usize];
        let events = (0..100).map(|n| event("X", request * 100 + n)).collect();
        log.append(single(target, ExpectedVersion::Any, events))
            .expect("append");
    }
    streams
}

fn assert_streams_complete(log: &dyn EventLog, streams: &[kui_log::StreamId]) {
    for target in streams {
        let events = log.read_stream(target, Version(1)).expect("read");
        assert_eq!(events.len(), 3600, "{target}");
        assert!(events
            .iter()
            .enumerate()
            .all(|(n, e)| e.version.0 == n as u64 + 1 && e.stream == *target));
        assert!(events.windows(2).all(|pair| pair[0].position < pair[1].position));
        let tail = log.read_stream(target, Version(3550)).expect("read");
        assert_eq!(tail.first().map(|e| e.version), Some(Version(3550)));
        assert_eq!(log.stream_version(target).expect("version"), Some(Version(3600)));
    }
}

#[test]
fn the_stream_index_stays_complete_across_its_flush_and_a_reopen() {
    let dir = temp_dir();
    let streams = {
        let log = open_fast(dir.path());
        let streams = append_many(&log);
        assert_streams_complete(&log, &streams);
        log.verify(&mut |_| {}).expect("verifies");
        log.close().expect("close");
        streams
    };
    let log = open_fast(dir.path());
    assert_streams_complete(&log, &streams);
    // Versions continue after the reopen.
    let outcome = log
        .append(single(
            &streams[0],
            ExpectedVersion::Exact(Version(3600)),
            vec![event("X", 0)],
        ))
        .expect("append");
    assert_eq!(outcome.streams, vec![(streams[0].clone(), Version(3601))]);
    log.verify(&mut |_| {}).expect("verifies");
}

#[test]
fn a_lost_stream_index_is_rebuilt_from_the_events() {
    let dir = temp_dir();
    let streams = {
        let log = open_fast(dir.path());
        let streams = append_many(&log);
        log.close().expect("close");
        streams
    };
    {
        // Drop every index block and the marker, as if the index had never been written.
        let db = raw_sled(dir.path());
        let keys: Vec<_> = db.scan_prefix(b"s").keys().map(|key| key.expect("key")).collect();
        assert!(!keys.is_empty());
        for key in keys {
            db.remove(key).expect("remove");
        }
        assert!(db.remove(b"m:indexed").expect("remove").is_some());
        db.flush().expect("flush");
    }
    let log = open_fast(dir.path());
    assert_streams_complete(&log, &streams);
    log.verify(&mut |_| {}).expect("verifies");
    log.append(single(
        &streams[1],
        ExpectedVersion::Exact(Version(3600)),
        vec![event("X", 0)],
    ))
    .expect("versions continue");
}
