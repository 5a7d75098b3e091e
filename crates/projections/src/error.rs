//! The one error type of the read models.

use kui_domain::DecodeError;
use kui_log::LogError;

/// Why a read-model operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// Reading the log failed; the log's error says whether it is damaged or closed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A stored event does not decode: the log holds something this build cannot read.
    /// Run `kui verify`; nothing was saved.
    #[error("the event at position {position} does not decode: {source}")]
    Decode {
        /// Its position.
        position: u64,
        /// Why.
        #[source]
        source: DecodeError,
    },
    /// The snapshot store could not be read or written (disk full, permissions).
    /// The read models in memory are intact; the snapshot is retried on the next save.
    #[error("snapshot store at {path}: {source}")]
    Store {
        /// The file or directory.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A model name the caller gave does not exist.
    #[error("unknown read model {name:?}; the models are: {known}")]
    UnknownModel {
        /// The name given.
        name: String,
        /// The names that exist.
        known: String,
    },
    /// A model name the caller gave is one a model had before: scripts that name it
    /// should name the model by its current name.
    #[error("the read model {name:?} is now called {now:?}")]
    RenamedModel {
        /// The former name given.
        name: String,
        /// The model's name now.
        now: &'static str,
    },
    /// A model's state could not be serialised (a bug: the states are plain data).
    #[error("serialising the read models: {0}")]
    Serialize(String),
    /// A fold worker thread died; the fold was abandoned and nothing was saved.
    #[error("a fold worker stopped unexpectedly")]
    Worker,
    /// The caller asked the fold to stop (it no longer waits for the result); nothing
    /// was saved. Not a failure: the caller has gone.
    #[error("the fold was stopped before it finished")]
    Stopped,
}
