//! Where read-model snapshots are kept between runs: a [`SnapshotStore`] port, a
//! directory of files and an in-memory store for tests.
//!
//! A snapshot is derived data: losing one costs a rebuild, never an event.
//! The directory store still writes each one atomically (temporary file, fsync, rename,
//! fsync of the directory), so a crash leaves either the old snapshot or the new one.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::ProjectionError;

/// Keeps one byte string per model name.
pub trait SnapshotStore: Send + Sync {
    /// The stored snapshot of `model`, if any.
    fn load(&self, model: &str) -> Result<Option<Vec<u8>>, ProjectionError>;
    /// Replaces the snapshot of `model`, atomically.
    fn save(&self, model: &str, bytes: &[u8]) -> Result<(), ProjectionError>;
    /// Deletes the snapshot of `model` (nothing happens when there is none).
    fn remove(&self, model: &str) -> Result<(), ProjectionError>;
}

/// Snapshots as files `<dir>/<model>.snapshot`.
#[derive(Debug, Clone)]
pub struct DirectoryStore {
    dir: PathBuf,
}

impl DirectoryStore {
    /// A store in `dir`, created if missing.
    pub fn open(dir: &Path) -> Result<DirectoryStore, ProjectionError> {
        fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
        Ok(DirectoryStore { dir: dir.to_path_buf() })
    }

    fn path_of(&self, model: &str) -> PathBuf {
        self.dir.join(format!("{model}.snapshot"))
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ProjectionError {
    ProjectionError::Store {
        path: path.display().to_string(),
        source,
    }
}

impl SnapshotStore for DirectoryStore {
    fn load(&self, model: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        let path = self.path_of(model);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error(&path, error)),
        }
    }

    fn save(&self, model: &str, bytes: &[u8]) -> Result<(), ProjectionError> {
        let path = self.path_of(model);
        let temporary = self.dir.join(format!(".{model}.snapshot.tmp"));
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temporary, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|source| io_error(&path, source))
    }

    fn remove(&self, model: &str) -> Result<(), ProjectionError> {
        let path = self.path_of(model);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io_error(&path, error)),
        }
    }
}

/// Snapshots in memory, for tests and for throw-away runs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    snapshots: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    fn snapshots(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.snapshots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SnapshotStore for MemoryStore {
    fn load(&self, model: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        Ok(self.snapshots().get(model).cloned())
    }

    fn save(&self, model: &str, bytes: &[u8]) -> Result<(), ProjectionError> {
        self.snapshots().insert(model.to_owned(), bytes.to_vec());
        Ok(())
    }

    fn remove(&self, model: &str) -> Result<(), ProjectionError> {
        self.snapshots().remove(model);
        Ok(())
    }
}
