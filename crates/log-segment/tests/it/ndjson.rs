//! NDJSON export and import: lossless round trip; bad input is refused and writes
//! nothing.

use std::io::Cursor;

use kui_log::ndjson::{import_ndjson, read_ndjson_line, write_ndjson};
use kui_log::{AppendRequest, Envelope, EventLog, ExpectedVersion, LogError, Position, StreamAppend};
use uuid::Uuid;

use crate::helpers::{all_events, event, event_with_payload, open_fast, single, stream, temp_dir, time};

/// A log with several streams, varied metadata and payloads (JSON and not).
fn varied_log(log: &dyn EventLog) {
    for n in 0..20u64 {
        let mut new_event = event("PlanUpdated", n);
        if n % 2 == 0 {
            new_event.metadata.actor.staff_id = None;
            new_event.metadata.actor.department = None;
        }
        new_event.metadata.command_id = (n % 3 == 0).then(|| Uuid::from_u128(u128::from(n)));
        new_event.metadata.causation_id = Some(Uuid::from_u128(1000 + u128::from(n)));
        new_event.metadata.occurred_at =
            time(1_700_000_000 + n as i64) + chrono::Duration::nanoseconds(n as i64 * 1_001);
        new_event.schema_version = (n % 4) as u16;
        let target = stream(&format!("youth-{}", n % 4));
        log.append(single(&target, ExpectedVersion::Any, vec![new_event]))
            .expect("append");
    }
    let odd_payloads: [&[u8]; 4] = [
        b"{\n  \"pretty\": true\n}",
        b"not json at all",
        &[0, 159, 146, 150],
        r#"{"unicode":"æøå \u00e9"}"#.as_bytes(),
    ];
    let events = odd_payloads
        .iter()
        .map(|payload| event_with_payload("Odd", payload.to_vec()))
        .collect();
    let request = AppendRequest {
        command_id: Some(Uuid::from_u128(7)),
        streams: vec![StreamAppend {
            stream: stream("odd"),
            expected: ExpectedVersion::NoStream,
            events,
        }],
    };
    log.append(request).expect("append");
}

fn export(log: &dyn EventLog) -> Vec<u8> {
    let mut out = Vec::new();
    let written = write_ndjson(log, &mut out, &mut |_| {}).expect("export");
    assert_eq!(written as usize, out.iter().filter(|&&byte| byte == b'\n').count());
    out
}

fn parse_all(export: &[u8]) -> Vec<Envelope> {
    std::str::from_utf8(export)
        .expect("utf-8")
        .lines()
        .enumerate()
        .map(|(index, line)| read_ndjson_line(line, index as u64 + 1).expect("parses"))
        .collect()
}

#[test]
fn export_import_export_is_identical() {
    let (source_dir, target_dir) = (temp_dir(), temp_dir());
    let source = open_fast(source_dir.path());
    varied_log(&source);
    let first_export = export(&source);

    let target = open_fast(target_dir.path());
    let imported = import_ndjson(&target, &mut Cursor::new(&first_export), &mut |_| {}).expect("import");
    assert_eq!(imported, 24);
    assert_eq!(export(&target), first_export);
    assert_eq!(all_events(&target), all_events(&source));
    assert_eq!(target.head().expect("head"), source.head().expect("head"));
    target.verify(&mut |_| {}).expect("imported log verifies");

    // The imported log keeps working: versions and the chain continue.
    let outcome = target
        .append(single(
            &stream("youth-1"),
            ExpectedVersion::Exact(kui_log::Version(5)),
            vec![event("X", 1)],
        ))
        .expect("append after import");
    assert_eq!(outcome.first_position, Position(25));
    target.verify(&mut |_| {}).expect("verifies after append");
}

