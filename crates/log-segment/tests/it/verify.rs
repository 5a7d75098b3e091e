//! Verification: a clean log passes; tampering with stored bytes (event bytes in the
//! segment file, derived data through a raw sled handle, after closing the log) is found
//! and named by position; foreign directories are refused.

use std::path::Path;

use kui_log::{EventLog, ExpectedVersion, LogError, Position};
use kui_log_segment::SegmentLog;

use crate::helpers::{
    all_events, event_with_payload, fast_options, open_fast, raw_sled, single, stream, tamper_record, temp_dir,
};

/// Appends `n` events over three streams; event at position p has payload marker
/// `m-{p:04}`.
fn build_log(path: &Path, n: u64) {
    let log = open_fast(path);
    for position in 1..=n {
        let payload = format!(r#"{{"marker":"m-{position:04}"}}"#).into_bytes();
        let target = stream(&format!("youth-{}", position % 3));
        log.append(single(
            &target,
            ExpectedVersion::Any,
            vec![event_with_payload("X", payload)],
        ))
        .expect("append");
    }
    log.close().expect("close");
}

/// Where the chunk directory records the chunk that holds `position`: the key of its
/// directory block, the entry's index in the block, its first position, the segment
/// offset of its bytes and the bytes themselves (read from `events.seg`).
struct ChunkRef {
    block: sled::IVec,
    entry: usize,
    offset: u64,
    bytes: Vec<u8>,
}

const DIRECTORY_ENTRY: usize = 20;

fn chunk_holding(dir: &Path, db: &sled::Db, position: u64) -> ChunkRef {
    let mut best: Option<(u64, sled::IVec, usize, u64, usize)> = None;
    for item in db.scan_prefix(b"d") {
        let (key, value) = item.expect("readable");
        for (entry, record) in value.chunks_exact(DIRECTORY_ENTRY).enumerate() {
            let first = u64::from_be_bytes(record[..8].try_into().expect("first"));
            let offset = u64::from_be_bytes(record[8..16].try_into().expect("offset"));
            let len = u32::from_be_bytes(record[16..20].try_into().expect("length")) as usize;
            if first <= position && best.as_ref().is_none_or(|b| first > b.0) {
                best = Some((first, key.clone(), entry, offset, len));
            }
        }
    }
    let (_, block, entry, offset, len) = best.expect("a chunk");
    let segment = std::fs::read(dir.join("events.seg")).expect("read the segment");
    let offset_usize = usize::try_from(offset).expect("small segment");
    ChunkRef {
        block,
        entry,
        offset,
        bytes: segment[offset_usize..offset_usize + len].to_vec(),
    }
}

/// Removes a chunk from the persisted chunk directory.
fn remove_chunk(db: &sled::Db, chunk: &ChunkRef) {
    let mut value = db.get(&chunk.block).expect("read").expect("block").to_vec();
    let at = chunk.entry * DIRECTORY_ENTRY;
    value.drain(at..at + DIRECTORY_ENTRY);
    db.insert(&chunk.block, value).expect("tamper");
}

/// Overwrites stored event bytes in the segment file of a closed log.
fn write_segment(dir: &Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("events.seg"))
        .expect("open the segment");
    file.write_all_at(bytes, offset).expect("tamper");
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
        .expect("needle present")
}

fn expect_corrupt_at(result: Result<kui_log::VerifyReport, LogError>, position: u64, what: &str) {
    match result {
        Err(LogError::Corrupt {
            position: Some(found),
            reason,
        }) => {
            assert_eq!(found, position, "{reason}");
            assert!(reason.contains(what), "reason {reason:?} does not mention {what:?}");
        }
        other => panic!("expected corruption at {position}, got {other:?}"),
    }
}

#[test]
fn a_clean_log_verifies() {
    let dir = temp_dir();
    build_log(dir.path(), 40);
    let log = open_fast(dir.path());
    let mut progress = Vec::new();
    let report = log.verify(&mut |position| progress.push(position)).expect("verifies");
    assert_eq!(report.events, 40);
    assert_eq!(report.streams, 3);
    assert_eq!(report.head, log.head().expect("head"));
    assert_eq!(progress.last(), Some(&40));
}

#[test]
fn an_empty_log_verifies() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    let report = log.verify(&mut |_| {}).expect("verifies");
    assert_eq!((report.events, report.streams, report.head), (0, 0, None));
}

#[test]
fn a_flipped_payload_byte_is_found_at_its_position() {
    let dir = temp_dir();
    build_log(dir.path(), 40);
    {
        let db = raw_sled(dir.path());
        let ChunkRef {
            offset,
            bytes: mut chunk,
            ..
        } = chunk_holding(dir.path(), &db, 17);
        let at = find(&chunk, b"m-0017");
        chunk[at + 5] = b'8';
        write_segment(dir.path(), offset, &chunk);
    }
    let log = open_fast(dir.path());
    expect_corrupt_at(log.verify(&mut |_| {}), 17, "checksum");
    drop(log);
    // With the record's checksum made to match, the event's hash still gives it away.
    {
        let db = raw_sled(dir.path());
        let ChunkRef {
            offset, bytes: chunk, ..
        } = chunk_holding(dir.path(), &db, 17);
        let at = find(&chunk, b"m-0018");
        tamper_record(dir.path(), offset + at as u64 + 5, b"8");
    }
    let log = open_fast(dir.path());
    expect_corrupt_at(log.verify(&mut |_| {}), 17, "hash mismatch");
}

