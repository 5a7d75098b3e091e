//! The engine's errors.

use kui_domain::{DecodeError, Rejection};
use kui_log::{ExpectedVersion, LogError, Version};
use kui_projections::ProjectionError;
use thiserror::Error;

/// Why a command or query failed. Nothing was written in any case.
#[derive(Debug, Error)]
pub enum EngineError {
    /// A business rule refused the command; show the message to the user.
    #[error("rejected: {0}")]
    Rejected(#[from] Rejection),
    /// The stream moved on since the caller read it; re-read and decide again.
    #[error("version conflict on {stream}: expected version {expected}, {}", found(*.actual))]
    Conflict {
        /// The stream whose check failed.
        stream: String,
        /// The version the stream was expected at (0: it was expected not to exist).
        expected: u64,
        /// The version the stream is at, None when it has no events.
        actual: Option<u64>,
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
    /// The key store failed, or has no key for a young person a command needs one for.
    #[error(transparent)]
    Keys(kui_keys::KeyError),
    /// The sealed personal data of a stored event does not open under the key store's key
    /// (damaged, or the key store is not the one the log was written with).
    #[error("the sealed personal data at position {position} does not open: {source}")]
    Sealed {
        /// The position (0: an event being written).
        position: u64,
        /// Why.
        #[source]
        source: kui_keys::SealError,
    },
    /// The read models could not be loaded, saved or folded; the log itself is untouched.
    #[error("read models: {0}")]
    ReadModels(ProjectionError),
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
                expected: ExpectedVersion::Exact(Version(expected)),
                actual,
            } => EngineError::Conflict {
                stream: stream.to_string(),
                expected,
                actual: actual.map(|version| version.0),
            },
            LogError::Conflict {
                stream,
                expected: ExpectedVersion::NoStream,
                actual,
            } => EngineError::Conflict {
                stream: stream.to_string(),
                expected: 0,
                actual: actual.map(|version| version.0),
            },
            // The engine appends with `NoStream` or `Exact` only; a conflict with `Any`
            // would be the log's fault, not a moved stream.
            other => EngineError::Log(other),
        }
    }
}

/// Where a conflicting stream is, for messages.
fn found(actual: Option<u64>) -> String {
    match actual {
        Some(version) => format!("the stream is at version {version}"),
        None => "the stream has no events".to_owned(),
    }
}

impl From<kui_domain::InvalidInput> for EngineError {
    fn from(error: kui_domain::InvalidInput) -> Self {
        EngineError::Rejected(Rejection::Invalid(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kui_log::StreamId;

    fn log_conflict(expected: ExpectedVersion, actual: Option<u64>) -> EngineError {
        let stream = StreamId::new("youth-1").expect("a valid stream id");
        LogError::Conflict {
            stream,
            expected,
            actual: actual.map(Version),
        }
        .into()
    }

    #[test]
    fn a_conflict_from_the_log_keeps_its_numbers() {
        let moved = log_conflict(ExpectedVersion::Exact(Version(2)), Some(3));
        assert!(
            matches!(&moved, EngineError::Conflict { stream, expected: 2, actual: Some(3) } if stream == "youth-1"),
            "{moved:?}"
        );
        assert_eq!(
            moved.to_string(),
            "version conflict on youth-1: expected version 2, the stream is at version 3"
        );
        let created = log_conflict(ExpectedVersion::NoStream, Some(1));
        assert!(
            matches!(
                created,
                EngineError::Conflict {
                    expected: 0,
                    actual: Some(1),
                    ..
                }
            ),
            "{created:?}"
        );
        let gone = log_conflict(ExpectedVersion::Exact(Version(4)), None);
        assert!(
            matches!(
                gone,
                EngineError::Conflict {
                    expected: 4,
                    actual: None,
                    ..
                }
            ),
            "{gone:?}"
        );
        assert_eq!(
            gone.to_string(),
            "version conflict on youth-1: expected version 4, the stream has no events"
        );
    }
}
