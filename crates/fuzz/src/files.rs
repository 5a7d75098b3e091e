//! What a directory holds, to show that an operation changed nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Every file under `dir` (recursively) with its bytes, and every directory with none.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut found = BTreeMap::new();
    walk(dir, dir, &mut found);
    found
}

fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|error| panic!("listing {}: {error}", dir.display()))
            .path();
        let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        if path.is_dir() {
            found.insert(relative, None);
            walk(root, &path, found);
        } else {
            let bytes = fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
            found.insert(relative, Some(bytes));
        }
    }
}

/// `bytes` without its trailing zeros: a log's segment is kept extended with zeros ahead
/// of its records, so two segments hold the same records when these agree.
pub(crate) fn trim_zeros(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&byte| byte != 0).map_or(0, |last| last + 1);
    &bytes[..end]
}

/// A temporary directory for one input, under `TMPDIR` (point it at a tmpfs such as
/// `/dev/shm` for speed).
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("kui-fuzz-")
        .tempdir()
        .unwrap_or_else(|error| panic!("creating a temporary directory: {error}"))
}

/// A temporary directory that lives as long as the process (held by a `static`, which is
/// never dropped, so it is not removed on exit). Its name carries the process id, and
/// creating one removes those of earlier processes that are gone, so that runs do not
/// pile up directories.
pub(crate) fn process_dir(kind: &str) -> tempfile::TempDir {
    let prefix = format!("kui-fuzz-{kind}-");
    // Whether a process is alive is read from /proc (Linux); elsewhere nothing is swept.
    let can_tell = Path::new("/proc/self").exists();
    if let Ok(entries) = fs::read_dir(std::env::temp_dir()).map(|entries| entries.filter(|_| can_tell)) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new("/proc").join(pid.to_string()).exists() {
                // Another process may be sweeping the same directory at once.
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir()
        .unwrap_or_else(|error| panic!("creating a temporary directory: {error}"))
}
