//! The NDJSON import: the line parser, the log's import and the engine's.

use std::fs;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use kui_engine::{Engine, FixedClock, SeededIds};
use kui_log::ndjson::{import_ndjson, read_ndjson_line, write_ndjson};
use kui_log::{EventLog, LogError};
use kui_log_segment::SegmentLog;

use crate::files;
use crate::mutate;
use crate::seeds::{self, SEGMENT_FILE};

/// Fuzz target: the first byte chooses what the rest is.
///
/// - even: the whole NDJSON input.
/// - odd: mutations (see [`mutate::apply`]) of a valid export of domain events.
///
/// Properties:
///
/// - no panic, and the whole input handled within [`crate::INPUT_TIME_BOUND`];
/// - a line that parses is written back on one line and parses again to the same
///   envelope, and that text is stable (the export is lossless);
/// - `kui_log::ndjson::import_ndjson` into a new log and the engine's `import_ndjson`
///   are all or nothing: after a failed import the log's head and its segment's bytes
///   are as they were;
/// - after an accepted import, the log verifies with as many events as were imported,
///   and its export is the input, line for line, as the export writes it.
pub fn ndjson(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        mutate::apply(&seeds::seeds().export, rest)
    };
    let started = Instant::now();
    let canonical = lines_round_trip(&input);
    imports(&input, canonical.as_deref());
    let spent = started.elapsed();
    assert!(
        spent < crate::INPUT_TIME_BOUND,
        "an input of {} bytes took {spent:?}",
        input.len()
    );
}

/// Checks every line that parses; returns the input as the export would write it when
/// every non-empty line parses.
fn lines_round_trip(input: &[u8]) -> Option<String> {
    let mut canonical = Some(String::new());
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    for (index, line) in body.split(|&byte| byte == b'\n').enumerate() {
        let Ok(text) = std::str::from_utf8(line) else {
            canonical = None;
            continue;
        };
        let text = text.trim_end_matches('\r');
        if text.is_empty() {
            continue;
        }
        let line_number = index as u64 + 1;
        let envelope = match read_ndjson_line(text, line_number) {
            Ok(envelope) => envelope,
            Err(LogError::Ndjson { line, .. }) => {
                assert_eq!(line, line_number, "the error names another line");
                canonical = None;
                continue;
            }
            Err(error) => panic!("a line failed to parse with {error:?}, not Ndjson"),
        };
        let written = serde_json::to_string(&envelope).expect("an envelope serializes");
        assert!(
            !written.contains('\n') && !written.contains('\r'),
            "an envelope was written over several lines: {written}"
        );
        let back = read_ndjson_line(&written, 1)
            .unwrap_or_else(|error| panic!("a written envelope does not parse: {error}\n{written}"));
        assert!(
            back == envelope,
            "an envelope changed in a round trip:\n{envelope:?}\n{back:?}"
        );
        let again = serde_json::to_string(&back).expect("an envelope serializes");
        assert_eq!(again, written, "an envelope's text is not stable");
        if let Some(canonical) = canonical.as_mut() {
            canonical.push_str(&written);
            canonical.push('\n');
        }
    }
    canonical
}

/// A log in a new temporary directory.
struct TempLog {
    log: Arc<SegmentLog>,
    dir: tempfile::TempDir,
}

impl TempLog {
    fn new() -> TempLog {
        let dir = files::temp_dir();
        let log = SegmentLog::open(&dir.path().join("log"), seeds::fuzz_log_options())
            .unwrap_or_else(|error| panic!("opening a new log: {error:?}"));
        TempLog {
            log: Arc::new(log),
            dir,
        }
    }

    /// The head and the segment's records (without the zeros kept ahead of them).
    fn state(&self) -> (u64, Vec<u8>) {
        let head = self.log.head_position().expect("the head of an open log");
        let bytes = fs::read(self.dir.path().join("log").join(SEGMENT_FILE)).expect("reading the segment");
        (head, files::trim_zeros(&bytes).to_vec())
    }
}

fn imports(input: &[u8], canonical: Option<&str>) {
    let target = TempLog::new();
    let before = target.state();
    let log_import = import_ndjson(target.log.as_ref(), &mut Cursor::new(input), &mut |_| {});
    let target = match log_import {
        Ok(count) => {
            accepted(&target, count, canonical, "kui_log::ndjson::import_ndjson");
            TempLog::new()
        }
        Err(error) => {
            assert!(
                matches!(error, LogError::Ndjson { .. } | LogError::Import { .. }),
                "the log's import failed with {error:?}, not Ndjson or Import"
            );
            assert!(target.state() == before, "a failed import ({error}) changed the log");
            target
        }
    };
    let before = target.state();
    let engine = Engine::new(
        target.log.clone(),
        Arc::new(kui_engine::keys::KeyStore::seeded(3)),
        Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
                .single()
                .expect("a valid date"),
        )),
        Arc::new(SeededIds::new(1)),
    );
    match engine.import_ndjson(&mut Cursor::new(input), &mut |_, _| {}) {
        Ok(count) => accepted(&target, count, canonical, "the engine's import_ndjson"),
        Err(error) => {
            assert!(
                !matches!(error, kui_engine::EngineError::Log(LogError::Backend(_))),
                "the engine's import failed with a backend error: {error:?}"
            );
            assert!(
                target.state() == before,
                "a failed import of the engine ({error}) changed the log"
            );
        }
    }
}

/// The properties of an accepted import of `count` events.
fn accepted(target: &TempLog, count: u64, canonical: Option<&str>, what: &str) {
    let report = target
        .log
        .verify(&mut |_| {})
        .unwrap_or_else(|error| panic!("a log after an accepted import ({what}) does not verify: {error:?}"));
    assert_eq!(report.events, count, "{what} reported another count than the log holds");
    let mut exported = Vec::new();
    write_ndjson(target.log.as_ref(), &mut exported, &mut |_| {})
        .unwrap_or_else(|error| panic!("exporting an imported log: {error:?}"));
    let canonical = canonical.unwrap_or_else(|| panic!("{what} accepted an input with a line that does not parse"));
    assert!(
        exported == canonical.as_bytes(),
        "the export after {what} is not the input as the export writes it"
    );
}
