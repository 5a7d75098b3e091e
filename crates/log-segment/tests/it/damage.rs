//! Damage and interrupted writes: every changed byte of an acknowledged log is reported
//! with its position, never cut; only a write that provably never finished is cut; a
//! read-only open and `verify` change no file; repair, reindex and upgrade.

use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use kui_log::{AppendRequest, EventLog, ExpectedVersion, LogError, Position};
use kui_log_segment::repair;
use kui_log_segment::SegmentLog;
use sha2::Digest;
use uuid::Uuid;

use crate::helpers::{
    all_events, assert_gap_free_chain, event, event_with_payload, open_fast, single, stream, temp_dir,
};

/// Records start after the segment's header block.
const HEADER_BLOCK: u64 = 4096;

/// Event counts of the appends `build_log` makes, one segment record each.
const APPENDS: [u64; 6] = [1, 3, 1, 2, 1, 4];

/// A closed log of one record per append in [`APPENDS`] (every second one with a
/// command id); returns the first position of each record.
fn build_log(path: &Path) -> Vec<u64> {
    let log = open_fast(path);
    let mut firsts = Vec::new();
    for (n, count) in APPENDS.iter().enumerate() {
        let events = (0..*count)
            .map(|k| event_with_payload("X", format!(r#"{{"append":{n},"event":{k}}}"#).into_bytes()))
            .collect();
        let request = AppendRequest {
            command_id: (n % 2 == 0).then(|| Uuid::from_u128(n as u128 + 1)),
            ..single(&stream(&format!("s-{}", n % 2)), ExpectedVersion::Any, events)
        };
        firsts.push(log.append(request).expect("append").first_position.0);
    }
    log.close().expect("close");
    firsts
}

/// (offset, end) of every record of a closed log's segment, in order.
fn records(path: &Path) -> Vec<(u64, u64)> {
    let bytes = std::fs::read(path.join("events.seg")).expect("read the segment");
    let mut found = Vec::new();
    let mut at = HEADER_BLOCK as usize;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        if len == 0 {
            break;
        }
        found.push((at as u64, (at + 8 + len) as u64));
        at += 8 + len;
    }
    found
}

fn segment_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path.join("events.seg"))
        .expect("open the segment")
}

fn read_byte(path: &Path, offset: u64) -> u8 {
    let mut byte = [0u8];
    segment_file(path).read_exact_at(&mut byte, offset).expect("read");
    byte[0]
}

fn write_bytes(path: &Path, offset: u64, bytes: &[u8]) {
    segment_file(path).write_all_at(bytes, offset).expect("write");
}

/// A digest of every file under `path`.
fn digest(path: &Path) -> BTreeMap<PathBuf, [u8; 32]> {
    let mut files = BTreeMap::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_dir() {
                pending.push(entry.path());
            } else {
                let bytes = std::fs::read(entry.path()).expect("read");
                files.insert(entry.path(), sha2::Sha256::digest(&bytes).into());
            }
        }
    }
    files
}

/// Verifies through a read-only open: the open's error, or verify's.
fn verify_read_only(path: &Path) -> Result<kui_log::VerifyReport, LogError> {
    let log = SegmentLog::open_read_only(path).map_err(crate::helpers::log_error)?;
    log.verify(&mut |_| {})
}

fn corrupt_position(result: Result<kui_log::VerifyReport, LogError>, what: &str) -> Option<u64> {
    match result {
        Err(LogError::Corrupt { position, .. }) => position,
        other => panic!("{what}: expected corruption, got {other:?}"),
    }
}

/// The positions of the record holding segment byte `offset`.
fn positions_at(records: &[(u64, u64)], firsts: &[u64], offset: u64) -> std::ops::RangeInclusive<u64> {
    let index = records
        .iter()
        .position(|(start, end)| (*start..*end).contains(&offset))
        .expect("inside a record");
    firsts[index]..=firsts[index] + APPENDS[index] - 1
}

/// Damage is named at a position of the damaged record: the event whose bytes changed
/// when they can still be read, else the record's first.
#[track_caller]
fn assert_named_in(position: Option<u64>, positions: &std::ops::RangeInclusive<u64>, what: &str) {
    assert!(
        position.is_some_and(|position| positions.contains(&position)),
        "{what}: named {position:?}, not a position in {positions:?}"
    );
}

