//! Recovery of the segment file on open: a torn last record is cut off, a damaged record
//! followed by more records is corruption, and command ids survive a reopen.

use std::os::unix::fs::FileExt;
use std::path::Path;

use kui_log::{AppendRequest, EventLog, ExpectedVersion, LogError, Position, Version};
use uuid::Uuid;

use crate::helpers::{
    all_events, assert_gap_free_chain, event, event_with_payload, open_fast, raw_sled, single, stream, tamper_record,
    temp_dir,
};

/// Appends `n` single-event appends (one segment record each) with payload marker
/// `r-{position:04}`, then closes the log.
fn build_log(path: &Path, n: u64) {
    let log = open_fast(path);
    for position in 1..=n {
        let payload = format!(r#"{{"marker":"r-{position:04}"}}"#).into_bytes();
        log.append(single(
            &stream(&format!("s-{}", position % 2)),
            ExpectedVersion::Any,
            vec![event_with_payload("X", payload)],
        ))
        .expect("append");
    }
    log.close().expect("close");
}

/// Removes the persist marker (so the next open re-reads every record, as after a crash
/// right after the first appends) and returns the segment offset it recorded (the end of
/// the records).
fn forget_persist_marker(path: &Path) -> u64 {
    let db = raw_sled(path);
    let marker = db.remove(b"m:indexed").expect("remove").expect("a marker after close");
    db.flush().expect("flush");
    u64::from_be_bytes(marker[8..16].try_into().expect("offset"))
}

fn segment(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path.join("events.seg"))
        .expect("open the segment")
}

#[test]
fn a_torn_last_record_is_cut_off_and_the_log_continues() {
    let dir = temp_dir();
    build_log(dir.path(), 30);
    let end = forget_persist_marker(dir.path());
    {
        // A record header that promises 4000 bytes, of which only 100 made it.
        let file = segment(dir.path());
        let mut torn = Vec::new();
        torn.extend_from_slice(&4000u32.to_be_bytes());
        torn.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        torn.extend_from_slice(&[0xab; 100]);
        file.set_len(end).expect("cut the preallocated tail");
        file.write_all_at(&torn, end).expect("write");
    }
    let log = open_fast(dir.path());
    let events = all_events(&log);
    assert_eq!(events.len(), 30);
    assert_gap_free_chain(&events);
    assert_eq!(
        std::fs::metadata(dir.path().join("events.seg")).expect("stat").len(),
        end,
        "the torn record is truncated"
    );
    let outcome = log
        .append(single(
            &stream("s-0"),
            ExpectedVersion::Exact(Version(15)),
            vec![event("X", 1)],
        ))
        .expect("append after recovery");
    assert_eq!(outcome.first_position, Position(31));
    log.close().expect("close");
    let log = open_fast(dir.path());
    let events = all_events(&log);
    assert_eq!(events.len(), 31);
    assert_gap_free_chain(&events);
    log.verify(&mut |_| {}).expect("verifies");
}

#[test]
fn a_torn_record_with_a_bad_checksum_at_the_end_is_cut_off() {
    let dir = temp_dir();
    build_log(dir.path(), 10);
    let end = forget_persist_marker(dir.path());
    {
        // Complete length, but the last bytes of the body never reached the disk (the
        // zeros written ahead of the writer are still there).
        let file = segment(dir.path());
        let mut record = Vec::new();
        record.extend_from_slice(&64u32.to_be_bytes());
        record.extend_from_slice(&0u32.to_be_bytes());
        record.extend_from_slice(&[0x11; 16]);
        file.write_all_at(&record, end).expect("write");
    }
    let log = open_fast(dir.path());
    assert_eq!(
        log.head().expect("head").map(|(position, _)| position),
        Some(Position(10))
    );
    assert_gap_free_chain(&all_events(&log));
}

#[test]
fn a_damaged_record_followed_by_more_records_is_corruption() {
    let dir = temp_dir();
    build_log(dir.path(), 20);
    forget_persist_marker(dir.path());
    {
        let file = segment(dir.path());
        let len = file.metadata().expect("stat").len();
        let mut bytes = vec![0; usize::try_from(len).expect("small")];
        file.read_exact_at(&mut bytes, 0).expect("read");
        let at = bytes
            .windows(6)
            .position(|window| window == b"r-0007")
            .expect("marker present");
        file.write_all_at(b"8", (at + 5) as u64).expect("tamper");
    }
    match open_fast_result(dir.path()) {
        Err(LogError::Corrupt {
            position: Some(position),
            reason,
        }) => {
            assert_eq!(position, 7, "{reason}");
            assert!(reason.contains("acknowledged events are affected"), "{reason}");
        }
        other => panic!("expected corruption at 7, got {other:?}"),
    }
}

#[test]
fn a_damaged_event_in_a_persisted_record_is_found_by_verify() {
    let dir = temp_dir();
    build_log(dir.path(), 20);
    {
        let file = segment(dir.path());
        let mut bytes = vec![0; 64 * 1024];
        let n = file.read_at(&mut bytes, 0).expect("read");
        let at = bytes[..n]
            .windows(6)
            .position(|window| window == b"r-0012")
            .expect("marker present");
        drop(file);
        tamper_record(dir.path(), (at + 5) as u64, b"3");
    }
    let log = open_fast(dir.path());
    match log.verify(&mut |_| {}) {
        Err(LogError::Corrupt {
            position: Some(12),
            reason,
        }) => assert!(reason.contains("hash mismatch"), "{reason}"),
        other => panic!("expected corruption at 12, got {other:?}"),
    }
}

fn open_fast_result(path: &Path) -> Result<kui_log_segment::SegmentLog, LogError> {
    crate::helpers::open_result(path)
}

fn with_command(command_id: Uuid, target: &str) -> AppendRequest {
    AppendRequest {
        command_id: Some(command_id),
        ..single(&stream(target), ExpectedVersion::Any, vec![event("X", 0)])
    }
}

/// Command ids survive a clean close, both the ones persisted to sled (more than one
/// persist's worth of events) and the ones only in the segment tail (marker removed).
#[test]
fn command_ids_survive_reopening() {
    let dir = temp_dir();
    let n: u128 = 20_000;
    let first_outcomes = {
        let log = open_fast(dir.path());
        let requests = (0..n)
            .map(|k| with_command(Uuid::from_u128(k + 1), &format!("c-{}", k % 7)))
            .collect();
        let outcomes = log.append_many(requests).expect("append");
        log.close().expect("close");
        outcomes
    };
    let check = |log: &kui_log_segment::SegmentLog| {
        for k in [0u128, 1, 9_999, 16_383, 16_384, 19_999] {
            let id = Uuid::from_u128(k + 1);
            let stored = log.command_outcome(id).expect("lookup").expect("known command");
            assert_eq!(stored, first_outcomes[k as usize]);
            let retry = log.append(with_command(id, "elsewhere")).expect("retry");
            assert!(retry.replayed);
            assert_eq!(retry.first_position, first_outcomes[k as usize].first_position);
            assert_eq!(retry.streams, first_outcomes[k as usize].streams);
        }
        assert_eq!(log.command_outcome(Uuid::from_u128(n + 1)).expect("lookup"), None);
        assert_eq!(log.head().expect("head").map(|(position, _)| position.0), Some(20_000));
    };
    {
        let log = open_fast(dir.path());
        check(&log);
        log.verify(&mut |_| {}).expect("verifies");
    }
    forget_persist_marker(dir.path());
    let log = open_fast(dir.path());
    check(&log);
    log.verify(&mut |_| {}).expect("verifies");
}
