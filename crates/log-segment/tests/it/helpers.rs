//! Shared fixtures: temp directories, logs, events and requests.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use kui_log::{
    Actor, AppendRequest, Envelope, EventLog, ExpectedVersion, Metadata, NewEvent, Position, StreamAppend, StreamId,
};
use kui_log_segment::{LogOptions, SegmentLog};
use uuid::Uuid;

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temp dir")
}

/// Options for tests that do not need durability (fast).
pub fn fast_options() -> LogOptions {
    LogOptions {
        fsync: false,
        cache_capacity_bytes: 16 * 1024 * 1024,
        persist_every_events: 16_384,
        acknowledge: kui_log_segment::Acknowledge::Synced,
    }
}

pub fn open_fast(path: &Path) -> SegmentLog {
    SegmentLog::open(path, fast_options()).expect("open the log")
}

pub fn open_durable(path: &Path) -> SegmentLog {
    let options = LogOptions {
        cache_capacity_bytes: 16 * 1024 * 1024,
        persist_every_events: 16_384,
        acknowledge: kui_log_segment::Acknowledge::Synced,
        ..LogOptions::durable()
    };
    SegmentLog::open(path, options).expect("open the log")
}

pub fn stream(name: &str) -> StreamId {
    StreamId::new(name).expect("valid stream id")
}

pub fn time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).expect("in range")
}

/// Deterministic, distinct event ids.
pub fn next_event_id() -> Uuid {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | u128::from(NEXT.fetch_add(1, Ordering::Relaxed)))
}

pub fn metadata() -> Metadata {
    Metadata {
        actor: Actor {
            staff_id: Some("staff-7".into()),
            role: "coordinator".into(),
            department: Some("youth-team".into()),
        },
        command_id: None,
        causation_id: None,
        correlation_id: Some(Uuid::from_u128(42)),
        occurred_at: time(1_767_225_600),
        recorded_at: time(1_767_225_601),
    }
}

/// An event whose payload is `{"n":n}` plus `extra`.
pub fn event(event_type: &str, n: u64) -> NewEvent {
    event_with_payload(event_type, format!(r#"{{"n":{n}}}"#).into_bytes())
}

pub fn event_with_payload(event_type: &str, payload: Vec<u8>) -> NewEvent {
    NewEvent {
        event_id: next_event_id(),
        event_type: event_type.into(),
        schema_version: 1,
        payload,
        metadata: metadata(),
    }
}

/// A request appending `events` to one stream.
pub fn single(stream_id: &StreamId, expected: ExpectedVersion, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        command_id: None,
        streams: vec![StreamAppend {
            stream: stream_id.clone(),
            expected,
            events,
        }],
    }
}

/// Appends `n` events to `stream_id` without a version check.
pub fn append_n(log: &dyn EventLog, stream_id: &StreamId, n: u64) {
    for i in 0..n {
        log.append(single(stream_id, ExpectedVersion::Any, vec![event("Happened", i)]))
            .expect("append");
    }
}

/// Every durable event, by position.
pub fn all_events(log: &dyn EventLog) -> Vec<Envelope> {
    log.read_all(Position(1), usize::MAX).expect("read all")
}

/// Asserts positions 1..=n without gaps and an intact hash chain.
pub fn assert_gap_free_chain(events: &[Envelope]) {
    let mut previous_hash = [0u8; 32];
    for (index, envelope) in events.iter().enumerate() {
        assert_eq!(envelope.position, Position(index as u64 + 1));
        assert_eq!(
            envelope.prev_hash, previous_hash,
            "broken link at {}",
            envelope.position
        );
        previous_hash = envelope.hash;
    }
}

/// A raw sled handle on a closed log's derived data (`<log>/index`), for tampering.
///
/// Retries for a moment: sled's IO threads may hold the directory lock briefly after
/// the log is closed.
pub fn raw_sled(path: &Path) -> sled::Db {
    let path = path.join("index");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match sled::open(&path) {
            Ok(db) => return db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(error) => panic!("cannot open {} with sled: {error}", path.display()),
        }
    }
}

/// Overwrites bytes of a closed log's segment at `offset`, inside a record, and gives
/// that record the checksum of its new bytes: tampering that the record checksum does
/// not show, for the checks behind it (hashes, links).
pub fn tamper_record(path: &Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path.join("events.seg"))
        .expect("open the segment");
    file.write_all_at(bytes, offset).expect("tamper");
    let segment = std::fs::read(path.join("events.seg")).expect("read");
    let mut at = 4096usize;
    loop {
        let len = u32::from_be_bytes(segment[at..at + 4].try_into().expect("4 bytes")) as usize;
        assert!(len > 0, "offset {offset} is not inside a record");
        let end = at + 8 + len;
        if (at as u64..end as u64).contains(&offset) {
            let crc = crc32fast::hash(&segment[at + 8..end]);
            file.write_all_at(&crc.to_be_bytes(), at as u64 + 4).expect("checksum");
            return;
        }
        at = end;
    }
}

/// Opens the log with the fast options, keeping the log's own error (a directory that is
/// not a log at all fails the test).
pub fn open_result(path: &Path) -> Result<SegmentLog, kui_log::LogError> {
    SegmentLog::open(path, fast_options()).map_err(log_error)
}

/// The log's own error inside an open error.
pub fn log_error(error: kui_log_segment::OpenError) -> kui_log::LogError {
    match error {
        kui_log_segment::OpenError::Log(error) => error,
        other => panic!("expected a log error, got {other:?}"),
    }
}