#[test]
fn every_changed_byte_of_an_acknowledged_log_is_reported_at_its_record() {
    let dir = temp_dir();
    let firsts = build_log(dir.path());
    let records = records(dir.path());
    let end = records.last().expect("records").1;
    let (middle_start, middle_end) = records[2];
    let (last_start, _) = *records.last().expect("records");
    // The header's magic and format, both watermark slots, every byte of a middle record
    // and of the last one, every seventh byte elsewhere, and some of the zeros after the
    // records.
    let offsets: Vec<u64> = (0..8)
        .chain(512..576)
        .chain(1024..1088)
        .chain([8, 600, 2000, 4095])
        .chain(middle_start..middle_end)
        .chain(last_start..end)
        .chain((HEADER_BLOCK..end).step_by(7))
        .chain([end + 8, end + 9, end + 100, end + 4000])
        .collect();
    for (n, offset) in offsets.into_iter().enumerate() {
        let original = read_byte(dir.path(), offset);
        for changed in [original ^ 0x01, original ^ 0xff, 0] {
            if changed == original {
                continue;
            }
            write_bytes(dir.path(), offset, &[changed]);
            let before = (n % 256 == 0).then(|| digest(dir.path()));
            let what = format!("byte {offset} changed from {original:#04x} to {changed:#04x}");
            let position = corrupt_position(verify_read_only(dir.path()), &what);
            if let Some(before) = before {
                assert_eq!(digest(dir.path()), before, "{what}: the read-only check wrote");
            }
            if offset >= end {
                assert_eq!(position, Some(13), "{what}: named after the last event");
            } else if offset >= HEADER_BLOCK {
                assert_named_in(position, &positions_at(&records, &firsts, offset), &what);
            }
            write_bytes(dir.path(), offset, &[original]);
        }
    }
    // A byte right after the records is the start of a record header: indistinguishable
    // from a header whose write was cut short, it is an interrupted write, never acknowledged.
    for offset in end..end + 8 {
        write_bytes(dir.path(), offset, &[0x5a]);
        let log = SegmentLog::open_read_only(dir.path()).expect("opens");
        assert_eq!(log.interrupted().map(|found| found.offset), Some(end), "byte {offset}");
        drop(log);
        write_bytes(dir.path(), offset, &[0]);
    }
    let log = open_fast(dir.path());
    assert_eq!(log.verify(&mut |_| {}).expect("restored").events, 12);
}

#[test]
fn a_changed_byte_refuses_the_writable_open_without_derived_data_and_is_found_by_verify_with_it() {
    let dir = temp_dir();
    let firsts = build_log(dir.path());
    let records = records(dir.path());
    let (last_start, last_end) = *records.last().expect("records");
    let (middle_start, _) = records[2];
    // Header, length, checksum and payload bytes of the last and of a middle record.
    let cases = [
        last_start,
        last_start + 3,
        last_start + 5,
        last_end - 1,
        last_end - 40,
        middle_start + 2,
        middle_start + 7,
        middle_start + 30,
    ];
    for offset in cases {
        let expected = positions_at(&records, &firsts, offset);
        let what = format!("byte {offset}");
        let original = read_byte(dir.path(), offset);
        write_bytes(dir.path(), offset, &[original ^ 0x10]);

        // With the derived data: the open reads no record before the persisted offset
        // (it only checks the last event's hash against the watermark), and verify finds
        // the damage.
        match crate::helpers::open_result(dir.path()) {
            Ok(log) => {
                assert_named_in(corrupt_position(log.verify(&mut |_| {}), "verify"), &expected, &what);
                log.close().expect("close");
            }
            // The last event's hash, checked against the watermark, names that event.
            Err(LogError::Corrupt { position, .. }) => assert_named_in(position, &expected, &what),
            Err(other) => panic!("byte {offset}: {other:?}"),
        }

        // Without it (deleted, or after a crash before the first persist): the open
        // re-reads every record and refuses, changing nothing.
        std::fs::remove_dir_all(dir.path().join("index")).expect("drop the derived data");
        let segment_before = std::fs::read(dir.path().join("events.seg")).expect("read");
        match crate::helpers::open_result(dir.path()) {
            Err(LogError::Corrupt { position, reason }) => {
                assert_named_in(position, &expected, &format!("{what}: {reason}"));
                assert!(reason.contains("nothing was cut"), "{reason}");
            }
            other => panic!("byte {offset}: expected the open to refuse, got {other:?}"),
        }
        let segment_after = std::fs::read(dir.path().join("events.seg")).expect("read");
        assert!(
            segment_before == segment_after,
            "byte {offset}: the refused open changed the segment"
        );
        write_bytes(dir.path(), offset, &[original]);
        let log = open_fast(dir.path());
        assert_eq!(log.head().expect("head").map(|(p, _)| p.0), Some(12));
        log.close().expect("close");
    }
}

