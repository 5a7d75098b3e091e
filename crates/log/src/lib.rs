//! kui's append-only event log: the [`EventLog`] port and [`SledLog`], its durable
//! implementation (an append-only segment file for the events, sled for the derived
//! index data).
//!
//! The log knows nothing of the domain.
//! An event is an opaque JSON payload with a type name, a schema version and metadata;
//! the log gives it a global position (gap-free, from 1), a version in its stream
//! (gap-free, from 1) and a place in a SHA-256 hash chain (each event's canonical bytes
//! include the previous event's hash), and stores it as an [`Envelope`].
//!
//! Guarantees of [`SledLog`]:
//!
//! - An append to one or several streams is atomic, checked against an expected version
//!   per stream ([`LogError::Conflict`], nothing written) and idempotent per command id.
//! - An append is durable (fsynced) before it returns; concurrent appends share one sync
//!   (group commit, pipelined with the next group's write).
//! - Reads and subscriptions only ever show durable events, in position order, without
//!   gaps or duplicates.
//! - Recovery after a crash cuts only a write that provably never finished; damage fails
//!   the open naming the position, and only [`repair`] cuts it, keeping a copy.
//! - [`EventLog::verify`] checks every stored byte and recomputes the whole chain;
//!   [`SledLog::open_read_only`] lets it run without writing anything.
//!
//! Everything is synchronous (like sled): async callers run it on blocking threads.
//!
//! # Layout
//!
//! - `error`: [`LogError`], the only error type; the one `From<sled::Error>`.
//! - `types`: ids and counters ([`StreamId`], [`Position`], [`Version`]), the append
//!   request and outcome, [`Envelope`], [`Metadata`].
//! - `event_log`: the [`EventLog`] trait.
//! - `codec` (private): frame and chunk byte formats, hashing, sled key encoding.
//! - [`sled_log`]: [`SledLog`] and [`LogOptions`]; the on-disk layout, the recovery
//!   protocol and the durability notes live in its docs.
//! - `segment` (private): the segment file's record format, the chunk directory and the
//!   command table.
//! - `records` (private): reading records back, the acknowledgement watermark, and where
//!   the records end (an interrupted write or damage).
//! - `recovery` (private): what a log directory holds, and the records after the last
//!   persist read back into memory on open.
//! - [`repair`]: inspect and repair a damaged log, drop its derived data (reindex),
//!   upgrade an earlier format.
//! - `index` (private): the stream index, written in blocks, deferred from the hot path.
//! - `writer` (private): the writer, flusher, acker and persister threads (group commit).
//! - [`subscription`]: [`Subscription`], catch-up then live, by position.
//! - `verify` (private): the end-to-end check behind [`EventLog::verify`].
//! - [`ndjson`]: lossless NDJSON export and import.
//!
//! The `kui-log-torture` binary in this crate is a durability-testing tool used by the
//! crash test.

#![warn(missing_docs)]

mod codec;
mod error;
mod event_log;
mod index;
pub mod ndjson;
mod records;
mod recovery;
pub mod repair;
mod segment;
pub mod sled_log;
pub mod subscription;
mod types;
mod verify;
mod writer;

pub use codec::envelope_hash;
pub use error::LogError;
pub use event_log::EventLog;
pub use recovery::Interrupted;
pub use sled_log::{Acknowledge, LogOptions, SledLog, WriteStats};
pub use subscription::{Subscription, SubscriptionSource};
pub use types::{
    Actor, AppendOutcome, AppendRequest, Envelope, EventRef, ExpectedVersion, Metadata, NewEvent, Position,
    StreamAppend, StreamId, VerifyReport, Version, MAX_STREAM_ID_LEN,
};
pub use writer::{AppendCallback, MAX_NAME_BYTES, MAX_PAYLOAD_BYTES};