#[test]
fn export_lines_embed_json_payloads_and_hex_hashes() {
    let dir = temp_dir();
    let log = open_fast(dir.path());
    log.append(single(&stream("s"), ExpectedVersion::Any, vec![event("X", 5)]))
        .expect("append");
    let text = String::from_utf8(export(&log)).expect("utf-8");
    let value: serde_json::Value = serde_json::from_str(text.trim_end()).expect("json");
    assert_eq!(value["payload"], serde_json::json!({ "n": 5 }));
    assert_eq!(value["prev_hash"], "0".repeat(64));
    let hash = value["hash"].as_str().expect("hash");
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(value["metadata"]["actor"]["role"], "coordinator");
}

#[test]
fn import_can_continue_a_log_in_several_slices() {
    let (source_dir, target_dir) = (temp_dir(), temp_dir());
    let source = open_fast(source_dir.path());
    varied_log(&source);
    let envelopes = parse_all(&export(&source));
    let target = open_fast(target_dir.path());
    target.import(&envelopes[..10]).expect("first slice");
    target.import(&envelopes[10..]).expect("second slice");
    assert_eq!(all_events(&target), envelopes);
    target.import(&[]).expect("empty slice is a no-op");
}

fn assert_import_rejected_at(result: Result<(), LogError>, position: u64) {
    match result {
        Err(LogError::Import {
            position: found,
            reason,
        }) => assert_eq!(found, position, "{reason}"),
        other => panic!("expected an import error at {position}, got {other:?}"),
    }
}

#[test]
fn import_with_a_wrong_hash_fails_and_writes_nothing() {
    let (source_dir, target_dir) = (temp_dir(), temp_dir());
    let source = open_fast(source_dir.path());
    varied_log(&source);
    let mut envelopes = parse_all(&export(&source));
    envelopes[4].payload = br#"{"n":999}"#.to_vec();
    let target = open_fast(target_dir.path());
    assert_import_rejected_at(target.import(&envelopes), 5);
    assert_eq!(target.head().expect("head"), None);
    assert!(all_events(&target).is_empty());
}

#[test]
fn import_with_a_gap_fails_and_writes_nothing() {
    let (source_dir, target_dir) = (temp_dir(), temp_dir());
    let source = open_fast(source_dir.path());
    varied_log(&source);
    let mut envelopes = parse_all(&export(&source));
    envelopes.remove(2);
    let target = open_fast(target_dir.path());
    assert_import_rejected_at(target.import(&envelopes), 4);
    assert_eq!(target.head().expect("head"), None);
}

#[test]
fn import_that_does_not_continue_the_head_fails() {
    let (source_dir, target_dir) = (temp_dir(), temp_dir());
    let source = open_fast(source_dir.path());
    varied_log(&source);
    let envelopes = parse_all(&export(&source));
    let target = open_fast(target_dir.path());
    // Starting anywhere but head + 1 is refused.
    assert_import_rejected_at(target.import(&envelopes[3..]), 4);
    // A log with its own events cannot take another log's chain.
    target
        .append(single(&stream("mine"), ExpectedVersion::Any, vec![event("X", 1)]))
        .expect("append");
    assert_import_rejected_at(target.import(&envelopes[1..]), 2);
    assert_eq!(all_events(&target).len(), 1);
}

#[test]
fn a_truncated_line_fails_with_its_line_number_and_writes_nothing() {
    let (source_dir, target_dir) = (temp_dir(), temp_dir());
    let source = open_fast(source_dir.path());
    varied_log(&source);
    let full = export(&source);
    let truncated = &full[..full.len() - 40];
    let target = open_fast(target_dir.path());
    match import_ndjson(&target, &mut Cursor::new(truncated), &mut |_| {}) {
        Err(LogError::Ndjson { line, .. }) => assert_eq!(line, 24),
        other => panic!("expected an ndjson error, got {other:?}"),
    }
    assert_eq!(target.head().expect("head"), None);

    let mut malformed = full.clone();
    let third_line_start = malformed
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .expect("lines")
        .0
        + 1;
    malformed[third_line_start] = b'[';
    match import_ndjson(&target, &mut Cursor::new(&malformed), &mut |_| {}) {
        Err(LogError::Ndjson { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected an ndjson error, got {other:?}"),
    }
    assert_eq!(target.head().expect("head"), None);
}
