//! The value types the log speaks: identifiers, counters, the append request and the
//! stored envelope.
//!
//! Nothing here knows what an event means: the event type is a string and the payload is
//! opaque bytes (JSON by convention, written by kui-domain).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::LogError;

/// Longest accepted stream id, in bytes.
pub const MAX_STREAM_ID_LEN: usize = 200;

/// The name of one stream (one aggregate), e.g. `youth-0190c1b2-...`.
///
/// Invariant: 1 to 200 bytes of printable ASCII (0x20..=0x7E).
/// That keeps ids safe to print and to use as sled key prefixes (no NUL, which the
/// stream index uses as a separator).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(pub(crate) String);

impl StreamId {
    /// Validates and wraps a stream id.
    pub fn new(id: impl Into<String>) -> Result<StreamId, LogError> {
        let id = id.into();
        match stream_id_problem(&id) {
            None => Ok(StreamId(id)),
            Some(reason) => Err(LogError::InvalidStreamId { id, reason }),
        }
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why `id` is not a valid stream id, or `None` when it is.
pub(crate) fn stream_id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        Some("stream id is empty")
    } else if id.len() > MAX_STREAM_ID_LEN {
        Some("stream id is longer than 200 bytes")
    } else if !id.bytes().all(|byte| (0x20..=0x7e).contains(&byte)) {
        Some("stream id contains a byte that is not printable ascii")
    } else {
        None
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for StreamId {
    type Error = LogError;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        StreamId::new(id)
    }
}

impl From<StreamId> for String {
    fn from(id: StreamId) -> String {
        id.0
    }
}

impl AsRef<str> for StreamId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Global position of an event in the log: the first event is 1, and positions are
/// gap-free and strictly increasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Position(pub u64);

impl Position {
    /// The position right after this one.
    pub fn next(self) -> Position {
        Position(self.0 + 1)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Version of one stream: the stream's first event has version 1, the next 2, and so
/// on without gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Version(pub u64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The optimistic-concurrency check for one stream in an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// No check: append whatever the stream's current version is.
    Any,
    /// The stream must not have any events yet (creating an aggregate).
    NoStream,
    /// The stream's current version must be exactly this (the version the caller
    /// loaded and decided on). `Exact(Version(0))` means the same as `NoStream`.
    Exact(Version),
}

impl ExpectedVersion {
    /// Whether a stream whose current version is `current` (0 for no events) passes.
    pub fn accepts(self, current: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(Version(expected)) => current == expected,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any version"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(version) => write!(f, "version {version}"),
        }
    }
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The staff member, when a person acted (None for the engine itself, e.g. the
    /// age-milestone scheduler).
    pub staff_id: Option<String>,
    /// The role the actor acted in (e.g. `coordinator`, `system`).
    pub role: String,
    /// The actor's department, when known.
    pub department: Option<String>,
}

/// Facts about an event that are not part of its domain payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Metadata {
    /// Who caused the event.
    pub actor: Actor,
    /// The command that produced the event.
    pub command_id: Option<Uuid>,
    /// The event or command that directly caused this one.
    pub causation_id: Option<Uuid>,
    /// The id shared by everything that belongs to one user-level operation.
    pub correlation_id: Option<Uuid>,
    /// Business time: when the fact happened in the world.
    pub occurred_at: DateTime<Utc>,
    /// When the engine recorded the event.
    /// Set by the caller from its injected clock; the log never reads a clock.
    pub recorded_at: DateTime<Utc>,
}

/// One event to append; the log adds position, version and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Unique id of the event (UUIDv7 by convention).
    pub event_id: Uuid,
    /// The stored event name, e.g. `CoordinatorAssigned`; 1 to 1024 bytes.
    pub event_type: String,
    /// Version of the payload's schema, for upcasting at read time.
    pub schema_version: u16,
    /// The payload: JSON bytes, opaque to the log (at most 16 MiB).
    pub payload: Vec<u8>,
    /// Actor, ids and times.
    pub metadata: Metadata,
}

