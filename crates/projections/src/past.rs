//! The read models as they stood at the end of past days, kept for the next question
//! about the same day.
//!
//! A report as of a past day needs every model folded from the events that happened by
//! the end of that day, which on a large log is seconds of reading and decoding.
//! [`PastDays`] keeps such folds for the few days most recently asked about, each with
//! the position it has read the log up to, and brings a kept fold up to date before it
//! answers instead of folding the whole log again.
//!
//! Bringing up to date is what a fold from scratch would do with the same events: the
//! events appended since are read in position order, those that happened on or before
//! the day are folded in and the later ones are passed over undecoded.
//! So a kept fold answers exactly what a fresh one would; events dated after the day
//! (the day's ordinary work, written while analysts read) cost a read each, and a
//! backdated event, dated on or before the day, is folded into it.
//!
//! The folds are bounded twice: at most `days` of them (the least recently asked is
//! dropped first), and at most `bytes` together, each charged the size of its models'
//! snapshot encoding (the state without the hash tables' spare capacity: the memory held
//! is about twice that); a fold larger than the whole budget is answered from and then
//! dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::NaiveDate;
use kui_log::EventLog;

use crate::error::ProjectionError;
use crate::fold::fold_range_as_of;
use crate::models::ReadModels;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The models folded as of the end of one past day, as far as the log has been read.
///
/// Freshness rule: a kept fold is never stale, because every answer first folds into it,
/// the way a fold from scratch would, the events appended since the position it has read
/// up to (applying those dated on or before its day, passing over later ones).
#[derive(Debug)]
pub struct PastDay {
    day: NaiveDate,
    /// Locked while the fold is brought up to date and while a caller reads it: callers
    /// asking about the same day at once fold the log once, one after the other.
    models: Mutex<ReadModels>,
    /// The position the models have read up to, readable while a fold holds `models`.
    position: AtomicU64,
    /// What the fold is charged against the byte budget (0 until first measured).
    bytes: AtomicUsize,
}

impl PastDay {
    fn new(day: NaiveDate) -> PastDay {
        PastDay {
            day,
            models: Mutex::new(ReadModels::default()),
            position: AtomicU64::new(0),
            bytes: AtomicUsize::new(0),
        }
    }

    /// The day the models stand at the end of.
    pub fn day(&self) -> NaiveDate {
        self.day
    }

    /// How many events an answer would have to read first (all of them for a day not
    /// kept): callers that admit expensive folds a few at a time ask this to decide
    /// whether a question needs a turn.
    pub fn behind(&self, log: &dyn EventLog) -> Result<u64, ProjectionError> {
        let head = log.head_position()?;
        Ok(head.saturating_sub(self.position.load(Ordering::SeqCst)))
    }
}

/// What the kept folds hold and what they have done, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PastStats {
    /// The days kept, most recently asked first, with the position each has read up to
    /// and its charge in bytes.
    pub days: Vec<(NaiveDate, u64, usize)>,
    /// Folds that started from the first event (a day not kept, or dropped).
    pub from_scratch: u64,
    /// Events read to bring folds up to date, from scratch included.
    pub events_read: u64,
    /// Of those, events folded in (dated on or before the fold's day).
    pub events_folded: u64,
}

/// The kept folds of past days; see the module documentation for the rule and bounds.
#[derive(Debug)]
pub struct PastDays {
    /// Most recently asked first.
    kept: Mutex<Vec<Arc<PastDay>>>,
    max_days: usize,
    max_bytes: usize,
    from_scratch: AtomicU64,
    events_read: AtomicU64,
    events_folded: AtomicU64,
}

impl PastDays {
    /// Keeps at most `max_days` folds and `max_bytes` of them (0 days keeps nothing: every
    /// question folds the whole log).
    pub fn new(max_days: usize, max_bytes: usize) -> PastDays {
        PastDays {
            kept: Mutex::new(Vec::new()),
            max_days,
            max_bytes,
            from_scratch: AtomicU64::new(0),
            events_read: AtomicU64::new(0),
            events_folded: AtomicU64::new(0),
        }
    }

    /// The kept fold of `day`, or a new empty one (kept once it answers).
    pub fn day(&self, day: NaiveDate) -> Arc<PastDay> {
        let kept = lock(&self.kept);
        match kept.iter().find(|past| past.day == day) {
            Some(past) => Arc::clone(past),
            None => Arc::new(PastDay::new(day)),
        }
    }

