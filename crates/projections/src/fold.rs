//! One pass over a range of the log, decoding on several threads and folding in order.
//!
//! The range is cut into blocks of positions; worker `k` of `n` reads and decodes blocks
//! `k, k + n, k + 2n, ...` with its own scan, and the calling thread takes the blocks back
//! in order and hands each block's facts to the sink.
//! Decoding is most of a rebuild's cost, so this uses every core while the fold itself
//! stays sequential and deterministic.

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use chrono::NaiveDate;
use kui_log::{try_scan_events, EventLog, Position};

use crate::error::ProjectionError;
use crate::fact::{Fact, Facts, Stamp};

/// Positions per block handed to one worker.
const BLOCK: u64 = 8192;

/// Blocks a worker may decode ahead of the fold.
const AHEAD: usize = 3;

/// Decodes the events of `from..=to` (clamped to the durable head), calling `sink` with
/// each block of facts in position order, and `progress(position)` after each block.
/// Returns how many events were folded.
pub fn fold_range(
    log: &dyn EventLog,
    from: u64,
    to: u64,
    workers: usize,
    sink: &mut dyn FnMut(&Facts),
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ProjectionError> {
    fold_range_until(log, from, to, workers, sink, progress, &AtomicBool::new(false))
}

/// [`fold_range`] for a caller that may stop waiting: once `stop` is set the fold gives
/// up with [`ProjectionError::Stopped`]. It is checked before each block is folded, so a
/// fold stops within one block's work (8,192 events) of being asked.
pub fn fold_range_until(
    log: &dyn EventLog,
    from: u64,
    to: u64,
    workers: usize,
    sink: &mut dyn FnMut(&Facts),
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
) -> Result<u64, ProjectionError> {
    fold_blocks(
        log,
        from..=to,
        workers,
        None,
        &mut |batch, _| sink(batch),
        progress,
        stop,
    )
}

/// [`fold_range_until`] for a fold as of the end of business day `as_of`: only the events
/// that happened on or before it are decoded and handed to `sink`, with the last position
/// of their block (every position up to it has been read: the others happened later and
/// are skipped undecoded, so a fold as of a past day costs a read, not a decode, per
/// later event). Returns how many events were handed over.
pub fn fold_range_as_of(
    log: &dyn EventLog,
    range: RangeInclusive<u64>,
    workers: usize,
    as_of: NaiveDate,
    sink: &mut dyn FnMut(&Facts, u64),
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
) -> Result<u64, ProjectionError> {
    fold_blocks(log, range, workers, Some(as_of), sink, progress, stop)
}

/// The one block-wise pass behind the folds above: `sink(facts, block end)` for each
/// block of `range`, in order; events after `until` (when given) are not decoded.
fn fold_blocks(
    log: &dyn EventLog,
    range: RangeInclusive<u64>,
    workers: usize,
    until: Option<NaiveDate>,
    sink: &mut dyn FnMut(&Facts, u64),
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
) -> Result<u64, ProjectionError> {
    let (from, to) = range.into_inner();
    let from = from.max(1);
    if from > to {
        return Ok(0);
    }
    let blocks: Vec<(u64, u64)> = (0..)
        .map(|i| from.saturating_add(i * BLOCK))
        .take_while(|&start| start <= to)
        .map(|start| (start, start.saturating_add(BLOCK - 1).min(to)))
        .collect();
    let workers = workers.clamp(1, blocks.len());
    if workers == 1 {
        let mut folded = 0;
        for &(start, end) in &blocks {
            if stop.load(Ordering::Relaxed) {
                return Err(ProjectionError::Stopped);
            }
            let batch = decode_block(log, start, end, until)?;
            folded += batch.len() as u64;
            sink(&batch, end);
            progress(end);
        }
        return Ok(folded);
    }
    // Tells the workers to stop decoding ahead: the fold failed or was stopped.
    let abandon = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let mut receivers = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (sender, receiver) = sync_channel(AHEAD);
            receivers.push(receiver);
            let mine: Vec<(u64, u64)> = blocks.iter().skip(worker).step_by(workers).copied().collect();
            let abandon = &abandon;
            scope.spawn(move || {
                for (start, end) in mine {
                    if abandon.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let batch = decode_block(log, start, end, until);
                    let failed = batch.is_err();
                    if sender.send(batch).is_err() || failed {
                        return;
                    }
                }
            });
        }
        let mut folded = 0;
        for (index, &(_, end)) in blocks.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                abandon.store(true, Ordering::Relaxed);
                return Err(ProjectionError::Stopped);
            }
            let received = receivers[index % workers].recv().map_err(|_| ProjectionError::Worker);
            let batch = match received.and_then(|batch| batch) {
                Ok(batch) => batch,
                Err(error) => {
                    abandon.store(true, Ordering::Relaxed);
                    return Err(error);
                }
            };
            folded += batch.len() as u64;
            sink(&batch, end);
            progress(end);
        }
        Ok(folded)
    })
}

/// Reads `start..=end` and decodes its events (those that happened by `until`, if given).
fn decode_block(
    log: &dyn EventLog,
    start: u64,
    end: u64,
    until: Option<NaiveDate>,
) -> Result<Vec<(Stamp, Fact)>, ProjectionError> {
    let capacity = usize::try_from(end - start + 1).unwrap_or(0);
    let mut batch = Vec::with_capacity(if until.is_some() { 0 } else { capacity });
    try_scan_events(log, Position(start), Position(end), |event| {
        let stamp = Stamp::of_ref(&event);
        if until.is_some_and(|day| stamp.on > day) {
            return Ok(());
        }
        let fact = Fact::decode(event.event_type, event.schema_version, event.payload).map_err(|source| {
            ProjectionError::Decode {
                position: event.position.0,
                source,
            }
        })?;
        batch.push((stamp, fact));
        Ok::<(), ProjectionError>(())
    })?;
    Ok(batch)
}
