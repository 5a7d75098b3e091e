//! The persister thread: it writes the derived data (stream index, chunk directory,
//! command outcomes) to sled off the write path, and the `m:indexed` marker after them.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use kui_log::LogError;

use crate::error::sled_error;
use crate::index::{Blocks, INDEXED_KEY};
use crate::pipeline::error_chain;
use crate::segment_log::Shared;

/// Asks the persister to write the derived data of positions up to `up_to` (the
/// segment holding them up to `end_offset`) to sled.
pub(crate) struct PersistJob {
    pub(crate) up_to: u64,
    pub(crate) end_offset: u64,
}

/// Writes the derived data (stream index, chunk directory, command outcomes) to sled,
/// off the write path.
pub(crate) struct Persister {
    pub(crate) shared: Arc<Shared>,
    pub(crate) segment: File,
    pub(crate) fsync: bool,
    /// The chunk directory in sled covers the chunks up to this first position.
    pub(crate) persisted_chunks: u64,
    pub(crate) jobs: Receiver<PersistJob>,
    pub(crate) in_flight: Arc<AtomicBool>,
}

impl Persister {
    pub(crate) fn run(mut self) {
        while let Ok(mut job) = self.jobs.recv() {
            // Only the newest request matters.
            while let Ok(newer) = self.jobs.try_recv() {
                job = newer;
            }
            if self.shared.failure().is_none() && self.shared.index.pending() > 0 {
                if let Err(error) = self.persist(&job) {
                    self.shared
                        .fail(format!("persisting the index data failed: {}", error_chain(&error)));
                }
            }
            self.in_flight.store(false, Ordering::Release);
        }
    }

    /// Writes the in-memory derived data up to `job.up_to` to sled, the `m:indexed` marker
    /// in the last batch, then forgets it from memory.
    fn persist(&mut self, job: &PersistJob) -> Result<(), LogError> {
        let Some(db) = self.shared.db.as_ref() else {
            return Ok(());
        };
        // The marker must never cover segment bytes that a power loss could take: sync
        // everything written so far first (one extra fsync per persist).
        if self.fsync {
            self.segment.sync_data().map_err(LogError::io)?;
        }
        // The stream index first, insert by insert: a batch would hold up every reader of
        // sled until all of it is applied. A crash before the marker's batch leaves blocks
        // that reads and the next persist recognise as stored.
        let mut blocks = Blocks::new();
        self.shared.index.stage_flush(db, &mut blocks, job.up_to)?;
        for (key, value) in blocks {
            db.insert(key, value).map_err(sled_error)?;
        }
        let mut batch = sled::Batch::default();
        let last_chunk = self
            .shared
            .directory
            .stage_persist(self.persisted_chunks, job.up_to, &mut batch);
        let commands = self.shared.commands.stage_persist(&mut batch, job.up_to);
        let mut marker = [0u8; 16];
        marker[..8].copy_from_slice(&job.up_to.to_be_bytes());
        marker[8..].copy_from_slice(&job.end_offset.to_be_bytes());
        batch.insert(INDEXED_KEY, &marker);
        db.apply_batch(batch).map_err(sled_error)?;
        self.shared.index.forget(job.up_to);
        self.shared.commands.forget(&commands)?;
        if let Some(last_chunk) = last_chunk {
            self.persisted_chunks = last_chunk;
        }
        Ok(())
    }
}