    /// What is kept now.
    pub fn stats(&self) -> PastStats {
        let days = lock(&self.kept)
            .iter()
            .map(|past| {
                (
                    past.day,
                    past.position.load(Ordering::SeqCst),
                    past.bytes.load(Ordering::SeqCst),
                )
            })
            .collect();
        PastStats {
            days,
            from_scratch: self.from_scratch.load(Ordering::SeqCst),
            events_read: self.events_read.load(Ordering::SeqCst),
            events_folded: self.events_folded.load(Ordering::SeqCst),
        }
    }

    /// Brings `past` up to the log's head and runs `work` on it. `progress(position, head)`
    /// is called while folding; once `stop` is set the fold gives up within a block of
    /// events with [`ProjectionError::Stopped`], keeping what it has folded so far for the
    /// next caller.
    pub fn answer<T>(
        &self,
        log: &dyn EventLog,
        past: &Arc<PastDay>,
        workers: usize,
        progress: &mut dyn FnMut(u64, u64),
        stop: &AtomicBool,
        work: impl FnOnce(&ReadModels) -> T,
    ) -> Result<T, ProjectionError> {
        let past = self.listed(past);
        let mut models = lock(&past.models);
        let from = models.low_water();
        if from == 0 {
            self.from_scratch.fetch_add(1, Ordering::SeqCst);
        }
        let folded = fold_as_of(log, &mut models, past.day, workers, progress, stop, &|position| {
            past.position.store(position, Ordering::SeqCst)
        });
        let reached = models.low_water();
        self.events_read.fetch_add(reached - from, Ordering::SeqCst);
        let folded = folded?;
        self.events_folded.fetch_add(folded, Ordering::SeqCst);
        if folded > 0 || past.bytes.load(Ordering::SeqCst) == 0 {
            // Folding in changes the state; passing over later events does not.
            let bytes = models
                .encoded_size()
                .map_or(usize::MAX, |size| usize::try_from(size).unwrap_or(usize::MAX));
            past.bytes.store(bytes, Ordering::SeqCst);
        }
        let answer = work(&models);
        drop(models);
        self.trim();
        Ok(answer)
    }

    /// The fold to use for `past`'s day, first in the list: the one kept for the day if
    /// there is one (another caller may have started it), else `past` itself; the least
    /// recently asked beyond `max_days` are dropped (a caller still using one finishes).
    fn listed(&self, past: &Arc<PastDay>) -> Arc<PastDay> {
        let mut kept = lock(&self.kept);
        let chosen = match kept.iter().position(|kept| kept.day == past.day) {
            Some(index) => kept.remove(index),
            None => Arc::clone(past),
        };
        kept.insert(0, Arc::clone(&chosen));
        kept.truncate(self.max_days);
        chosen
    }

    /// Drops folds, least recently asked first, until the rest fit the byte budget.
    fn trim(&self) {
        let mut kept = lock(&self.kept);
        let mut total = 0usize;
        kept.retain(|past| {
            let bytes = past.bytes.load(Ordering::SeqCst);
            let fits = total.saturating_add(bytes) <= self.max_bytes;
            if fits {
                total += bytes;
            }
            fits
        });
    }
}

/// Folds into `models` (the models as of the end of `day`, read up to their lowest
/// checkpoint) the events up to the log's head: those that happened on or before `day`
/// are applied, the others passed over. Returns how many were applied; `reached(position)`
/// is called after each block. A fold from scratch is this on empty models.
pub(crate) fn fold_as_of(
    log: &dyn EventLog,
    models: &mut ReadModels,
    day: NaiveDate,
    workers: usize,
    progress: &mut dyn FnMut(u64, u64),
    stop: &AtomicBool,
    reached: &dyn Fn(u64),
) -> Result<u64, ProjectionError> {
    let to = log.head_position()?;
    fold_range_as_of(
        log,
        models.low_water() + 1..=to,
        workers,
        day,
        &mut |batch, end| {
            models.apply_batch(batch);
            models.pass(end);
            reached(end);
        },
        &mut |position| progress(position, to),
        stop,
    )
}
