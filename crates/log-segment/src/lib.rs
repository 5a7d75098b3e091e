//! kui's embedded event log, [`SegmentLog`]: an append-only segment file holds the
//! events (the source of truth), sled holds the index data derived from it.
//!
//! It implements the contract of [`kui_log::EventLog`] and passes its conformance suite;
//! what it adds is on disk: an acknowledged append is fsynced before it is answered,
//! concurrent appends share one sync (group commit, pipelined with the next group's
//! write), recovery after a crash cuts only a write that provably never finished, damage
//! fails the open naming the position, and only [`repair`] cuts it, keeping a copy.
//! [`SegmentLog::open_read_only`] reads a log without writing or locking anything.
//!
//! # Layout
//!
//! - `error`: [`OpenError`] (what opening a directory can fail with) and the one
//!   conversion of sled's errors into [`kui_log::LogError`].
//! - [`segment_log`]: [`SegmentLog`], [`LogOptions`]; the on-disk layout, the recovery
//!   protocol and the durability notes live in its docs.
//! - `shared` (private): the state the handle and the threads share, and the reads.
//! - `codec` (private): chunks of frames, sled keys, stored command outcomes.
//! - `segment` (private): the segment file's record format, the chunk directory and the
//!   command table.
//! - `records` (private): reading records back, the acknowledgement watermark, and where
//!   the records end (an interrupted write or damage).
//! - `recovery` (private): what a log directory holds, and the records after the last
//!   persist read back into memory on open.
//! - `index` (private): the stream index, written in blocks, deferred from the hot path.
//! - The write pipeline, one module per thread: `writer` (groups requests and writes
//!   records), `flusher` (syncs, moves the watermark, hands answers to the acker),
//!   `persister` (writes the derived data to sled), `extender` (keeps zeros written
//!   ahead of the writer); `pipeline` starts them.
//! - `verify` (private): the end-to-end check behind [`kui_log::EventLog::verify`].
//! - [`repair`]: inspect and repair a damaged log, drop its derived data (reindex),
//!   upgrade an earlier format.
//!
//! The `kui-log-torture` binary in this crate is a durability-testing tool used by the
//! crash test.

#![warn(missing_docs)]

mod codec;
mod error;
mod extender;
mod flusher;
mod index;
mod persister;
mod pipeline;
mod records;
mod recovery;
pub mod repair;
mod segment;
pub mod segment_log;
mod verify;
mod writer;

pub use error::OpenError;
pub use recovery::Interrupted;
pub use segment_log::{Acknowledge, LogOptions, SegmentLog, WriteStats};
