//! The flusher thread: it makes written groups durable (`fdatasync`), moves the
//! acknowledgement watermark, publishes the durable head and hands the answers to the
//! acker thread, which wakes the requesters so that the next sync can start at once.

use std::fs::File;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::pipeline::elapsed_micros;
use crate::records::{Watermark, WatermarkWriter};
use crate::segment_log::{Shared, StatCounters};
use crate::writer::Completion;

/// How long the flusher waits for another group, after answering one, before it syncs
/// the acknowledgement watermark on its own: under load the next group's sync carries it.
pub(crate) const IDLE_SYNC: std::time::Duration = std::time::Duration::from_millis(20);

/// A written group waiting for the flusher.
pub(crate) struct AppliedGroup {
    pub(crate) completions: Vec<Completion>,
    /// The applied head after this group (None if it wrote nothing).
    pub(crate) head: Option<(u64, [u8; 32])>,
    /// The segment offset after this group's records.
    pub(crate) end_offset: u64,
}

#[derive(Default)]
pub(crate) struct FlushState {
    pub(crate) groups: Vec<AppliedGroup>,
    pub(crate) writer_done: bool,
}

/// Hands applied groups from the writer to the flusher.
///
/// The writer does not wait for the flusher: writing a group is one `pwrite`, so it
/// writes every group as soon as it is staged, and the flusher's next sync covers all
/// groups written before it starts (one fsync for all of them).
#[derive(Default)]
pub(crate) struct FlushQueue {
    pub(crate) state: Mutex<FlushState>,
    /// Signalled when a group is pushed or the writer stops.
    pub(crate) ready: Condvar,
}

impl FlushQueue {
    pub(crate) fn lock(&self) -> MutexGuard<'_, FlushState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn push(&self, group: AppliedGroup) {
        self.lock().groups.push(group);
        self.ready.notify_one();
    }

    /// Blocks until there are groups to sync (at most `idle` when given); `Done` once
    /// the writer is gone and everything is taken.
    pub(crate) fn take(&self, idle: Option<std::time::Duration>) -> Taken {
        let deadline = idle.map(|idle| Instant::now() + idle);
        let mut state = self.lock();
        loop {
            if !state.groups.is_empty() {
                return Taken::Groups(std::mem::take(&mut state.groups));
            }
            if state.writer_done {
                return Taken::Done;
            }
            state = match deadline {
                None => self.ready.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner()),
                Some(deadline) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        return Taken::Idle;
                    }
                    self.ready
                        .wait_timeout(state, remaining)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0
                }
            };
        }
    }
}

/// What the flusher found waiting.
pub(crate) enum Taken {
    Groups(Vec<AppliedGroup>),
    /// Nothing arrived within the idle time.
    Idle,
    /// The writer is gone and every group was taken.
    Done,
}

impl FlushQueue {
    /// The groups waiting now, without blocking.
    pub(crate) fn take_ready(&self) -> Vec<AppliedGroup> {
        std::mem::take(&mut self.lock().groups)
    }
}

/// How long the flusher waits for more groups before a sync when the previous sync
/// covered several groups (concurrent appenders): the requesters just acknowledged are
/// still sending their next requests, and ~30 instead of ~20 events per sync more than
/// pay for the wait on the test machine (a sync takes 300-700 µs there).
/// A lone sequential appender (one group per sync) never waits.
pub(crate) const LINGER_MICROS: u64 = 100;

/// Tells the flusher the writer is gone, also when the writer panics.
pub(crate) struct WriterDoneGuard(pub(crate) Arc<FlushQueue>);

impl Drop for WriterDoneGuard {
    fn drop(&mut self) {
        self.0.lock().writer_done = true;
        self.0.ready.notify_one();
    }
}

pub(crate) struct Flusher {
    pub(crate) shared: Arc<Shared>,
    pub(crate) queue: Arc<FlushQueue>,
    pub(crate) fsync: bool,
    pub(crate) segment: File,
    /// Answers go to the acker thread.
    pub(crate) acks: Sender<Vec<Completion>>,
    /// The acknowledgement watermark: the end of the synced records, written after each
    /// sync and before its answers.
    pub(crate) watermark: WatermarkWriter,
}

impl Flusher {
    pub(crate) fn run(mut self) {
        let mut previous_groups = 0;
        // Whether a watermark was written since the last sync.
        let mut watermark_unsynced = false;
        loop {
            let idle = (watermark_unsynced && self.fsync).then_some(IDLE_SYNC);
            let mut groups = match self.queue.take(idle) {
                Taken::Groups(groups) => groups,
                Taken::Idle => {
                    // Nothing followed the last answered group: make its watermark durable.
                    if let Err(reason) = self.make_durable() {
                        self.shared.fail(reason);
                    }
                    watermark_unsynced = false;
                    continue;
                }
                Taken::Done => break,
            };
            if self.fsync && previous_groups > 1 {
                std::thread::sleep(std::time::Duration::from_micros(LINGER_MICROS));
                groups.extend(self.queue.take_ready());
            }
            previous_groups = groups.len();
            // Every group taken here was applied before this sync starts, so the sync
            // covers all of them.
            let synced = match self.shared.failure() {
                Some(reason) => Err(reason),
                None => self.make_durable(),
            };
            let head = groups.iter().rev().find_map(|group| group.head);
            let end_offset = groups.iter().map(|group| group.end_offset).max().unwrap_or(0);
            let synced = synced.and_then(|()| {
                watermark_unsynced = false;
                match head {
                    Some((position, hash)) => {
                        watermark_unsynced = true;
                        self.watermark
                            .write(Watermark {
                                offset: end_offset,
                                position,
                                hash,
                            })
                            .map_err(|error| format!("writing the acknowledgement watermark failed: {error}"))
                    }
                    None => Ok(()),
                }
            });
            match synced {
                Ok(()) => {
                    if let Some(head) = head {
                        self.shared.set_durable(head, end_offset);
                    }
                    let completions = groups.into_iter().flat_map(|group| group.completions).collect();
                    // The acker only stops after the flusher, so this cannot fail.
                    let _ = self.acks.send(completions);
                }
                Err(reason) => {
                    self.shared.fail(reason.clone());
                    for group in groups {
                        for completion in group.completions {
                            completion.fail(&reason);
                        }
                    }
                }
            }
        }
        if watermark_unsynced && self.shared.failure().is_none() {
            if let Err(reason) = self.make_durable() {
                self.shared.fail(reason);
            }
        }
    }

    fn make_durable(&mut self) -> Result<(), String> {
        if !self.fsync {
            return Ok(());
        }
        let started = Instant::now();
        #[cfg(test)]
        let _held = self.shared.hold_syncs.lock();
        self.segment
            .sync_data()
            .map_err(|error| format!("fsync of the segment file failed: {error}"))?;
        let stats = &self.shared.stats;
        StatCounters::add(&stats.sync_micros, elapsed_micros(started));
        StatCounters::add(&stats.syncs, 1);
        Ok(())
    }
}