#[test]
fn a_sigkill_after_the_last_answer_and_a_changed_last_byte_is_refused_not_cut() {
    // The last record of a log that was never closed (the watermark was written after
    // the answer; no persist ran), then one changed byte in its payload.
    let dir = temp_dir();
    let log = open_fast(dir.path());
    for n in 0..3 {
        log.append(single(
            &stream("youth-1"),
            ExpectedVersion::Any,
            vec![event("Referred", n)],
        ))
        .expect("append");
    }
    // Simulate the kill: copy the files while the log is open, as they are on disk.
    let copy = temp_dir();
    copy_tree(dir.path(), copy.path());
    drop(log);
    let (last_start, last_end) = *records(copy.path()).last().expect("records");
    let at = last_start + (last_end - last_start) / 2;
    let original = read_byte(copy.path(), at);
    write_bytes(copy.path(), at, &[original ^ 0x04]);
    assert_eq!(corrupt_position(verify_read_only(copy.path()), "verify"), Some(3));
    std::fs::remove_dir_all(copy.path().join("index")).expect("drop the derived data");
    assert!(matches!(
        crate::helpers::open_result(copy.path()),
        Err(LogError::Corrupt { position: Some(3), .. })
    ));
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("list") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A torn write after the end of the records: `bytes` written at the end, zeros after.
fn torn_after_end(path: &Path, bytes: &[u8]) -> u64 {
    let end = records(path).last().expect("records").1;
    write_bytes(path, end, bytes);
    end
}

/// A record header declaring `len` body bytes, followed by `written` bytes of body.
fn partial_record(len: u32, written: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    bytes.extend(std::iter::repeat_n(0xab, written));
    bytes
}

#[test]
fn an_interrupted_write_is_found_by_a_read_only_open_and_cut_by_a_writable_one() {
    let shapes: [(&str, Vec<u8>); 4] = [
        ("three bytes of a header", vec![0, 0, 3]),
        ("a header and part of the body", partial_record(4000, 100)),
        (
            "a body that runs past the end of the file",
            partial_record(30 * 1024 * 1024, 50),
        ),
        ("a header only", partial_record(200, 0)),
    ];
    for (what, bytes) in shapes {
        let dir = temp_dir();
        build_log(dir.path());
        let end = torn_after_end(dir.path(), &bytes);
        let before = digest(dir.path());
        let log = SegmentLog::open_read_only(dir.path()).expect(what);
        let found = log.interrupted().expect("found").clone();
        assert_eq!(
            (found.offset, found.cut, found.first_position),
            (end, false, 13),
            "{what}"
        );
        assert_eq!(log.verify(&mut |_| {}).expect(what).events, 12);
        drop(log);
        assert_eq!(digest(dir.path()), before, "{what}: the read-only open wrote");

        let log = open_fast(dir.path());
        let cut = log.interrupted().expect("cut").clone();
        assert!(cut.cut, "{what}");
        assert_eq!(
            std::fs::metadata(dir.path().join("events.seg")).expect("stat").len(),
            end
        );
        assert_eq!(log.head().expect("head").map(|(p, _)| p.0), Some(12), "{what}");
        log.append(single(&stream("s-0"), ExpectedVersion::Any, vec![event("X", 1)]))
            .expect("the log goes on");
        log.close().expect("close");
        let log = open_fast(dir.path());
        assert!(log.interrupted().is_none());
        assert_gap_free_chain(&all_events(&log));
        assert_eq!(log.verify(&mut |_| {}).expect("verifies").events, 13);
    }
}

#[test]
fn a_complete_record_after_the_end_with_a_bad_checksum_is_damage_not_a_torn_write() {
    let dir = temp_dir();
    build_log(dir.path());
    // A complete body (no zeros at its end) whose checksum does not match.
    let mut bytes = partial_record(64, 64);
    bytes[8..].fill(0x11);
    torn_after_end(dir.path(), &bytes);
    assert_eq!(corrupt_position(verify_read_only(dir.path()), "verify"), Some(13));
    // The same record with its last 40 bytes never written is an interrupted write.
    let dir = temp_dir();
    build_log(dir.path());
    let mut bytes = partial_record(64, 24);
    bytes[8..].fill(0x11);
    let end = torn_after_end(dir.path(), &bytes);
    let log = open_fast(dir.path());
    assert_eq!(log.interrupted().map(|found| found.offset), Some(end));
}

/// Moves the watermark back to the end of record `keep` (what a power loss can leave:
/// the watermark of the last group or two not yet on disk).
fn rewind_watermark(path: &Path, records: &[(u64, u64)], firsts: &[u64], keep: usize) {
    let log = open_fast(path);
    let events = all_events(&log);
    drop(log);
    let position = firsts[keep + 1] - 1;
    let hash = events[(position - 1) as usize].hash;
    let mut slot = [0u8; 64];
    slot[..8].copy_from_slice(&1_000_000u64.to_be_bytes());
    slot[8..16].copy_from_slice(&records[keep].1.to_be_bytes());
    slot[16..24].copy_from_slice(&position.to_be_bytes());
    slot[24..56].copy_from_slice(&hash);
    let crc = crc32fast::hash(&slot[..56]);
    slot[56..60].copy_from_slice(&crc.to_be_bytes());
    // Sequence 1,000,000 is even: slot 0 at byte 512. Clear slot 1 so it is the newest.
    write_bytes(path, 512, &slot);
    write_bytes(path, 1024, &[0u8; 64]);
    std::fs::remove_dir_all(path.join("index")).expect("drop the derived data");
}

#[test]
fn after_the_watermark_one_changed_byte_is_still_damage_and_only_zeros_make_a_torn_write() {
    let build = || {
        let dir = temp_dir();
        let firsts = build_log(dir.path());
        let records = records(dir.path());
        rewind_watermark(dir.path(), &records, &firsts, 3);
        (dir, firsts, records)
    };
    let (last_start, last_end) = {
        let (_, _, records) = build();
        *records.last().expect("records")
    };
    // One changed byte anywhere in the last record (after the watermark): refused.
    for offset in [
        last_start,
        last_start + 1,
        last_start + 3,
        last_start + 6,
        last_start + 20,
        last_end - 1,
    ] {
        let (dir, _, _) = build();
        let original = read_byte(dir.path(), offset);
        for changed in [original ^ 0x01, original.wrapping_add(1), 0] {
            if changed == original {
                continue;
            }
            write_bytes(dir.path(), offset, &[changed]);
            match crate::helpers::open_result(dir.path()) {
                Err(LogError::Corrupt { position, reason }) => {
                    assert_named_in(position, &(9..=12), &format!("byte {offset} -> {changed:#04x}"));
                    assert!(reason.contains("after the last acknowledged write"), "{reason}");
                }
                other => panic!("byte {offset} -> {changed:#04x}: expected refusal, got {other:?}"),
            }
        }
    }
    // The last record's length field made larger (its end now lies in the zeros): the
    // record is complete and its checksum matches its real length, so it is damage.
    {
        let (dir, _, _) = build();
        let len = last_end - last_start - 8;
        write_bytes(
            dir.path(),
            last_start,
            &u32::try_from(len + 100).expect("small").to_be_bytes(),
        );
        match crate::helpers::open_result(dir.path()) {
            Err(LogError::Corrupt {
                position: Some(9),
                reason,
            }) => {
                assert!(reason.contains("length field is damaged"), "{reason}");
            }
            other => panic!("expected refusal at 9, got {other:?}"),
        }
    }
    // Its second half zeroed (a write that never finished): cut, with only it lost.
    {
        let (dir, _, _) = build();
        let half = (last_end - last_start) / 2;
        write_bytes(
            dir.path(),
            last_end - half,
            &vec![0u8; usize::try_from(half).expect("small")],
        );
        let log = open_fast(dir.path());
        assert_eq!(log.interrupted().map(|found| found.offset), Some(last_start));
        assert_eq!(log.head().expect("head").map(|(p, _)| p.0), Some(8));
    }
}

#[test]
fn a_truncated_log_is_reported_where_the_acknowledged_records_end() {
    for cut in ["inside the last record", "at a record boundary"] {
        let dir = temp_dir();
        build_log(dir.path());
        let records = records(dir.path());
        let (last_start, last_end) = *records.last().expect("records");
        let len = if cut == "at a record boundary" {
            last_start
        } else {
            last_end - 10
        };
        segment_file(dir.path()).set_len(len).expect("truncate");
        let before = digest(dir.path());
        let result = verify_read_only(dir.path());
        match &result {
            Err(LogError::Corrupt {
                position: Some(9),
                reason,
            }) => {
                assert!(reason.contains("last acknowledged write"), "{cut}: {reason}");
            }
            other => panic!("{cut}: expected corruption at 9, got {other:?}"),
        }
        assert_eq!(digest(dir.path()), before, "{cut}: verify wrote");
    }
}

#[test]
fn a_segment_cut_inside_its_header_block_is_a_repair_that_loses_the_acknowledged_events() {
    // The watermark slots (bytes 512 and 1024) survive; every record is gone.
    let dir = temp_dir();
    build_log(dir.path());
    std::fs::remove_dir_all(dir.path().join("index")).expect("delete the derived data");
    segment_file(dir.path()).set_len(2000).expect("truncate");
    let before = digest(dir.path());
    match verify_read_only(dir.path()) {
        Err(LogError::Corrupt {
            position: Some(1),
            reason,
        }) => assert!(reason.contains("last acknowledged write"), "{reason}"),
        other => panic!("expected corruption at 1, got {other:?}"),
    }
    assert!(matches!(
        crate::helpers::open_result(dir.path()),
        Err(LogError::Corrupt { .. })
    ));
    let plan = repair::inspect(dir.path())
        .expect("inspect")
        .expect("something to repair");
    assert!(plan.problem.contains("header block is shorter"), "{}", plan.problem);
    assert_eq!(plan.kept_head, 0);
    assert_eq!(plan.acknowledged_to, Some(12), "{plan:?}");
    assert!(
        plan.loses_acknowledged(),
        "the plan must say that the acknowledged events are lost"
    );
    std::fs::remove_dir_all(dir.path().join("index")).expect("delete the index the open made");
    assert_eq!(digest(dir.path()), before, "reading wrote");
    repair::repair(&plan).expect("repair");
    let log = open_fast(dir.path());
    assert_eq!(log.verify(&mut |_| {}).expect("verifies").events, 0);
}

#[test]
fn deleted_derived_data_is_rebuilt_on_open_and_reindex_drops_it() {
    let dir = temp_dir();
    build_log(dir.path());
    std::fs::remove_dir_all(dir.path().join("index")).expect("delete");
    let log = open_fast(dir.path());
    assert_eq!(log.verify(&mut |_| {}).expect("verifies").events, 12);
    assert_eq!(
        log.read_stream(&stream("s-1"), kui_log::Version(1))
            .expect("read")
            .len(),
        9
    );
    // Not while the log is open.
    assert!(matches!(
        repair::reindex(dir.path()),
        Err(kui_log_segment::OpenError::Log(LogError::Backend(_)))
    ));
    log.close().expect("close");
    repair::reindex(dir.path()).expect("reindex");
    assert!(!dir.path().join("index").exists());
    let log = open_fast(dir.path());
    assert_eq!(
        log.command_outcome(Uuid::from_u128(3))
            .expect("lookup")
            .map(|o| o.first_position),
        Some(Position(5))
    );
}

#[test]
fn repair_shows_what_it_cuts_keeps_a_copy_and_leaves_a_log_that_verifies() {
    let dir = temp_dir();
    let firsts = build_log(dir.path());
    let records = records(dir.path());
    let (middle_start, middle_end) = records[3];
    write_bytes(dir.path(), middle_start + 12, &[0xee]);
    let plan = repair::inspect(dir.path())
        .expect("inspect")
        .expect("something to repair");
    assert_eq!(plan.cut_at, Some(middle_start));
    assert_eq!(plan.kept_head, firsts[3] - 1);
    assert_eq!(
        plan.last_found,
        Some(12),
        "the records after the damage are still readable"
    );
    assert_eq!(plan.acknowledged_to, Some(12));
    assert!(plan.loses_acknowledged());
    let end = records.last().expect("records").1;
    assert_eq!(plan.cut_bytes, end - middle_start);
    let segment = std::fs::read(dir.path().join("events.seg")).expect("read");
    let repaired = repair::repair(&plan).expect("repair");
    let copy = std::fs::read(&repaired.copies[1]).expect("the copy");
    assert_eq!(copy, segment[middle_start as usize..end as usize]);
    assert_eq!(repaired.head, firsts[3] - 1);
    assert!(middle_end > middle_start);
    let log = open_fast(dir.path());
    assert_eq!(log.verify(&mut |_| {}).expect("verifies").events, firsts[3] - 1);
    assert!(
        matches!(
            repair::repair(&plan),
            Err(kui_log_segment::OpenError::Log(LogError::Backend(_)))
        ),
        "a repair waits for the log to be closed"
    );
    drop(log);
    assert_eq!(repair::inspect(dir.path()).expect("inspect"), None);
}

#[test]
fn a_request_larger_than_a_record_is_all_or_nothing_after_a_crash() {
    let dir = temp_dir();
    build_log(dir.path());
    let log = open_fast(dir.path());
    // About 10 MiB in one request: three records, the first two saying it continues.
    let payload = |k: u64| format!(r#"{{"k":{k},"pad":"{}"}}"#, "x".repeat(20_000)).into_bytes();
    let events = (0..500).map(|k| event_with_payload("Big", payload(k))).collect();
    let outcome = log
        .append(single(&stream("big"), ExpectedVersion::NoStream, events))
        .expect("append");
    assert_eq!(outcome.last_position.0, 512);
    log.close().expect("close");
    let all = records(dir.path());
    assert!(all.len() >= APPENDS.len() + 3, "{all:?}");
    // Complete: every event is there after a reopen that re-reads the records.
    std::fs::remove_dir_all(dir.path().join("index")).expect("drop");
    let log = open_fast(dir.path());
    assert_eq!(log.head().expect("head").map(|(p, _)| p.0), Some(512));
    drop(log);
    // The request's last record never written, and the watermark before the request (a
    // crash before the answer): the whole request goes, not only the last record.
    let (_, request_start) = all[APPENDS.len() - 1];
    let (last_start, last_end) = *all.last().expect("records");
    let firsts: Vec<u64> = {
        let mut firsts = vec![1];
        for count in APPENDS {
            firsts.push(firsts.last().expect("first") + count);
        }
        firsts
    };
    rewind_watermark(dir.path(), &all, &firsts, APPENDS.len() - 1);
    write_bytes(dir.path(), last_start, &vec![0u8; (last_end - last_start) as usize]);
    let log = open_fast(dir.path());
    assert_eq!(log.interrupted().map(|found| found.offset), Some(request_start));
    assert_eq!(log.head().expect("head").map(|(p, _)| p.0), Some(12));
    assert_eq!(log.stream_version(&stream("big")).expect("version"), None);
}

#[test]
fn an_earlier_format_is_refused_and_upgraded_with_every_event_and_hash_kept() {
    let dir = temp_dir();
    build_log(dir.path());
    let events = {
        let log = open_fast(dir.path());
        all_events(&log)
    };
    // The same records after a format 1 header.
    let segment = std::fs::read(dir.path().join("events.seg")).expect("read");
    let end = records(dir.path()).last().expect("records").1 as usize;
    let mut old = b"KUISEG\x00\x01".to_vec();
    old.extend_from_slice(&segment[HEADER_BLOCK as usize..end]);
    let old_dir = temp_dir();
    std::fs::write(old_dir.path().join("events.seg"), &old).expect("write");
    match SegmentLog::open(old_dir.path(), crate::helpers::fast_options()) {
        Err(kui_log_segment::OpenError::EarlierFormat { format: 1, .. }) => {}
        other => panic!("expected an earlier format, got {other:?}"),
    }
    let upgraded = repair::upgrade(old_dir.path())
        .expect("upgrade")
        .expect("an earlier format");
    assert_eq!((upgraded.events, upgraded.interrupted_bytes), (12, 0));
    let log = open_fast(old_dir.path());
    assert_eq!(all_events(&log), events);
    assert_eq!(log.verify(&mut |_| {}).expect("verifies").events, 12);
    drop(log);
    assert_eq!(repair::upgrade(old_dir.path()).expect("nothing to do"), None);
}
