//! The projector runtime: restore from snapshots, catch up, follow the log live, rebuild,
//! save, and wait for a position (read-your-writes).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use kui_log::{EventLog, LogError, Position};
use serde::{Deserialize, Serialize};

use crate::error::ProjectionError;
use crate::fact::{Fact, Stamp};
use crate::fold::fold_range;
use crate::models::{ReadModels, FORMER_NAMES};
use crate::past::{fold_as_of, PastDay, PastDays, PastStats};
use crate::store::SnapshotStore;

/// How the runtime works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Threads that decode during catch-up and rebuild (at least 1; default: cores + 1).
    pub workers: usize,
    /// While following, save snapshots after this many new events...
    pub save_every: u64,
    /// ...and no sooner than this after the last save: under a steady write load, saving
    /// every model costs far more than folding what a restart would otherwise refold.
    pub save_after: Duration,
    /// Past days whose folds are kept for the next report as of the same day
    /// ([`crate::past`]), the least recently asked dropped first.
    pub past_days: usize,
    /// What those folds may hold together, in bytes of their snapshot encoding.
    pub past_bytes: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            // One decoder per core plus one: the fold thread is mostly waiting on memory,
            // and the decoders on reads of the segment.
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()) + 1,
            save_every: 50_000,
            save_after: Duration::from_secs(60),
            // The days an office asks about at a time (a few month ends, a few recent
            // days). A fold of every model encodes to about 12 MB for Sønderborg (13,000
            // young people, 370,000 events) and 170 MB for the national preset (5,000,000
            // events): the budget keeps 8 days of the one and 3 of the other, rather than
            // more memory.
            past_days: 8,
            past_bytes: 512 * 1024 * 1024,
        }
    }
}

/// The first line of a snapshot; the model's state follows on the next line.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    model: String,
    version: u32,
    checkpoint: u64,
    /// Hex of the hash of the event at `checkpoint` (empty for checkpoint 0): a snapshot of
    /// another log (or of a log since replaced by an import) is recognised and discarded.
    hash: String,
}

