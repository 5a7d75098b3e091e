//! The read models and the one struct that holds them all in lockstep.
//!
//! Each model is a [`Projector`]: a serialisable state folded from [`Fact`]s, with a name
//! and a version.
//! [`ReadModels`] keeps one checkpoint per model (the last position it applied), so a
//! model restored from an older snapshot, or dropped for a rebuild, catches up in the same
//! pass as the others without applying anything twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasherDefault;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Facts, Stamp};

pub mod alarms;
pub mod caseload;
pub mod directory;
pub mod meetings;
pub mod statistics;
pub mod teams;
pub mod timeline;

pub use alarms::Alarms;
pub use caseload::Caseload;
pub use directory::Directory;
pub use meetings::Meetings;
pub use statistics::Statistics;
pub use teams::Teams;
pub use timeline::Timeline;

/// Names read models had before, with the name each has now.
/// A snapshot kept under a former name is not read: the model is folded again under its
/// name, and [`Projections::open`](crate::Projections::open) deletes the old file.
/// `kui rebuild` answers a former name with the current one rather than guessing.
pub const FORMER_NAMES: &[(&str, &str)] = &[("transitions", "alarms")];

/// A hash map with a fast, non-cryptographic hasher (keys are uuids the log already vetted).
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<fxhash::FxHasher>>;

/// A hash set with the same fast hasher.
pub type FastSet<K> = HashSet<K, BuildHasherDefault<fxhash::FxHasher>>;

/// A read model: a state folded from facts in log order.
pub trait Projector: Default + Serialize + DeserializeOwned + Send + Sync {
    /// The model's name, as `kui rebuild` and the snapshot files spell it.
    const NAME: &'static str;
    /// Bumped whenever the model's meaning or stored form changes: a snapshot of another
    /// version is discarded and the model rebuilt from the log.
    const VERSION: u32;

    /// Folds one fact. Must be deterministic: the same facts in the same order give the
    /// same state.
    fn apply(&mut self, stamp: Stamp, fact: &Fact);
}

/// The snapshot encoding of a model's state.
fn encode<T: Serialize>(state: &T) -> Result<Vec<u8>, String> {
    bincode::serialize(state).map_err(|error| error.to_string())
}

/// Decodes a model's state from its snapshot encoding.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    bincode::deserialize(bytes).map_err(|error| format!("snapshot does not decode: {error}"))
}

