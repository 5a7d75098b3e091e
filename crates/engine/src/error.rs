//! The engine's errors.

use kui_domain::{DecodeError, Rejection};
use kui_log::LogError;
use kui_projections::ProjectionError;
use thiserror::Error;

/// Why a command or query failed. Nothing was written in any case.
#[derive(Debug, Error)]
pub enum EngineError {
    /// A business rule refused the command; show the message to the user.
    #[error("rejected: {0}")]
    Rejected(#[from] Rejection),
    /// The stream moved on since the caller read it; re-read and decide again.
    #[error("version conflict on {stream}: expected {expected}, found {actual}")]
    Conflict {
        /// The stream.
        stream: String,
        /// What the caller expected.
        expected: String,
        /// What the stream is at.
        actual: String,
    },
    /// A referenced young person, meeting, staff member or municipality does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// Concurrent writers kept winning; the caller may retry later.
    #[error("gave up after {attempts} attempts: the stream kept changing")]
    Contention {
        /// How many attempts were made.
        attempts: u32,
    },
    /// A stored event could not be decoded: the log is from a newer build or damaged.
    #[error("cannot decode the event at position {position}")]
    Decode {
        /// The position.
        position: u64,
        /// Why.
        #[source]
        source: DecodeError,
    },
    /// An invariant of the stored history does not hold.
    #[error("invariant broken at position {position}: {reason}")]
    Invariant {
        /// The first bad position.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// The request itself is wrong (e.g. a date in the future for a tick).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The log failed.
    #[error(transparent)]
    Log(LogError),
    /// The read models could not be loaded, saved or folded; the log itself is untouched.
    #[error("read models: {0}")]
    ReadModels(ProjectionError),
    /// A [`crate::Engine::cached_only`] view would have had to read `what` from the log;
    /// run the call on the engine itself.
    #[error("{what} is not cached")]
    NotCached {
        /// What would have been read.
        what: String,
    },
}

impl From<ProjectionError> for EngineError {
    fn from(error: ProjectionError) -> Self {
        match error {
            ProjectionError::Log(error) => error.into(),
            ProjectionError::Decode { position, source } => EngineError::Decode { position, source },
            other => EngineError::ReadModels(other),
        }
    }
}

impl From<LogError> for EngineError {
    fn from(error: LogError) -> Self {
        match error {
            LogError::Conflict {
                stream,
                expected,
                actual,
            } => EngineError::Conflict {
                stream: stream.to_string(),
                expected: format!("{expected:?}"),
                actual: actual.map(|v| v.0.to_string()).unwrap_or_else(|| "no stream".into()),
            },
            other => EngineError::Log(other),
        }
    }
}

impl From<kui_domain::InvalidInput> for EngineError {
    fn from(error: kui_domain::InvalidInput) -> Self {
        EngineError::Rejected(Rejection::Invalid(error))
    }
}
