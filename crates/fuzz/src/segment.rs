//! The segment decoder and recovery: a segment file made of the input, opened read-only,
//! inspected for repair, and opened for writing.

use std::fs;
use std::path::Path;
use std::time::Instant;

use kui_log::{
    Actor, AppendRequest, Envelope, EventLog, ExpectedVersion, LogError, Metadata, NewEvent, Position, StreamAppend,
    StreamId,
};
use kui_log_segment::{OpenError, SegmentLog};
use uuid::Uuid;

use crate::files;
use crate::mutate;
use crate::seeds::{self, Acknowledged, SeedSegment, SEGMENT_FILE};

/// The watermark slots of the header block (ADR 0002: 64 bytes at bytes 512 and 1024).
/// While both are as the seed had them, the seed's watermark is the one the open reads.
const WATERMARK_SLOTS: [std::ops::Range<usize>; 2] = [512..576, 1024..1088];

/// Fuzz target: the first byte chooses what the rest is.
///
/// - 0: the whole segment file.
/// - 1: the records after the header block of a new log.
/// - 2: mutations (see [`mutate::apply`]) of a valid log whose watermark covers every
///   record.
/// - 3: mutations of a valid log whose last records lie after its watermark (written but
///   never acknowledged).
///
/// Properties, for every input:
///
/// - no panic, and the whole input handled within [`crate::INPUT_TIME_BOUND`];
/// - the opens and `repair::inspect` fail only with `Corrupt`, `EarlierFormat` or
///   `NotALog` (what file content can cause), and `verify` on a read-only open only with
///   `Corrupt`;
/// - a read-only open (with its `verify` and reads) and `inspect` change no byte of the
///   directory and create nothing in it;
/// - a writable open that fails leaves the segment as it was; one that succeeds changes
///   the segment only by cutting, at the offset of the interrupted write it reports; a
///   second open finds nothing to cut and the same events;
/// - a writable open succeeds when a read-only open and its `verify` did, with the same
///   events, and a read-only open succeeds when a writable one did;
/// - `inspect` plans a repair exactly when a read-only open or its `verify` fails or an
///   interrupted write was found, and carrying the plan out (on a copy) leaves a log that
///   opens with nothing to cut, verifies, and holds the events the plan keeps;
/// - a log that opened for writing and verified takes an append, and verifies with it
///   after another open.
///
/// And for mutations of a valid log:
///
/// - the events a log opens with are a prefix of the seed's, unchanged (nothing invented
///   or altered);
/// - while the watermark slots are as the seed had them, no event up to the watermark is
///   lost, and a reported interrupted write starts at or after the watermark's offset;
/// - while they are intact, a repair that says it loses nothing acknowledged keeps every
///   event up to the watermark.
pub fn segment(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (bytes, seed) = segment_file(mode, rest);
    let started = Instant::now();
    check(&bytes, seed.map(|seed| (seed, seeds::seeds().events.as_slice())));
    let spent = started.elapsed();
    assert!(
        spent < crate::INPUT_TIME_BOUND,
        "a segment of {} bytes took {spent:?}",
        bytes.len()
    );
}

/// The segment file an input of [`segment`] stands for, and the valid seed it mutates
/// (if it does).
fn segment_file(mode: u8, rest: &[u8]) -> (Vec<u8>, Option<&'static SeedSegment>) {
    let seeds = seeds::seeds();
    match mode % 4 {
        0 => (rest.to_vec(), None),
        1 => {
            let mut bytes = seeds.empty.clone();
            bytes.extend_from_slice(rest);
            (bytes, None)
        }
        2 => (mutate::apply(&seeds.closed.bytes, rest), Some(&seeds.closed)),
        _ => (mutate::apply(&seeds.lagging.bytes, rest), Some(&seeds.lagging)),
    }
}

/// The segment file an input of [`segment`] stands for (empty for an empty input), to
/// look at an input found by a fuzzer with other tools.
pub fn segment_input_file(data: &[u8]) -> Vec<u8> {
    match data.split_first() {
        Some((&mode, rest)) => segment_file(mode, rest).0,
        None => Vec::new(),
    }
}