/// The events for one stream in an append, with the stream's concurrency check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamAppend {
    /// Stream to append to.
    pub stream: StreamId,
    /// Version the stream must be at, checked before anything is written.
    pub expected: ExpectedVersion,
    /// Events, in order; must not be empty.
    pub events: Vec<NewEvent>,
}

/// One atomic append: every stream's events are written, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    /// Makes the append idempotent: a second request with the same id writes nothing
    /// and returns the first outcome (with `replayed` set).
    pub command_id: Option<Uuid>,
    /// The streams to append to, in order.
    /// A stream may appear more than once; later entries see the earlier ones' events.
    pub streams: Vec<StreamAppend>,
}

/// What an append wrote.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppendOutcome {
    /// Position of the first event written.
    pub first_position: Position,
    /// Position of the last event written.
    pub last_position: Position,
    /// The new version of each stream, one entry per [`StreamAppend`] in request order.
    pub streams: Vec<(StreamId, Version)>,
    /// True when the command id had been appended before: this is the stored first
    /// outcome and nothing was written.
    pub replayed: bool,
}

/// A stored event as read back from the log.
///
/// Its serde form is the NDJSON export line (see [`crate::ndjson`]): the payload is
/// embedded as a JSON value and the hashes are lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Envelope {
    /// Global position.
    pub position: Position,
    /// The stream the event belongs to.
    pub stream: StreamId,
    /// Version of the stream after this event.
    pub version: Version,
    /// Unique event id.
    pub event_id: Uuid,
    /// Stored event name.
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: u16,
    /// JSON payload bytes exactly as appended.
    pub payload: Vec<u8>,
    /// Actor, ids and times.
    pub metadata: Metadata,
    /// Hash of the previous position's event (32 zero bytes for position 1).
    pub prev_hash: [u8; 32],
    /// SHA-256 over this event's canonical bytes, which include `prev_hash`.
    pub hash: [u8; 32],
}

/// The part of a stored event a fold reads, borrowed for one visit of
/// [`crate::EventLog::scan_events`] (nothing is copied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// Global position.
    pub position: Position,
    /// Stored event name.
    pub event_type: &'a str,
    /// Payload schema version.
    pub schema_version: u16,
    /// Business time.
    pub occurred_at: DateTime<Utc>,
    /// JSON payload bytes exactly as appended.
    pub payload: &'a [u8],
}

/// Result of [`crate::EventLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Number of events checked.
    pub events: u64,
    /// Number of distinct streams seen.
    pub streams: u64,
    /// Position and hash of the last event checked (None for an empty log).
    pub head: Option<(Position, [u8; 32])>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_id_accepts_printable_ascii_up_to_200_bytes() {
        assert!(StreamId::new("youth-0190c1b2").is_ok());
        assert!(StreamId::new("a".repeat(200)).is_ok());
        assert!(StreamId::new("with space ~").is_ok());
    }

    #[test]
    fn stream_id_rejects_empty_long_and_non_printable() {
        for bad in [
            String::new(),
            "a".repeat(201),
            "a\0b".into(),
            "tab\t".into(),
            "ø".into(),
        ] {
            assert!(
                matches!(StreamId::new(bad.clone()), Err(LogError::InvalidStreamId { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn stream_id_deserialization_validates() {
        let ok: StreamId = serde_json::from_str("\"s-1\"").expect("valid id");
        assert_eq!(ok.as_str(), "s-1");
        assert!(serde_json::from_str::<StreamId>("\"\"").is_err());
    }

    #[test]
    fn expected_version_checks() {
        assert!(ExpectedVersion::Any.accepts(7));
        assert!(ExpectedVersion::NoStream.accepts(0));
        assert!(!ExpectedVersion::NoStream.accepts(1));
        assert!(ExpectedVersion::Exact(Version(3)).accepts(3));
        assert!(!ExpectedVersion::Exact(Version(3)).accepts(4));
    }
}
