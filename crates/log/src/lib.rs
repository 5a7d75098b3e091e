//! kui's log contract: the [`EventLog`] trait every backend implements, the types it
//! speaks, the canonical bytes and hash chain every backend computes alike, an in-memory
//! log ([`MemoryLog`]) and the conformance suite ([`contract`], feature `contract`)
//! every backend passes.
//!
//! The log knows nothing of the domain.
//! An event is an opaque JSON payload with a type name, a schema version and metadata;
//! the log gives it a global position (gap-free, from 1), a version in its stream
//! (gap-free, from 1) and a place in a SHA-256 hash chain (each event's canonical bytes
//! include the previous event's hash), and stores it as an [`Envelope`].
//!
//! What every backend guarantees (the suite checks it):
//!
//! - An append to one or several streams is atomic, checked against an expected version
//!   per stream ([`LogError::Conflict`], nothing written) and idempotent per command id.
//! - An append is durable before it is answered.
//! - Reads and subscriptions only ever show acknowledged events, in position order,
//!   without gaps or duplicates.
//! - An import continues the chain exactly or writes nothing; [`EventLog::verify`]
//!   recomputes the whole chain.
//!
//! Everything is synchronous: async callers run it on blocking threads (or use
//! [`EventLog::append_then`]).
//!
//! # Layout
//!
//! - `error`: [`LogError`], the only error type of the contract.
//! - `types`: ids and counters ([`StreamId`], [`Position`], [`Version`]), the append
//!   request and outcome, [`Envelope`], [`Metadata`], [`EventRef`].
//! - `event_log`: the [`EventLog`] trait, and [`try_scan`] / [`try_scan_events`] for
//!   visitors with errors of their own.
//! - [`canonical`]: the canonical bytes of an event, its hash and its frame.
//! - `validate`: what makes a request storable ([`MAX_PAYLOAD_BYTES`], [`MAX_NAME_BYTES`]).
//! - [`subscription`]: [`Subscription`], catch-up then live, by position, over any
//!   backend's [`SubscriptionSource`].
//! - [`ndjson`]: lossless NDJSON export and import.
//! - `memory`: [`MemoryLog`].
//! - [`contract`] (feature `contract`): the conformance suite and [`contract_tests!`].

#![warn(missing_docs)]

pub mod canonical;
#[cfg(feature = "contract")]
pub mod contract;
mod error;
mod event_log;
mod memory;
pub mod ndjson;
pub mod subscription;
mod types;
mod validate;

pub use canonical::envelope_hash;
pub use error::LogError;
pub use event_log::{try_scan, try_scan_events, AppendCallback, EventLog};
pub use memory::MemoryLog;
pub use subscription::{Subscription, SubscriptionSource};
pub use types::{
    Actor, AppendOutcome, AppendRequest, Envelope, EventRef, ExpectedVersion, Metadata, NewEvent, Position,
    StreamAppend, StreamId, VerifyReport, Version, MAX_STREAM_ID_LEN,
};
pub use validate::{validate_envelope, validate_request, MAX_NAME_BYTES, MAX_PAYLOAD_BYTES};