/// What an open found.
struct Opened {
    events: Vec<Envelope>,
    interrupted: Option<u64>,
}

fn check(bytes: &[u8], seed: Option<(&SeedSegment, &[Envelope])>) {
    let dir = files::temp_dir();
    let path = dir.path().join("log");
    fs::create_dir(&path).expect("creating the log directory");
    let segment_path = path.join(SEGMENT_FILE);
    fs::write(&segment_path, bytes).expect("writing the segment");
    let before = files::snapshot(&path);

    let read_only = open_read_only(&path);
    assert_eq!(
        files::snapshot(&path),
        before,
        "a read-only open, its verify or its reads changed the directory"
    );
    let plan = kui_log_segment::repair::inspect(&path);
    if let Err(error) = &plan {
        assert_content_error(error, "repair::inspect");
    }
    assert_eq!(files::snapshot(&path), before, "repair::inspect changed the directory");
    match (&plan, &read_only) {
        (Ok(None), Some((_, false))) | (Ok(None), None) => {
            panic!("repair::inspect finds nothing to repair in a log that does not open and verify read-only")
        }
        (Ok(Some(plan)), Some((opened, true))) if opened.interrupted.is_none() => {
            panic!("repair::inspect plans a repair of a log that opens and verifies: {plan:?}")
        }
        _ => {}
    }
    if let Ok(Some(plan)) = &plan {
        check_repair(plan, bytes, seed);
    }

    let writable = match SegmentLog::open(&path, seeds::fuzz_log_options()) {
        Ok(log) => Some(writable_checks(log, &segment_path, bytes, seed)),
        Err(error) => {
            assert_content_error(&error, "a writable open");
            let after = fs::read(&segment_path).expect("reading the segment");
            assert!(
                after == bytes,
                "a writable open that failed ({error}) changed the segment"
            );
            None
        }
    };

    match (&read_only, &writable) {
        (Some((opened, true)), None) => panic!(
            "a read-only open and its verify succeeded with {} events, but a writable open failed",
            opened.events.len()
        ),
        (Some((read, true)), Some(written)) => {
            assert!(
                read.events == written.events,
                "the read-only open read {} events, the writable open {}",
                read.events.len(),
                written.events.len()
            );
            assert_eq!(
                read.interrupted, written.interrupted,
                "the opens disagree on the interrupted write"
            );
        }
        (None, Some(written)) => panic!(
            "a writable open succeeded with {} events, but a read-only open failed",
            written.events.len()
        ),
        _ => {}
    }
}

/// Carries out `plan` on a copy of the log: the repaired log opens for writing with
/// nothing to cut, verifies, and holds the events the plan said it keeps; on a mutated
/// valid log, a repair that says it loses nothing acknowledged keeps every event up to
/// the watermark.
fn check_repair(plan: &kui_log_segment::repair::RepairPlan, bytes: &[u8], seed: Option<(&SeedSegment, &[Envelope])>) {
    let dir = files::temp_dir();
    let path = dir.path().join("log");
    fs::create_dir(&path).expect("creating the log directory");
    fs::write(path.join(SEGMENT_FILE), bytes).expect("writing the segment");
    let mut copy = plan.clone();
    copy.path = path.clone();
    let repaired =
        kui_log_segment::repair::repair(&copy).unwrap_or_else(|error| panic!("repairing {plan:?} failed: {error:?}"));
    assert_eq!(
        repaired.head, plan.kept_head,
        "the repair kept another head than it planned"
    );
    let log = SegmentLog::open(&path, seeds::fuzz_log_options())
        .unwrap_or_else(|error| panic!("the log does not open after a repair ({plan:?}): {error:?}"));
    assert!(
        log.interrupted().is_none(),
        "the repaired log has an interrupted write: {:?}",
        log.interrupted()
    );
    log.verify(&mut |_| {})
        .unwrap_or_else(|error| panic!("the repaired log does not verify ({plan:?}): {error:?}"));
    let events = scan(&log).unwrap_or_else(|error| panic!("reading the repaired log: {error:?}"));
    assert_eq!(
        events.len() as u64,
        plan.kept_head,
        "the repaired log holds other events than planned"
    );
    drop(log);
    if let Some((seed, original)) = seed {
        assert!(
            events.len() <= original.len() && events == original[..events.len()],
            "the repaired log holds events that are not a prefix of the seed's"
        );
        let slots_intact = WATERMARK_SLOTS
            .iter()
            .all(|slot| bytes.get(slot.clone()) == seed.bytes.get(slot.clone()));
        if slots_intact && !plan.loses_acknowledged() {
            assert!(
                events.len() as u64 >= seed.acknowledged.position,
                "the repair said it loses nothing acknowledged, but kept {} events of the {} acknowledged: {plan:?}",
                events.len(),
                seed.acknowledged.position
            );
        }
    }
}