/// What happened to each model's snapshot on open.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Opened {
    /// Models restored, with their checkpoint.
    pub restored: Vec<(&'static str, u64)>,
    /// Models whose snapshot was unusable, with the reason; they were rebuilt.
    pub discarded: Vec<(&'static str, String)>,
    /// Events folded to catch up (or rebuild).
    pub caught_up: u64,
    /// Seconds spent folding them.
    pub fold_seconds: f64,
    /// Seconds spent opening, restoring and saving included.
    pub seconds: f64,
}

impl Opened {
    /// Events folded per second.
    pub fn events_per_second(&self) -> f64 {
        if self.fold_seconds > 0.0 {
            self.caught_up as f64 / self.fold_seconds
        } else {
            0.0
        }
    }
}

/// Read models kept current with a log.
pub struct Projections {
    log: Arc<dyn EventLog>,
    store: Arc<dyn SnapshotStore>,
    options: Options,
    models: RwLock<ReadModels>,
    /// The position every model has reached.
    applied: Mutex<u64>,
    advanced: Condvar,
    /// The position of the last snapshot.
    saved: Mutex<u64>,
    stop: AtomicBool,
    follower: Mutex<Option<JoinHandle<()>>>,
    failure: Mutex<Option<String>>,
    /// The models as of past days, kept for repeated reports about them.
    past: PastDays,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The model names to act on: all of them for an empty list, else the given ones, checked.
pub fn model_names(names: &[String]) -> Result<Vec<&'static str>, ProjectionError> {
    if names.is_empty() {
        return Ok(ReadModels::NAMES.to_vec());
    }
    names
        .iter()
        .map(|name| {
            let name = name.trim();
            if let Some(&(_, now)) = FORMER_NAMES.iter().find(|(former, _)| *former == name) {
                return Err(ProjectionError::RenamedModel {
                    name: name.to_owned(),
                    now,
                });
            }
            ReadModels::NAMES
                .iter()
                .copied()
                .find(|known| *known == name)
                .ok_or_else(|| ProjectionError::UnknownModel {
                    name: name.to_owned(),
                    known: ReadModels::NAMES.join(", "),
                })
        })
        .collect()
}

impl Projections {
    /// Restores every model from its snapshot (discarding stale or foreign ones), except
    /// the models named in `rebuild`, which start empty; then folds the log once, from the
    /// lowest checkpoint, so the rebuilt models replay everything while the restored ones
    /// only catch up; and saves. `progress(position, head)` is called while folding.
    pub fn open(
        log: Arc<dyn EventLog>,
        store: Arc<dyn SnapshotStore>,
        options: Options,
        rebuild: &[&str],
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(Arc<Projections>, Opened), ProjectionError> {
        let started = Instant::now();
        let head = log.head()?.map_or(0, |(position, _)| position.0);
        let mut models = ReadModels::default();
        let mut opened = Opened::default();
        let mut loaded = Vec::new();
        let mut hashes = Hashes::default();
        // A snapshot under a model's former name is never read again.
        for &(former, _) in FORMER_NAMES {
            store.remove(former)?;
        }
        for &name in ReadModels::NAMES {
            if rebuild.contains(&name) {
                store.remove(name)?;
                continue;
            }
            match check(log.as_ref(), store.as_ref(), &mut hashes, name, head) {
                Ok(Some(snapshot)) => loaded.push((name, snapshot)),
                Ok(None) => {}
                Err(reason) => opened.discarded.push((name, reason)),
            }
        }
        let snapshots: BTreeMap<&str, (u32, u64, &[u8])> = loaded
            .iter()
            .map(|(name, (version, checkpoint, bytes, state_at))| (*name, (*version, *checkpoint, &bytes[*state_at..])))
            .collect();
        for (name, outcome) in models.restore_all(&snapshots) {
            match outcome {
                Ok(checkpoint) => opened.restored.push((name, checkpoint)),
                Err(reason) => opened.discarded.push((name, reason)),
            }
        }
        drop(snapshots);
        drop(loaded);
        let projections = Arc::new(Projections {
            log,
            store,
            options,
            models: RwLock::new(models),
            applied: Mutex::new(0),
            advanced: Condvar::new(),
            saved: Mutex::new(0),
            stop: AtomicBool::new(false),
            follower: Mutex::new(None),
            failure: Mutex::new(None),
            past: PastDays::new(options.past_days, options.past_bytes),
        });
        let low = projections.read().low_water();
        *lock(&projections.saved) = low;
        let restored_after = started.elapsed().as_secs_f64();
        opened.caught_up = projections.catch_up_with(progress)?;
        opened.fold_seconds = started.elapsed().as_secs_f64() - restored_after;
        if opened.caught_up > 0 || !opened.discarded.is_empty() || !rebuild.is_empty() {
            projections.save()?;
        }
        opened.seconds = started.elapsed().as_secs_f64();
        Ok((projections, opened))
    }

    /// The models, for reading. Hold the guard briefly: the live follower waits for it.
    pub fn read(&self) -> RwLockReadGuard<'_, ReadModels> {
        self.models.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, ReadModels> {
        self.models.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The position every model has applied.
    pub fn position(&self) -> u64 {
        *lock(&self.applied)
    }

    /// The log the models follow.
    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// Whether the models have applied everything durable in the log.
    pub fn is_caught_up(&self) -> Result<bool, ProjectionError> {
        let head = self.log.head()?.map_or(0, |(position, _)| position.0);
        Ok(self.position() >= head)
    }

    /// Why the live follower stopped, if it failed.
    pub fn failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }

    /// Folds everything the log has beyond the models' checkpoints; returns the count.
    pub fn catch_up(&self) -> Result<u64, ProjectionError> {
        self.catch_up_with(&mut |_, _| {})
    }

    fn catch_up_with(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, ProjectionError> {
        let mut models = self.write();
        let head = self.log.head()?.map_or(0, |(position, _)| position.0);
        let from = models.low_water() + 1;
        let folded = fold_range(
            self.log.as_ref(),
            from,
            head,
            self.options.workers,
            &mut |batch| models.apply_batch(batch),
            &mut |position| progress(position, head),
        )?;
        let reached = models.low_water();
        drop(models);
        self.advance(reached);
        Ok(folded)
    }

    fn advance(&self, position: u64) {
        let mut applied = lock(&self.applied);
        if position > *applied {
            *applied = position;
            self.advanced.notify_all();
        }
    }

    /// Writes every model's snapshot.
    pub fn save(&self) -> Result<(), ProjectionError> {
        let (snapshots, checkpoints) = {
            let models = self.read();
            (
                models.snapshots().map_err(ProjectionError::Serialize)?,
                models.low_water(),
            )
        };
        let mut hashes = Hashes::default();
        for (name, version, checkpoint, state) in snapshots {
            let hash = hashes.at(self.log.as_ref(), checkpoint)?;
            let header = Header {
                model: name.to_owned(),
                version,
                checkpoint,
                hash,
            };
            let mut bytes =
                serde_json::to_vec(&header).map_err(|error| ProjectionError::Serialize(error.to_string()))?;
            bytes.push(b'\n');
            bytes.extend_from_slice(&state);
            self.store.save(name, &bytes)?;
        }
        *lock(&self.saved) = checkpoints;
        Ok(())
    }

    /// Blocks until every model has applied `position` (true) or `timeout` passes (false).
    pub fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut applied = lock(&self.applied);
        while *applied < position {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            applied = self
                .advanced
                .wait_timeout(applied, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        true
    }

    /// Starts a thread that follows the log's live subscription, applies every new event
    /// and saves snapshots every `save_every` events (at most once per `save_after`).
    /// Idempotent.
    pub fn follow(self: &Arc<Projections>) {
        let mut follower = lock(&self.follower);
        if follower.is_some() {
            return;
        }
        let me = Arc::clone(self);
        *follower = Some(std::thread::spawn(move || {
            if let Err(error) = me.run_follower() {
                *lock(&me.failure) = Some(error.to_string());
            }
        }));
    }

    fn run_follower(&self) -> Result<(), ProjectionError> {
        let mut subscription = self.log.subscribe(Position(self.position() + 1));
        let mut batch: Vec<(Stamp, Fact)> = Vec::new();
        let mut last_save = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            let first = match subscription.next_timeout(Duration::from_millis(100)) {
                Ok(Some(envelope)) => envelope,
                Ok(None) => continue,
                Err(LogError::Closed) => return Ok(()),
                Err(error) => return Err(error.into()),
            };
            batch.clear();
            let mut next = Some(first);
            while let Some(envelope) = next {
                let fact = Fact::of(&envelope).map_err(|source| ProjectionError::Decode {
                    position: envelope.position.0,
                    source,
                })?;
                batch.push((Stamp::of(&envelope), fact));
                next = if batch.len() < 4096 {
                    subscription.next_timeout(Duration::ZERO).ok().flatten()
                } else {
                    None
                };
            }
            let reached = {
                let mut models = self.write();
                models.apply_batch(&batch);
                models.low_water()
            };
            self.advance(reached);
            let saved = *lock(&self.saved);
            if reached.saturating_sub(saved) >= self.options.save_every
                && last_save.elapsed() >= self.options.save_after
            {
                self.save()?;
                last_save = Instant::now();
            }
        }
        Ok(())
    }

    /// Stops the follower (if running) and saves the snapshots.
    pub fn shutdown(&self) -> Result<(), ProjectionError> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = lock(&self.follower).take() {
            let _ = handle.join();
        }
        self.save()
    }

    /// The fold of every model as of the end of business day `day`, kept from an earlier
    /// report about the day or new: ask it how far [`PastDay::behind`] it is, then
    /// [`Projections::answer_as_of`].
    pub fn past_day(&self, day: NaiveDate) -> Arc<PastDay> {
        self.past.day(day)
    }

    /// Runs `work` on the models as they stood at the end of `past`'s day, brought up to
    /// the log's head first ([`crate::past`]: exactly what [`Projections::as_of`] would
    /// fold, from the position the kept fold reached). Once `stop` is set the fold gives
    /// up within a block of events with [`ProjectionError::Stopped`]; what it folded is
    /// kept for the next caller.
    pub fn answer_as_of<T>(
        &self,
        past: &Arc<PastDay>,
        workers: usize,
        progress: &mut dyn FnMut(u64, u64),
        stop: &AtomicBool,
        work: impl FnOnce(&ReadModels) -> T,
    ) -> Result<T, ProjectionError> {
        self.past.answer(self.log.as_ref(), past, workers, progress, stop, work)
    }

    /// The past days kept and what bringing them up to date has cost.
    pub fn past_stats(&self) -> PastStats {
        self.past.stats()
    }

    /// Every model as it stood at the end of business day `as_of`: a fresh fold of the
    /// events that happened on or before it (deterministic: the same log gives the same
    /// models).
    pub fn as_of(
        log: &dyn EventLog,
        as_of: NaiveDate,
        workers: usize,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ReadModels, ProjectionError> {
        Self::as_of_until(log, as_of, workers, progress, &AtomicBool::new(false))
    }

    /// [`Projections::as_of`] for a caller that may stop waiting (a request whose client
    /// left or whose deadline passed): once `stop` is set the fold gives up within one
    /// block of events, with [`ProjectionError::Stopped`], instead of keeping a core busy
    /// for a result nobody reads.
    pub fn as_of_until(
        log: &dyn EventLog,
        as_of: NaiveDate,
        workers: usize,
        progress: &mut dyn FnMut(u64, u64),
        stop: &AtomicBool,
    ) -> Result<ReadModels, ProjectionError> {
        let mut models = ReadModels::default();
        fold_as_of(log, &mut models, as_of, workers, progress, stop, &|_| {})?;
        Ok(models)
    }
}

impl Drop for Projections {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The hashes (hex) of events at checkpoints, read once per position: the models are
/// usually all at the same one.
#[derive(Default)]
struct Hashes(BTreeMap<u64, String>);

impl Hashes {
    /// The hash of the event at `position` ("" for position 0, before any event).
    fn at(&mut self, log: &dyn EventLog, position: u64) -> Result<String, ProjectionError> {
        if position == 0 {
            return Ok(String::new());
        }
        if let Some(hash) = self.0.get(&position) {
            return Ok(hash.clone());
        }
        let envelope = log.read_all(Position(position), 1)?;
        let hash = match envelope.first() {
            Some(envelope) if envelope.position.0 == position => hex(&envelope.hash),
            _ => {
                return Err(ProjectionError::Log(LogError::Corrupt {
                    position: Some(position),
                    reason: "a read model's checkpoint is past the log's head".into(),
                }))
            }
        };
        self.0.insert(position, hash.clone());
        Ok(hash)
    }
}

/// A usable snapshot: version, checkpoint, the bytes and where the state starts in them.
type Snapshot = (u32, u64, Vec<u8>, usize);

/// Loads one model's snapshot and checks it belongs to this log: `Ok(Some(..))` when it
/// can be restored, `Ok(None)` when there is none, `Err(reason)` when it cannot be used.
fn check(
    log: &dyn EventLog,
    store: &dyn SnapshotStore,
    hashes: &mut Hashes,
    name: &'static str,
    head: u64,
) -> Result<Option<Snapshot>, String> {
    let Some(bytes) = store.load(name).map_err(|error| error.to_string())? else {
        return Ok(None);
    };
    let split = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("the snapshot has no header line")?;
    let header: Header = serde_json::from_slice(&bytes[..split])
        .map_err(|error| format!("the snapshot header does not parse: {error}"))?;
    if header.model != name {
        return Err(format!("the snapshot is of model {:?}", header.model));
    }
    if header.checkpoint > head {
        return Err(format!(
            "the snapshot is at position {}, past the log's head {head}",
            header.checkpoint
        ));
    }
    if hashes.at(log, header.checkpoint).map_err(|error| error.to_string())? != header.hash {
        return Err(format!(
            "the log's event at position {} is not the one the snapshot was taken after",
            header.checkpoint
        ));
    }
    Ok(Some((header.version, header.checkpoint, bytes, split + 1)))
}