#[test]
fn a_rehashed_event_breaks_the_next_link() {
    // Rewriting an event and its stored hash consistently still breaks the chain: the
    // next event's prev_hash no longer matches.
    let dir = temp_dir();
    build_log(dir.path(), 40);
    let mut events = {
        let log = open_fast(dir.path());
        all_events(&log)
    };
    {
        let db = raw_sled(dir.path());
        let ChunkRef {
            offset,
            bytes: mut chunk,
            ..
        } = chunk_holding(dir.path(), &db, 23);
        let stored_hash = events[22].hash;
        let at = find(&chunk, b"m-0023");
        chunk[at + 5] = b'4';
        // Recompute the frame hash: sha256 over the canonical bytes, which end right
        // before the stored hash.
        // The first occurrence of the stored hash ends event 23's canonical bytes (the
        // second one would be event 24's prev_hash).
        let hash_at = find(&chunk, &stored_hash);
        let frame_begin = hash_at - canonical_len(&events[22]);
        let new_hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&chunk[frame_begin..hash_at]).into();
        chunk[hash_at..hash_at + 32].copy_from_slice(&new_hash);
        drop(db);
        tamper_record(dir.path(), offset, &chunk);
        events[22].hash = new_hash;
    }
    let log = open_fast(dir.path());
    expect_corrupt_at(log.verify(&mut |_| {}), 24, "broken link");
}

/// Length of an envelope's canonical bytes (see the frame table in kui-log's codec).
fn canonical_len(envelope: &kui_log::Envelope) -> usize {
    let opt_str = |value: &Option<String>| 1 + value.as_ref().map_or(0, |text| 4 + text.len());
    let opt_uuid = |value: &Option<uuid::Uuid>| 1 + value.map_or(0, |_| 16);
    let metadata = &envelope.metadata;
    1 + 8
        + 4
        + envelope.stream.as_str().len()
        + 8
        + 16
        + 4
        + envelope.event_type.len()
        + 2
        + opt_str(&metadata.actor.staff_id)
        + 4
        + metadata.actor.role.len()
        + opt_str(&metadata.actor.department)
        + opt_uuid(&metadata.command_id)
        + opt_uuid(&metadata.causation_id)
        + opt_uuid(&metadata.correlation_id)
        + 24
        + 4
        + envelope.payload.len()
        + 32
}

#[test]
fn a_missing_chunk_is_reported_as_a_gap() {
    let dir = temp_dir();
    build_log(dir.path(), 40);
    {
        let db = raw_sled(dir.path());
        let chunk = chunk_holding(dir.path(), &db, 10);
        remove_chunk(&db, &chunk);
        db.flush().expect("flush");
    }
    let log = open_fast(dir.path());
    expect_corrupt_at(log.verify(&mut |_| {}), 10, "chunk directory");
}

/// Key of `stream`'s index block starting at `first_version`.
fn index_block_key(stream: &str, first_version: u64) -> Vec<u8> {
    let mut key = vec![b's'];
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key.extend_from_slice(&first_version.to_be_bytes());
    key
}

#[test]
fn a_wrong_index_entry_is_found_by_reads_and_mended_by_reindex() {
    let dir = temp_dir();
    build_log(dir.path(), 40);
    {
        let db = raw_sled(dir.path());
        // youth-1 holds positions 1, 4, 7, ...; version 3 is position 7. Point it at 8.
        let key = index_block_key("youth-1", 1);
        let mut block = db.get(&key).expect("read").expect("block written at close").to_vec();
        // Each entry is the position (8 bytes) and the index in its chunk (4 bytes).
        assert_eq!(block[24..32], 7u64.to_be_bytes());
        block[24..32].copy_from_slice(&8u64.to_be_bytes());
        db.insert(key, block).expect("tamper");
        db.flush().expect("flush");
    }
    let log = open_fast(dir.path());
    let read = log.read_stream(&stream("youth-1"), kui_log::Version(1));
    assert!(
        matches!(read, Err(LogError::Corrupt { position: Some(8), .. })),
        "{read:?}"
    );
    drop(log);
    kui_log_segment::repair::reindex(dir.path()).expect("reindex");
    let log = open_fast(dir.path());
    assert_eq!(
        log.read_stream(&stream("youth-1"), kui_log::Version(1))
            .expect("read")
            .len(),
        14
    );
}

#[test]
fn a_non_empty_foreign_directory_is_not_a_log_and_stays_untouched() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("notes.txt"), "hello").expect("write");
    match SegmentLog::open(dir.path(), fast_options()) {
        Err(kui_log_segment::OpenError::NotALog { path }) => assert_eq!(path, dir.path()),
        other => panic!("expected NotALog, got {other:?}"),
    }
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec!["notes.txt"]);
    // A file is not a log either.
    let file = dir.path().join("notes.txt");
    assert!(matches!(
        SegmentLog::open(&file, fast_options()),
        Err(kui_log_segment::OpenError::NotALog { .. })
    ));
}

#[test]
fn another_sled_database_is_not_a_log() {
    let dir = temp_dir();
    {
        let db = sled::open(dir.path()).expect("sled");
        db.insert(b"someone else's key", b"value").expect("insert");
        db.flush().expect("flush");
    }
    assert!(matches!(
        SegmentLog::open(dir.path(), fast_options()),
        Err(kui_log_segment::OpenError::NotALog { .. })
    ));
}

#[test]
fn a_locked_directory_gives_a_backend_error() {
    let dir = temp_dir();
    let _log = open_fast(dir.path());
    let second = SegmentLog::open(dir.path(), fast_options());
    match second {
        Err(kui_log_segment::OpenError::Log(LogError::Backend(source))) => {
            assert!(source.to_string().contains("lock"), "{source}")
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert_eq!(
        _log.head().expect("head").map(|(position, _)| position),
        None::<Position>
    );
}