/// Opens read-only, verifies and reads everything; `None` when the open failed, else
/// what it found and whether `verify` passed.
fn open_read_only(path: &Path) -> Option<(Opened, bool)> {
    let log = match SegmentLog::open_read_only(path) {
        Ok(log) => log,
        Err(error) => {
            assert_content_error(&error, "a read-only open");
            return None;
        }
    };
    let verified = match log.verify(&mut |_| {}) {
        Ok(report) => {
            let head = log.head_position().expect("the head of an open log");
            assert_eq!(report.events, head, "verify counted other events than the head");
            true
        }
        Err(LogError::Corrupt { .. }) => false,
        Err(error) => panic!("verify of a read-only log failed with {error:?}, not Corrupt"),
    };
    let events = match scan(&log) {
        Ok(events) => events,
        Err(LogError::Corrupt { .. }) if !verified => Vec::new(),
        Err(error) => panic!("reading a log that verified failed with {error:?}"),
    };
    if verified {
        assert_eq!(
            events.len() as u64,
            log.head_position().expect("the head of an open log"),
            "a scan of a verified log missed events"
        );
    }
    let interrupted = log.interrupted().map(|found| {
        assert!(!found.cut, "a read-only open cut an interrupted write");
        found.offset
    });
    Some((Opened { events, interrupted }, verified))
}

/// The checks on a log the writable open accepted.
fn writable_checks(
    log: SegmentLog,
    segment_path: &Path,
    bytes: &[u8],
    seed: Option<(&SeedSegment, &[Envelope])>,
) -> Opened {
    let verified = match log.verify(&mut |_| {}) {
        Ok(_) => true,
        Err(LogError::Corrupt { .. }) => false,
        Err(other) => panic!("verify after a writable open failed with {other:?}, not Corrupt"),
    };
    let events = scan(&log).unwrap_or_else(|error| panic!("reading a log the writable open accepted: {error:?}"));
    let interrupted = log.interrupted().cloned();
    if let Some(found) = &interrupted {
        assert!(found.cut, "a writable open did not cut the interrupted write it found");
        assert_eq!(
            found.first_position,
            events.len() as u64 + 1,
            "the interrupted write does not start after the last event kept"
        );
    }
    log.close()
        .unwrap_or_else(|error| panic!("closing a log the writable open accepted: {error:?}"));
    let after = fs::read(segment_path).expect("reading the segment");
    let expected = match &interrupted {
        Some(found) => &bytes[..usize::try_from(found.offset).unwrap_or(usize::MAX).min(bytes.len())],
        None => bytes,
    };
    assert!(
        after == expected,
        "a writable open changed the segment other than by cutting the interrupted write it reported ({interrupted:?}): {} bytes before, {} after",
        bytes.len(),
        after.len()
    );
    if let Some((seed, original)) = seed {
        check_against_seed(
            &events,
            interrupted.as_ref().map(|found| found.offset),
            bytes,
            seed,
            original,
        );
    }
    let path = segment_path.parent().expect("the segment lies in its log directory");
    let again = SegmentLog::open(path, seeds::fuzz_log_options())
        .unwrap_or_else(|error| panic!("a second open of a log that opened failed: {error:?}"));
    assert!(
        again.interrupted().is_none(),
        "a second open found another interrupted write: {:?}",
        again.interrupted()
    );
    let reopened = scan(&again).unwrap_or_else(|error| panic!("reading the reopened log: {error:?}"));
    assert!(reopened == events, "the second open has other events than the first");
    if verified {
        append_after_recovery(again, path, &events);
    }
    Opened {
        events,
        interrupted: interrupted.map(|found| found.offset),
    }
}

