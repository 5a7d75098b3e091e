//! Subscriptions: catch up, follow live appends from other threads, no gaps or
//! duplicates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kui_log::{EventLog, ExpectedVersion, LogError, Position};

use crate::helpers::{all_events, append_n, event, open_fast, single, stream, temp_dir};

#[test]
fn catches_up_then_follows_live_appends_without_gaps_or_duplicates() {
    let dir = temp_dir();
    let log = Arc::new(open_fast(dir.path()));
    append_n(&*log, &stream("before"), 50);
    let mut subscription = log.subscribe(Position(1));

    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let target = stream(&format!("live-{writer}"));
                for n in 0..100 {
                    let events = (0..=n % 3).map(|k| event("X", n * 10 + k)).collect();
                    log.append(single(&target, ExpectedVersion::Any, events))
                        .expect("append");
                }
            })
        })
        .collect();
    let total = 50 + 4 * (34 + 33 * 2 + 33 * 3);
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.len() < total && Instant::now() < deadline {
        if let Some(envelope) = subscription.next_timeout(Duration::from_millis(200)).expect("next") {
            received.push(envelope);
        }
    }
    for writer in writers {
        writer.join().expect("writer thread");
    }
    assert_eq!(received.len(), total);
    let positions: Vec<u64> = received.iter().map(|e| e.position.0).collect();
    assert_eq!(positions, (1..=total as u64).collect::<Vec<_>>());
    assert_eq!(received, all_events(&*log));
    assert_eq!(subscription.position(), Position(total as u64 + 1));
    // Nothing more arrives.
    assert_eq!(
        subscription.next_timeout(Duration::from_millis(20)).expect("next"),
        None
    );
}

#[test]
fn starts_from_the_middle() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    append_n(&log, &stream("s"), 30);
    let mut subscription = log.subscribe(Position(20));
    assert_eq!(subscription.position(), Position(20));
    let mut positions = Vec::new();
    while let Some(envelope) = subscription.next_timeout(Duration::from_millis(20)).expect("next") {
        positions.push(envelope.position.0);
    }
    assert_eq!(positions, (20..=30).collect::<Vec<_>>());
}

#[test]
fn times_out_when_caught_up_and_resumes_on_append() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    append_n(&log, &stream("s"), 2);
    let mut subscription = log.subscribe(Position(3));
    let started = Instant::now();
    assert_eq!(
        subscription.next_timeout(Duration::from_millis(100)).expect("next"),
        None
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(subscription.position(), Position(3));
    log.append(single(&stream("s"), ExpectedVersion::Any, vec![event("X", 3)]))
        .expect("append");
    let envelope = subscription
        .next_timeout(Duration::from_secs(5))
        .expect("next")
        .expect("event");
    assert_eq!(envelope.position, Position(3));
}

#[test]
fn a_waiting_subscription_wakes_up_on_append_from_another_thread() {
    let dir = temp_dir();
    let log = Arc::new(open_fast(dir.path()));
    let mut subscription = log.subscribe(Position(1));
    let appender = {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            log.append(single(&stream("s"), ExpectedVersion::Any, vec![event("X", 1)]))
                .expect("append");
        })
    };
    let envelope = subscription
        .next_timeout(Duration::from_secs(10))
        .expect("next")
        .expect("event");
    assert_eq!(envelope.position, Position(1));
    appender.join().expect("appender");
}

#[test]
fn delivers_what_is_durable_after_close_then_reports_closed() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    append_n(&log, &stream("s"), 3);
    let mut subscription = log.subscribe(Position(1));
    log.close().expect("close");
    for expected in 1..=3 {
        let envelope = subscription
            .next_timeout(Duration::from_secs(1))
            .expect("next")
            .expect("event");
        assert_eq!(envelope.position, Position(expected));
    }
    assert!(matches!(
        subscription.next_timeout(Duration::from_secs(1)),
        Err(LogError::Closed)
    ));
}
