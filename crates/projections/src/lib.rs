//! kui's read models and the runtime that keeps them current with the log.
//!
//! A read model folds the log's events, in position order, into a state built for
//! questions: who is in which team, what is on a meeting's agenda, who coordinates too
//! many young people, which young people are about to fall between two chairs, what the
//! Viborg table said on a date, where a young person's events are.
//! Every model keeps a checkpoint (the last position applied) and is saved as a snapshot,
//! so a restart restores and catches up instead of replaying the whole log.
//!
//! Layout:
//! - `fact`: [`Fact`] and [`Stamp`], what the models fold (a slim decoding of events).
//! - `models`: [`Projector`], [`ReadModels`] (every model in lockstep), and one module per
//!   model: `directory`, `teams`, `meetings`, `caseload`, `alarms` (the transition alarms),
//!   `statistics`, `timeline`. Each model's report types live beside it.
//! - `queries`: questions across models ([`queries::YouthFilter`], the young-people listing).
//! - `fold`: the parallel decode, in-order fold pass over a range of the log.
//! - `runtime`: [`Projections`]: restore, catch up, follow live, rebuild, save, wait.
//! - `past`: [`PastDays`], the models as of past days, kept and brought up to date.
//! - `store`: [`SnapshotStore`], with [`DirectoryStore`] and [`MemoryStore`].
//! - `error`: [`ProjectionError`].
#![warn(missing_docs)]

pub mod error;
pub mod fact;
pub mod fold;
pub mod models;
pub mod past;
pub mod queries;
pub mod runtime;
pub mod store;

pub use error::ProjectionError;
pub use fact::{Fact, Facts, Stamp};
pub use models::{Checkpoints, Projector, ReadModels};
pub use past::{PastDay, PastDays, PastStats};
pub use runtime::{model_names, Opened, Options, Projections};
pub use store::{DirectoryStore, MemoryStore, SnapshotStore};