/// A recovered log that verified takes an append, and keeps verifying with it after
/// another open: the open left the writer at the right end of the records, with the
/// right head and hash.
fn append_after_recovery(log: SegmentLog, path: &Path, events: &[Envelope]) {
    let stream = StreamId::new("fuzz-appended").expect("a valid stream id");
    let event = NewEvent {
        event_id: Uuid::from_u128(0x00a9_9e4d),
        event_type: "Appended".into(),
        schema_version: 1,
        payload: br#"{"after":"recovery"}"#.to_vec(),
        metadata: Metadata {
            actor: Actor {
                staff_id: None,
                role: "system".into(),
                department: None,
            },
            command_id: None,
            causation_id: None,
            correlation_id: None,
            occurred_at: chrono::DateTime::UNIX_EPOCH,
            recorded_at: chrono::DateTime::UNIX_EPOCH,
        },
    };
    let request = AppendRequest {
        command_id: None,
        streams: vec![StreamAppend {
            stream,
            expected: ExpectedVersion::Any,
            events: vec![event],
        }],
    };
    let outcome = log
        .append(request)
        .unwrap_or_else(|error| panic!("appending to a recovered log that verified failed: {error:?}"));
    assert_eq!(
        outcome.first_position.0,
        events.len() as u64 + 1,
        "the append did not follow the head"
    );
    log.close()
        .unwrap_or_else(|error| panic!("closing after an append: {error:?}"));
    let again = SegmentLog::open(path, seeds::fuzz_log_options())
        .unwrap_or_else(|error| panic!("the log does not open after an append to a recovered log: {error:?}"));
    assert!(
        again.interrupted().is_none(),
        "an interrupted write after a clean append and close"
    );
    let report = again
        .verify(&mut |_| {})
        .unwrap_or_else(|error| panic!("the log does not verify after an append to a recovered log: {error:?}"));
    assert_eq!(report.events, events.len() as u64 + 1);
    let kept = scan(&again).unwrap_or_else(|error| panic!("reading after an append: {error:?}"));
    assert!(
        kept[..events.len()] == *events,
        "the append changed the events before it"
    );
}

/// The properties of an open that succeeded on a mutation of a valid log.
fn check_against_seed(
    events: &[Envelope],
    cut_at: Option<u64>,
    bytes: &[u8],
    seed: &SeedSegment,
    original: &[Envelope],
) {
    assert!(
        events.len() <= original.len() && *events == original[..events.len()],
        "the log opened with events that are not a prefix of the seed's ({} events)",
        events.len()
    );
    let slots_intact = WATERMARK_SLOTS
        .iter()
        .all(|slot| bytes.get(slot.clone()) == seed.bytes.get(slot.clone()));
    if !slots_intact {
        return;
    }
    let Acknowledged { offset, position } = seed.acknowledged;
    assert!(
        events.len() as u64 >= position,
        "acknowledged events were lost: the watermark vouches for position {position}, the log opened with {} events (interrupted write cut at {cut_at:?})",
        events.len()
    );
    if let Some(at) = cut_at {
        assert!(
            at >= offset,
            "the open cut at byte {at}, before the watermark's offset {offset}"
        );
    }
}

fn scan(log: &SegmentLog) -> Result<Vec<Envelope>, LogError> {
    let mut events = Vec::new();
    log.scan(Position(1), Position(u64::MAX), &mut |envelope| {
        events.push(envelope.clone());
        std::ops::ControlFlow::Continue(())
    })?;
    Ok(events)
}

/// Fails unless `error` is one that a file's content can cause.
fn assert_content_error(error: &OpenError, what: &str) {
    assert!(
        matches!(
            error,
            OpenError::Log(LogError::Corrupt { .. }) | OpenError::EarlierFormat { .. } | OpenError::NotALog { .. }
        ),
        "{what} failed with {error:?}, which file content should never cause"
    );
}
