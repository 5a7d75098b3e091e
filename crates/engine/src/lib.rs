//! kui's application service: everything user-facing writes and replays through it.
//!
//! The engine loads an aggregate by replaying its stream, decides with an injected clock,
//! appends with the expected version and retries a bounded number of times on conflict.
//! It adds cross-aggregate effects (a meeting decision that appoints a coordinator also
//! records `CoordinatorAssigned` on the young person, atomically, with causation ids),
//! records age milestones (`tick`), replays one young person's history for auditors and
//! verifies the whole log.
//!
//! Layout:
//! - `engine`: `Engine`, `Command`, `CommandContext`, `Executed`.
//! - `actor`: `Actor` and `Role`.
//! - `clock`: injected `Clock` and `IdSource`.
//! - `tick`: the age-milestone scheduler.
//! - `history`: the auditor's replay.
//! - `erasure`: erasure of personal data, its proof, the archive's copy, retention.
//! - `verify`: chain and invariant checks.
//! - `transfer`: NDJSON export/import and the summary of a log.
//! - `migrate`: the one-way copy of a log written before personal data was sealed.
//! - `error`: `EngineError`.
#![warn(missing_docs)]

pub mod actor;
mod cache;
pub mod clock;
pub mod engine;
pub mod erasure;
pub mod error;
pub mod history;
pub mod migrate;
pub mod tick;
pub mod transfer;
pub mod verify;

/// The read models (re-exported so callers of the engine name them without another edge).
pub use kui_projections as read_models;

pub use actor::{Actor, Role};
pub use clock::{Clock, FixedClock, IdSource, RandomIds, SeededIds, SystemClock};
pub use engine::{decode, Command, CommandContext, Engine, Erasure, Executed};
pub use erasure::{ArchiveManifest, Erased, ErasureReport, RetentionReport};
pub use error::EngineError;
pub use kui_keys as keys;
