//! The one error type of the log contract, the same for every backend.
//!
//! A backend maps its storage's errors into [`LogError::Backend`] (or
//! [`LogError::Corrupt`] for damage) in one place, so callers never see a storage type;
//! what only a backend's opening can go wrong with (a path, a file format) is that
//! backend's own error type.

use uuid::Uuid;

use crate::types::{ExpectedVersion, StreamId, Version};

/// Everything that can go wrong when using the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A string is not a valid stream id.
    ///
    /// Handling: a caller bug or bad input; reject the request, do not retry.
    #[error("invalid stream id {id:?}: {reason}")]
    InvalidStreamId {
        /// The rejected string.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A stream was not at the expected version; nothing of the append was written.
    ///
    /// Handling: reload the stream, decide again on the fresh state and retry (or report
    /// a version conflict to the user).
    #[error("version conflict on stream {stream}: expected {expected}, actual {}", actual_text(.actual))]
    Conflict {
        /// The stream whose check failed (the first one, in request order).
        stream: StreamId,
        /// What the request expected.
        expected: ExpectedVersion,
        /// The stream's current version, None if it has no events.
        actual: Option<Version>,
    },

    /// The append request has no streams, or a stream entry without events.
    ///
    /// Handling: a caller bug; a command that decides nothing should not append.
    #[error("append request contains no events")]
    EmptyAppend,

    /// An event is not storable (empty or oversized event type, oversized payload).
    ///
    /// Handling: a caller bug; reject the request, do not retry.
    #[error("invalid event {event_id}: {reason}")]
    InvalidEvent {
        /// The offending event.
        event_id: Uuid,
        /// What is wrong with it.
        reason: String,
    },

    /// The log was opened read-only; nothing can be appended.
    ///
    /// Handling: open it for writing (only one process can) to append.
    #[error("the log is open read-only")]
    ReadOnly,

    /// Stored data is damaged: a hash, link, position, version or index does not match.
    ///
    /// Handling: stop writing, keep the directory for inspection, restore from a backup
    /// or an NDJSON export.
    #[error("log is corrupt{}: {reason}", position_text(.position))]
    Corrupt {
        /// The first bad position, when the damage is tied to one.
        position: Option<u64>,
        /// What is wrong.
        reason: String,
    },

    /// Imported envelopes do not continue the log exactly; nothing was written.
    ///
    /// Handling: the import source does not belong after this log's head (wrong file,
    /// wrong target, or a tampered export); fix the input.
    #[error("import rejected at position {position}: {reason}")]
    Import {
        /// Position of the first rejected envelope.
        position: u64,
        /// What does not match.
        reason: String,
    },

    /// A line of an NDJSON export could not be parsed (truncated or malformed).
    ///
    /// Handling: the export file is damaged; re-export or repair that line.
    #[error("malformed ndjson at line {line}: {reason}")]
    Ndjson {
        /// 1-based line number, as passed by the caller.
        line: u64,
        /// What is wrong.
        reason: String,
    },

    /// The log is closed, or its writer thread is gone.
    ///
    /// Handling: a shutdown is in progress; stop issuing requests.
    #[error("the log is closed")]
    Closed,

    /// An earlier write or fsync failed, so the log refuses all further writes (it
    /// cannot know what reached the disk).
    /// Requests that get this error may or may not have been written.
    ///
    /// Handling: stop, fix the disk problem, reopen the log (recovery finds the durable
    /// prefix) and retry with the same command ids.
    #[error("the log stopped accepting writes after a write failure: {reason}")]
    Failed {
        /// The original failure.
        reason: String,
    },

    /// The storage backend (a file system, a database) failed.
    ///
    /// Handling: usually an environment problem (disk full, permissions, directory
    /// locked by another process); report it and retry later.
    #[error("storage backend error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn actual_text(actual: &Option<Version>) -> String {
    match actual {
        Some(version) => format!("version {version}"),
        None => "no stream".to_owned(),
    }
}

fn position_text(position: &Option<u64>) -> String {
    match position {
        Some(position) => format!(" at position {position}"),
        None => String::new(),
    }
}

impl LogError {
    /// Wraps a file-system error.
    pub fn io(error: std::io::Error) -> LogError {
        LogError::Backend(Box::new(error))
    }

    /// A corruption error tied to a position.
    pub fn corrupt_at(position: u64, reason: impl Into<String>) -> LogError {
        LogError::Corrupt {
            position: Some(position),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_without_trailing_period() {
        let stream = StreamId::new("s-1").expect("valid id");
        let errors = [
            LogError::Conflict {
                stream,
                expected: ExpectedVersion::Exact(Version(2)),
                actual: Some(Version(3)),
            },
            LogError::EmptyAppend,
            LogError::Corrupt {
                position: Some(7),
                reason: "hash mismatch".into(),
            },
            LogError::Closed,
        ];
        for error in errors {
            let text = error.to_string();
            assert!(!text.ends_with('.'), "{text}");
            assert!(text.chars().next().is_some_and(|c| !c.is_uppercase()), "{text}");
        }
    }

    #[test]
    fn conflict_message_names_both_versions() {
        let error = LogError::Conflict {
            stream: StreamId::new("s-1").expect("valid id"),
            expected: ExpectedVersion::NoStream,
            actual: Some(Version(3)),
        };
        assert_eq!(
            error.to_string(),
            "version conflict on stream s-1: expected no stream, actual version 3"
        );
    }
}
