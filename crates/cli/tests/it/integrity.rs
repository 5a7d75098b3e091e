//! The log's integrity from the command line: `kui verify` writes nothing and names a
//! damaged position with exit code 1; `kui repair` shows the cut and makes it only when
//! confirmed; lost derived data is rebuilt; a truncated log fails verification.

use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::helpers::{kui, small_data};

/// A digest of every file under `path`.
fn digest(path: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_dir() {
                pending.push(entry.path());
            } else {
                let bytes = std::fs::read(entry.path()).expect("read");
                files.insert(entry.path(), sha2::Sha256::digest(&bytes).to_vec());
            }
        }
    }
    files
}

/// The end of the records of a log's segment (after its 4096-byte header block).
fn records_end(segment: &[u8]) -> usize {
    let mut at = 4096;
    while at + 8 <= segment.len() {
        let len = u32::from_be_bytes(segment[at..at + 4].try_into().expect("4 bytes")) as usize;
        if len == 0 {
            break;
        }
        at += 8 + len;
    }
    at
}

fn segment_file(data: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(data.join("events.seg"))
        .expect("open the segment")
}

#[test]
fn verify_writes_nothing_names_a_damaged_position_and_repair_cuts_only_when_confirmed() {
    let dir = small_data();
    let data = dir.path().join("data");
    let before = digest(&data);
    let verified = kui(&data, &["verify"]).ok();
    assert!(verified.stdout.contains("ok: event log"), "{}", verified.stdout);
    assert_eq!(digest(&data), before, "verify changed a file");

    let segment = std::fs::read(data.join("events.seg")).expect("read");
    let middle = (4096 + records_end(&segment)) / 2;
    segment_file(&data)
        .write_all_at(&[segment[middle] ^ 0x20], middle as u64)
        .expect("damage one byte");
    let before = digest(&data);
    let failed = kui(&data, &["verify"]).fails_with(1, "FAILED: event log at position");
    assert!(failed.stderr.contains("segment byte"), "{}", failed.stderr);
    assert_eq!(digest(&data), before, "a failing verify changed a file");

    // Not confirmed (no terminal): shown, and left as it was.
    let shown = kui(&data, &["repair"]);
    assert_eq!(shown.code, 1, "{}\n{}", shown.stdout, shown.stderr);
    assert!(shown.stdout.contains("a repair cuts"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("WARNING"),
        "acknowledged events are lost: {}",
        shown.stdout
    );
    assert_eq!(digest(&data), before, "an unconfirmed repair changed a file");

    let repaired = kui(&data, &["repair", "--yes"]).ok();
    assert!(repaired.stdout.contains("kept:"), "{}", repaired.stdout);
    kui(&data, &["verify"]).ok();
    kui(&data, &["summary"]).ok();
}

#[test]
fn lost_derived_data_is_rebuilt_and_reindex_rebuilds_it_on_purpose() {
    let dir = small_data();
    let data = dir.path().join("data");
    let summary = kui(&data, &["summary"]).ok().stdout;
    std::fs::remove_dir_all(data.join("index")).expect("delete the derived data");
    assert_eq!(kui(&data, &["summary"]).ok().stdout, summary);
    let reindexed = kui(&data, &["reindex"]).ok();
    assert!(
        reindexed.stdout.contains("event log: index rebuilt"),
        "{}",
        reindexed.stdout
    );
    assert_eq!(kui(&data, &["summary"]).ok().stdout, summary);
    kui(&data, &["verify"]).ok();
}

#[test]
fn a_truncated_log_fails_verify_naming_where_the_acknowledged_records_end() {
    let dir = small_data();
    let data = dir.path().join("data");
    let segment = std::fs::read(data.join("events.seg")).expect("read");
    let end = records_end(&segment);
    segment_file(&data).set_len((end - 100) as u64).expect("truncate");
    let failed = kui(&data, &["verify"]).fails_with(1, "FAILED: event log at position");
    assert!(failed.stderr.contains("last acknowledged write"), "{}", failed.stderr);
}