macro_rules! read_models {
    ($( $(#[$doc:meta])* $field:ident: $model:ty ),+ $(,)?) => {
        /// Every read model, each with its checkpoint.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct ReadModels {
            $( $(#[$doc])* pub $field: $model, )+
            checkpoints: Checkpoints,
        }

        /// The last position each model has applied.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct Checkpoints {
            $( #[doc = concat!("The `", stringify!($field), "` model's checkpoint.")] pub $field: u64, )+
        }

        impl ReadModels {
            /// Every model's name, in fold order.
            pub const NAMES: &'static [&'static str] = &[ $( <$model>::NAME, )+ ];

            /// Applies a fact to every model that has not seen its position yet.
            pub fn apply(&mut self, stamp: Stamp, fact: &Fact) {
                $(
                    if self.checkpoints.$field < stamp.position {
                        self.$field.apply(stamp, fact);
                        self.checkpoints.$field = stamp.position;
                    }
                )+
            }

            /// Moves every checkpoint below `position` up to it (for a position whose
            /// event the models ignore, such as one past an as-of date).
            pub fn pass(&mut self, position: u64) {
                $( self.checkpoints.$field = self.checkpoints.$field.max(position); )+
            }

            /// The checkpoints.
            pub fn checkpoints(&self) -> Checkpoints {
                self.checkpoints
            }

            /// `(name, checkpoint)` for every model.
            pub fn checkpoint_list(&self) -> Vec<(&'static str, u64)> {
                vec![ $( (<$model>::NAME, self.checkpoints.$field), )+ ]
            }

            /// The lowest checkpoint: where a catch-up has to start.
            pub fn low_water(&self) -> u64 {
                [ $( self.checkpoints.$field, )+ ].into_iter().min().unwrap_or(0)
            }

            /// The highest checkpoint.
            pub fn high_water(&self) -> u64 {
                [ $( self.checkpoints.$field, )+ ].into_iter().max().unwrap_or(0)
            }

            /// Empties the named model and sets its checkpoint to 0; false for an unknown name.
            pub fn reset(&mut self, name: &str) -> bool {
                match name {
                    $( n if n == <$model>::NAME => {
                        self.$field = <$model>::default();
                        self.checkpoints.$field = 0;
                        true
                    } )+
                    _ => false,
                }
            }

            /// Each model's snapshot: name, version, checkpoint and state bytes.
            pub(crate) fn snapshots(&self) -> Result<Vec<(&'static str, u32, u64, Vec<u8>)>, String> {
                Ok(vec![ $( (
                    <$model>::NAME,
                    <$model>::VERSION,
                    self.checkpoints.$field,
                    encode(&self.$field).map_err(|error| format!("{}: {error}", <$model>::NAME))?,
                ), )+ ])
            }

            /// Restores models from `(version, checkpoint, state bytes)` by name, decoding
            /// them in parallel; returns each name's checkpoint, or why it was not restored.
            pub(crate) fn restore_all(
                &mut self,
                snapshots: &BTreeMap<&str, (u32, u64, &[u8])>,
            ) -> Vec<(&'static str, Result<u64, String>)> {
                let mut outcomes = Vec::new();
                std::thread::scope(|scope| {
                    $(
                        let $field = snapshots.get(<$model>::NAME).map(|&(version, checkpoint, bytes)| {
                            scope.spawn(move || -> Result<($model, u64), String> {
                                if version != <$model>::VERSION {
                                    return Err(format!(
                                        "snapshot is version {version}, this build's model is version {}",
                                        <$model>::VERSION
                                    ));
                                }
                                Ok((decode::<$model>(bytes)?, checkpoint))
                            })
                        });
                    )+
                    $(
                        if let Some(handle) = $field {
                            let outcome = handle
                                .join()
                                .unwrap_or_else(|_| Err("decoding the snapshot panicked".into()))
                                .map(|(model, checkpoint)| {
                                    self.$field = model;
                                    self.checkpoints.$field = checkpoint;
                                    checkpoint
                                });
                            outcomes.push((<$model>::NAME, outcome));
                        }
                    )+
                });
                outcomes
            }

            /// The size of every model's snapshot encoding together, in bytes: what a kept
            /// copy of the models is charged (their state, without the hash tables' spare
            /// capacity).
            pub fn encoded_size(&self) -> Result<u64, String> {
                let mut size = 0u64;
                $( size = size.saturating_add(
                    bincode::serialized_size(&self.$field).map_err(|error| format!("{}: {error}", <$model>::NAME))?,
                ); )+
                Ok(size)
            }

            /// The named model's version, if the name is known.
            pub fn version_of(name: &str) -> Option<u32> {
                match name {
                    $( n if n == <$model>::NAME => Some(<$model>::VERSION), )+
                    _ => None,
                }
            }
        }
    };
}

read_models! {
    /// Staff and municipal settings.
    directory: Directory,
    /// Team membership.
    teams: Teams,
    /// Meetings, agendas, decisions and follow-ups.
    meetings: Meetings,
    /// Coordinators' caseloads.
    caseload: Caseload,
    /// The facts the transition-alarm rules read.
    alarms: Alarms,
    /// The Viborg table, hand-overs and monthly flows.
    statistics: Statistics,
    /// Where each young person's events in other streams are.
    timeline: Timeline,
}

/// Below this many facts a batch is folded on the calling thread alone.
const PARALLEL_BATCH: usize = 1024;

/// Folds `batch` into one model, skipping positions it has seen.
fn fold_into<P: Projector>(model: &mut P, checkpoint: &mut u64, batch: &Facts) {
    for (stamp, fact) in batch {
        if *checkpoint < stamp.position {
            model.apply(*stamp, fact);
            *checkpoint = stamp.position;
        }
    }
}

impl ReadModels {
    /// Applies a block of facts, in position order, to every model that has not seen
    /// them: one model at a time (each model's data stays in cache for the whole block),
    /// and for large blocks on two threads, since the models are independent.
    pub fn apply_batch(&mut self, batch: &Facts) {
        let ReadModels {
            directory,
            teams,
            meetings,
            caseload,
            alarms,
            statistics,
            timeline,
            checkpoints,
        } = self;
        let Checkpoints {
            directory: at_directory,
            teams: at_teams,
            meetings: at_meetings,
            caseload: at_caseload,
            alarms: at_alarms,
            statistics: at_statistics,
            timeline: at_timeline,
        } = checkpoints;
        // The alarms model does the most work per fact; it and the directory go to
        // the second thread, the five others stay here.
        let mut second = || {
            fold_into(alarms, at_alarms, batch);
            fold_into(directory, at_directory, batch);
        };
        let mut first = || {
            fold_into(teams, at_teams, batch);
            fold_into(meetings, at_meetings, batch);
            fold_into(caseload, at_caseload, batch);
            fold_into(statistics, at_statistics, batch);
            fold_into(timeline, at_timeline, batch);
        };
        if batch.len() < PARALLEL_BATCH {
            second();
            first();
        } else {
            std::thread::scope(|scope| {
                scope.spawn(second);
                first();
            });
        }
    }
}
