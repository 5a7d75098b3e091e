//! The extender thread: it keeps zeros written ahead of the writer, a step at a time,
//! so that neither a write nor a sync on the write path extends the segment file.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::segment_log::{Shared, StatCounters};

/// The segment file is extended with this many zero bytes at a time; a larger write is
/// its own extension.
pub(crate) const EXTEND_STEP: usize = 1024 * 1024;

/// The extender keeps at least this many zero bytes written ahead of the writer.
pub(crate) const EXTEND_AHEAD: u64 = 8 * 1024 * 1024;

/// Makes applied groups durable and answers their requests.
/// The zeros written ahead of the writer: the writer overwrites them, the extender adds
/// more. Nothing but the writer's records and these zeros is ever written past the end
/// of the last record, and only while holding `zeros_to`.
pub(crate) struct Extent {
    /// The segment holds records or zeros up to this offset.
    pub(crate) zeros_to: Mutex<u64>,
    /// `zeros_to` as last published, for the writer's check without the lock.
    pub(crate) known: AtomicU64,
    /// The end of the writer's last record.
    pub(crate) written_to: AtomicU64,
    /// Whether an extension request is pending.
    pub(crate) in_flight: AtomicBool,
}

impl Extent {
    pub(crate) fn lock(&self) -> MutexGuard<'_, u64> {
        self.zeros_to.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Writes zeros ahead of the writer, a step at a time, and syncs each step, so that
/// neither the writer's writes nor the flusher's syncs pay for extending the file (a sync
/// that overlaps one of these waits for one step's zeros at most).
pub(crate) struct Extender {
    pub(crate) shared: Arc<Shared>,
    pub(crate) segment: File,
    pub(crate) fsync: bool,
    pub(crate) extent: Arc<Extent>,
    /// The writer asks for more zeros.
    pub(crate) requests: Receiver<()>,
}

impl Extender {
    pub(crate) fn run(self) {
        let zeros = vec![0u8; EXTEND_STEP];
        while self.requests.recv().is_ok() {
            while self.shared.failure().is_none()
                && self.extent.known.load(Ordering::Acquire)
                    < self.extent.written_to.load(Ordering::Acquire) + EXTEND_AHEAD
                && self.step(&zeros)
            {}
            self.extent.in_flight.store(false, Ordering::Release);
        }
    }

    /// Writes one step of zeros and syncs it; false if that failed.
    fn step(&self, zeros: &[u8]) -> bool {
        {
            let mut zeros_to = self.extent.lock();
            // A failed write (a full disk, say) leaves the extension to the writer, whose
            // own write then fails its group properly. Zeros past the last record are
            // harmless: the next open ignores them.
            if self.segment.write_all_at(zeros, *zeros_to).is_err() {
                return false;
            }
            *zeros_to += zeros.len() as u64;
            self.extent.known.store(*zeros_to, Ordering::Release);
        }
        StatCounters::add(&self.shared.stats.extensions, 1);
        // The file shares its error state with the flusher's: a failed sync here is a
        // failed sync of the log.
        if self.fsync {
            if let Err(error) = self.segment.sync_data() {
                self.shared.fail(format!("fsync of the segment file failed: {error}"));
                return false;
            }
        }
        true
    }
}
