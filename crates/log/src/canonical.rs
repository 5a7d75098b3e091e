//! The canonical bytes of an event and its hash: what every backend stores and chains.
//!
//! Any implementation of [`crate::EventLog`] computes an event's hash from exactly these
//! bytes, so an export from one backend imports into another and verifies there.
//!
//! # Frame (format 1)
//!
//! A frame is the event's *canonical bytes* followed by their SHA-256 hash (32 bytes).
//! The hash chain lives inside the canonical bytes: they end with the previous event's
//! hash, so changing any stored byte of any event breaks its own hash and every later
//! link.
//!
//! Canonical bytes, in this fixed order, all integers big-endian; `str` and `bytes` are
//! a u32 length followed by the bytes; `opt` is a tag byte (0 = none, 1 = some) followed
//! by the value; a timestamp is i64 seconds since the Unix epoch followed by u32
//! nanoseconds (lossless for every `DateTime<Utc>`, including leap seconds):
//!
//! | field | encoding |
//! |---|---|
//! | frame format | u8, always 1 |
//! | position | u64 |
//! | stream | str |
//! | version | u64 |
//! | event_id | 16 bytes |
//! | event_type | str |
//! | schema_version | u16 |
//! | actor.staff_id | opt str |
//! | actor.role | str |
//! | actor.department | opt str |
//! | command_id, causation_id, correlation_id | opt 16 bytes each |
//! | occurred_at, recorded_at | timestamp each |
//! | payload | bytes |
//! | prev_hash | 32 bytes |

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::types::{Actor, Envelope, Metadata, Position, StreamId, Version};

/// The frame format byte that starts every canonical encoding.
pub const FRAME_FORMAT: u8 = 1;
/// Length of a SHA-256 hash.
pub const HASH_LEN: usize = 32;
/// The previous hash of the first event.
pub const ZERO_HASH: [u8; 32] = [0; 32];

/// The fields of one event, borrowed, as needed to encode its frame.
#[allow(missing_docs)] // The envelope's fields, named alike (see [`Envelope`]).
pub struct FrameFields<'a> {
    pub position: u64,
    pub stream: &'a str,
    pub version: u64,
    pub event_id: &'a Uuid,
    pub event_type: &'a str,
    pub schema_version: u16,
    pub metadata: &'a Metadata,
    pub payload: &'a [u8],
    pub prev_hash: &'a [u8; 32],
}

impl<'a> FrameFields<'a> {
    /// The fields of a stored envelope (for re-encoding during import).
    pub fn of_envelope(envelope: &'a Envelope) -> FrameFields<'a> {
        FrameFields {
            position: envelope.position.0,
            stream: envelope.stream.as_str(),
            version: envelope.version.0,
            event_id: &envelope.event_id,
            event_type: &envelope.event_type,
            schema_version: envelope.schema_version,
            metadata: &envelope.metadata,
            payload: &envelope.payload,
            prev_hash: &envelope.prev_hash,
        }
    }
}

fn opt_str_len(value: &Option<String>) -> usize {
    1 + value.as_ref().map_or(0, |text| 4 + text.len())
}

fn opt_uuid_len(value: &Option<Uuid>) -> usize {
    1 + value.map_or(0, |_| 16)
}

/// Length of the frame (canonical bytes plus hash) `fields` encode to.
pub fn frame_len(fields: &FrameFields<'_>) -> usize {
    let metadata = fields.metadata;
    1 + 8
        + 4
        + fields.stream.len()
        + 8
        + 16
        + 4
        + fields.event_type.len()
        + 2
        + opt_str_len(&metadata.actor.staff_id)
        + 4
        + metadata.actor.role.len()
        + opt_str_len(&metadata.actor.department)
        + opt_uuid_len(&metadata.command_id)
        + opt_uuid_len(&metadata.causation_id)
        + opt_uuid_len(&metadata.correlation_id)
        + 12
        + 12
        + 4
        + fields.payload.len()
        + HASH_LEN
        + HASH_LEN
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("lengths are validated to fit u32 before encoding");
    out.extend_from_slice(&len.to_be_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn put_opt_str(out: &mut Vec<u8>, value: &Option<String>) {
    match value {
        None => out.push(0),
        Some(text) => {
            out.push(1);
            put_bytes(out, text.as_bytes());
        }
    }
}

fn put_opt_uuid(out: &mut Vec<u8>, value: &Option<Uuid>) {
    match value {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
    }
}

fn put_time(out: &mut Vec<u8>, time: &DateTime<Utc>) {
    out.extend_from_slice(&time.timestamp().to_be_bytes());
    out.extend_from_slice(&time.timestamp_subsec_nanos().to_be_bytes());
}

/// Appends the canonical bytes of `fields` to `out`.
pub fn encode_canonical(out: &mut Vec<u8>, fields: &FrameFields<'_>) {
    let metadata = fields.metadata;
    out.push(FRAME_FORMAT);
    out.extend_from_slice(&fields.position.to_be_bytes());
    put_bytes(out, fields.stream.as_bytes());
    out.extend_from_slice(&fields.version.to_be_bytes());
    out.extend_from_slice(fields.event_id.as_bytes());
    put_bytes(out, fields.event_type.as_bytes());
    out.extend_from_slice(&fields.schema_version.to_be_bytes());
    put_opt_str(out, &metadata.actor.staff_id);
    put_bytes(out, metadata.actor.role.as_bytes());
    put_opt_str(out, &metadata.actor.department);
    put_opt_uuid(out, &metadata.command_id);
    put_opt_uuid(out, &metadata.causation_id);
    put_opt_uuid(out, &metadata.correlation_id);
    put_time(out, &metadata.occurred_at);
    put_time(out, &metadata.recorded_at);
    put_bytes(out, fields.payload);
    out.extend_from_slice(fields.prev_hash);
}

/// SHA-256 of some canonical bytes.
pub fn hash_canonical(canonical: &[u8]) -> [u8; 32] {
    Sha256::digest(canonical).into()
}

/// Appends the whole frame (canonical bytes, then hash) to `out`; returns the hash.
pub fn encode_frame(out: &mut Vec<u8>, fields: &FrameFields<'_>) -> [u8; 32] {
    let start = out.len();
    encode_canonical(out, fields);
    let hash = hash_canonical(&out[start..]);
    out.extend_from_slice(&hash);
    hash
}

/// Recomputes an envelope's hash: SHA-256 over its canonical bytes (which include its
/// `prev_hash`), exactly as the log computed it when the event was appended.
///
/// Compare it with `envelope.hash` to check an envelope from an untrusted source (an
/// NDJSON export) before importing it.
pub fn envelope_hash(envelope: &Envelope) -> [u8; 32] {
    let fields = FrameFields::of_envelope(envelope);
    let mut canonical = Vec::with_capacity(frame_len(&fields));
    encode_canonical(&mut canonical, &fields);
    hash_canonical(&canonical)
}

/// Splits a frame into its canonical bytes and its stored hash.
pub fn split_frame(frame: &[u8]) -> Result<(&[u8], [u8; 32]), String> {
    if frame.len() < HASH_LEN + 1 {
        return Err(format!("frame of {} bytes is too short", frame.len()));
    }
    let (canonical, hash) = frame.split_at(frame.len() - HASH_LEN);
    let mut stored = [0; 32];
    stored.copy_from_slice(hash);
    Ok((canonical, stored))
}

/// A cursor over canonical bytes; every read checks bounds.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| format!("frame truncated: needs {n} bytes at offset {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    fn tag(&mut self, what: &str) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(format!("{what} has invalid option tag {other}")),
        }
    }

    fn opt_bytes(&mut self, what: &str) -> Result<Option<&'a [u8]>, String> {
        if self.tag(what)? {
            Ok(Some(self.bytes()?))
        } else {
            Ok(None)
        }
    }

    fn uuid(&mut self) -> Result<Uuid, String> {
        Ok(Uuid::from_bytes(self.array()?))
    }

    fn opt_uuid(&mut self, what: &str) -> Result<Option<Uuid>, String> {
        if self.tag(what)? {
            Ok(Some(self.uuid()?))
        } else {
            Ok(None)
        }
    }

    fn time(&mut self, what: &str) -> Result<DateTime<Utc>, String> {
        let seconds = i64::from_be_bytes(self.array()?);
        let nanos = self.u32()?;
        DateTime::from_timestamp(seconds, nanos)
            .ok_or_else(|| format!("{what} ({seconds} s, {nanos} ns) is out of range"))
    }
}

/// Sets `target` to the utf-8 text `bytes`, skipping the check and the copy when it
/// already holds them (scans decode into one reused envelope, and consecutive events
/// often share their type, role and department).
fn set_string(target: &mut String, bytes: &[u8], what: &str) -> Result<(), String> {
    if target.as_bytes() != bytes {
        let text = std::str::from_utf8(bytes).map_err(|_| format!("{what} is not valid utf-8"))?;
        target.clear();
        target.push_str(text);
    }
    Ok(())
}

fn set_opt_string(target: &mut Option<String>, bytes: Option<&[u8]>, what: &str) -> Result<(), String> {
    match (target.as_mut(), bytes) {
        (Some(existing), Some(bytes)) => set_string(existing, bytes, what),
        (_, None) => {
            *target = None;
            Ok(())
        }
        (None, Some(bytes)) => {
            let text = std::str::from_utf8(bytes).map_err(|_| format!("{what} is not valid utf-8"))?;
            *target = Some(text.to_owned());
            Ok(())
        }
    }
}

/// Decodes a frame into `envelope`, reusing its allocations (the fast path for scans).
///
/// Checks structure only; the hash is taken as stored, not recomputed ([`crate::verify`]
/// does that).
pub fn decode_frame_into(frame: &[u8], envelope: &mut Envelope) -> Result<(), String> {
    let (canonical, hash) = split_frame(frame)?;
    let mut reader = Reader {
        bytes: canonical,
        at: 0,
    };
    let format = reader.u8()?;
    if format != FRAME_FORMAT {
        return Err(format!("unknown frame format {format}"));
    }
    envelope.position = Position(reader.u64()?);
    let stream = reader.bytes()?;
    if envelope.stream.0.as_bytes() != stream {
        let stream = std::str::from_utf8(stream).map_err(|_| "stream id is not valid utf-8".to_owned())?;
        if let Some(problem) = crate::types::stream_id_problem(stream) {
            return Err(problem.to_owned());
        }
        set_string(&mut envelope.stream.0, stream.as_bytes(), "stream id")?;
    }
    envelope.version = Version(reader.u64()?);
    envelope.event_id = reader.uuid()?;
    set_string(&mut envelope.event_type, reader.bytes()?, "event type")?;
    envelope.schema_version = reader.u16()?;
    let metadata = &mut envelope.metadata;
    set_opt_string(&mut metadata.actor.staff_id, reader.opt_bytes("staff id")?, "staff id")?;
    set_string(&mut metadata.actor.role, reader.bytes()?, "role")?;
    set_opt_string(
        &mut metadata.actor.department,
        reader.opt_bytes("department")?,
        "department",
    )?;
    metadata.command_id = reader.opt_uuid("command id")?;
    metadata.causation_id = reader.opt_uuid("causation id")?;
    metadata.correlation_id = reader.opt_uuid("correlation id")?;
    metadata.occurred_at = reader.time("occurred_at")?;
    metadata.recorded_at = reader.time("recorded_at")?;
    let payload = reader.bytes()?;
    envelope.payload.clear();
    envelope.payload.extend_from_slice(payload);
    envelope.prev_hash = reader.array()?;
    if reader.at != canonical.len() {
        return Err(format!(
            "{} unexpected bytes after the frame",
            canonical.len() - reader.at
        ));
    }
    envelope.hash = hash;
    Ok(())
}

/// The fields of a frame a fold reads, borrowed from the frame's bytes.
#[allow(missing_docs)] // The envelope's fields, named alike (see [`Envelope`]).
pub struct FrameRef<'a> {
    pub position: u64,
    pub event_type: &'a str,
    pub schema_version: u16,
    pub occurred_at: DateTime<Utc>,
    pub payload: &'a [u8],
}

/// Decodes the fields a fold reads, skipping the rest without copying anything.
///
/// Checks the same structure as [`decode_frame_into`] except the text of the skipped
/// strings (stream id, actor), which is never exposed.
pub fn decode_frame_ref(frame: &[u8]) -> Result<FrameRef<'_>, String> {
    let (canonical, _) = split_frame(frame)?;
    let mut reader = Reader {
        bytes: canonical,
        at: 0,
    };
    let format = reader.u8()?;
    if format != FRAME_FORMAT {
        return Err(format!("unknown frame format {format}"));
    }
    let position = reader.u64()?;
    reader.bytes()?;
    reader.u64()?;
    reader.uuid()?;
    let event_type = std::str::from_utf8(reader.bytes()?).map_err(|_| "event type is not valid utf-8".to_owned())?;
    let schema_version = reader.u16()?;
    reader.opt_bytes("staff id")?;
    reader.bytes()?;
    reader.opt_bytes("department")?;
    reader.opt_uuid("command id")?;
    reader.opt_uuid("causation id")?;
    reader.opt_uuid("correlation id")?;
    let occurred_at = reader.time("occurred_at")?;
    reader.time("recorded_at")?;
    let payload = reader.bytes()?;
    reader.array::<32>()?;
    if reader.at != canonical.len() {
        return Err(format!(
            "{} unexpected bytes after the frame",
            canonical.len() - reader.at
        ));
    }
    Ok(FrameRef {
        position,
        event_type,
        schema_version,
        occurred_at,
        payload,
    })
}

/// An envelope to decode into; every field is overwritten by [`decode_frame_into`].
pub fn blank_envelope() -> Envelope {
    Envelope {
        position: Position(0),
        stream: StreamId(String::new()),
        version: Version(0),
        event_id: Uuid::nil(),
        event_type: String::new(),
        schema_version: 0,
        payload: Vec::new(),
        metadata: Metadata {
            actor: Actor {
                staff_id: None,
                role: String::new(),
                department: None,
            },
            command_id: None,
            causation_id: None,
            correlation_id: None,
            occurred_at: DateTime::UNIX_EPOCH,
            recorded_at: DateTime::UNIX_EPOCH,
        },
        prev_hash: ZERO_HASH,
        hash: ZERO_HASH,
    }
}

/// Decodes one frame into a fresh envelope.
pub fn decode_frame(frame: &[u8]) -> Result<Envelope, String> {
    let mut envelope = blank_envelope();
    decode_frame_into(frame, &mut envelope)?;
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_envelope() -> Envelope {
        let mut envelope = blank_envelope();
        envelope.position = Position(42);
        envelope.stream = StreamId::new("youth-1").expect("valid id");
        envelope.version = Version(7);
        envelope.event_id = Uuid::from_u128(0x0190_c1b2_0000_7000_8000_0000_0000_0001);
        envelope.event_type = "CoordinatorAssigned".into();
        envelope.schema_version = 3;
        envelope.payload = br#"{"coordinator":"staff-9"}"#.to_vec();
        envelope.metadata = Metadata {
            actor: Actor {
                staff_id: Some("staff-1".into()),
                role: "coordinator".into(),
                department: Some("jobcenter".into()),
            },
            command_id: Some(Uuid::from_u128(11)),
            causation_id: None,
            correlation_id: Some(Uuid::from_u128(13)),
            occurred_at: DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("in range"),
            recorded_at: DateTime::from_timestamp(-5, 999_999_999).expect("in range"),
        };
        envelope.prev_hash = [9; 32];
        envelope
    }

    fn encode(envelope: &Envelope) -> (Vec<u8>, [u8; 32]) {
        let mut frame = Vec::new();
        let fields = FrameFields::of_envelope(envelope);
        let hash = encode_frame(&mut frame, &fields);
        assert_eq!(frame.len(), frame_len(&fields));
        (frame, hash)
    }

    #[test]
    fn frame_round_trips() {
        let mut envelope = sample_envelope();
        let (frame, hash) = encode(&envelope);
        envelope.hash = hash;
        assert_eq!(decode_frame(&frame).expect("decodes"), envelope);
    }

    #[test]
    fn decode_into_reuses_and_fully_overwrites() {
        let mut first = sample_envelope();
        first.payload = vec![b'x'; 1000];
        let mut second = sample_envelope();
        second.metadata.actor.staff_id = None;
        second.metadata.command_id = None;
        second.event_type = "X".into();
        let (first_frame, first_hash) = encode(&first);
        let (second_frame, second_hash) = encode(&second);
        let mut target = blank_envelope();
        decode_frame_into(&first_frame, &mut target).expect("decodes");
        first.hash = first_hash;
        assert_eq!(target, first);
        decode_frame_into(&second_frame, &mut target).expect("decodes");
        second.hash = second_hash;
        assert_eq!(target, second);
    }

    #[test]
    fn leap_second_and_extreme_times_are_lossless() {
        let mut envelope = sample_envelope();
        envelope.metadata.occurred_at = DateTime::from_timestamp(1_483_228_799, 1_500_000_000).expect("leap second");
        envelope.metadata.recorded_at = DateTime::<Utc>::MAX_UTC;
        let (frame, hash) = encode(&envelope);
        envelope.hash = hash;
        assert_eq!(decode_frame(&frame).expect("decodes"), envelope);
    }

    #[test]
    fn envelope_hash_recomputes_the_stored_hash() {
        let mut envelope = sample_envelope();
        let (_, hash) = encode(&envelope);
        envelope.hash = hash;
        assert_eq!(envelope_hash(&envelope), hash);
        envelope.payload.push(b' ');
        assert_ne!(envelope_hash(&envelope), hash);
    }

    #[test]
    fn hash_changes_when_any_canonical_byte_changes() {
        let envelope = sample_envelope();
        let (frame, hash) = encode(&envelope);
        let (canonical, stored) = split_frame(&frame).expect("splits");
        assert_eq!(stored, hash);
        assert_eq!(hash_canonical(canonical), hash);
        for index in 0..canonical.len() {
            let mut tampered = canonical.to_vec();
            tampered[index] ^= 0x01;
            assert_ne!(hash_canonical(&tampered), hash, "byte {index} is not covered");
        }
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = sample_envelope();
        let (_, base_hash) = encode(&base);
        let mut variants: Vec<Envelope> = Vec::new();
        let mut push = |change: &dyn Fn(&mut Envelope)| {
            let mut variant = base.clone();
            change(&mut variant);
            variants.push(variant);
        };
        push(&|e| e.position = Position(43));
        push(&|e| e.stream = StreamId::new("youth-2").expect("valid id"));
        push(&|e| e.version = Version(8));
        push(&|e| e.event_id = Uuid::from_u128(1));
        push(&|e| e.event_type = "PlanUpdated".into());
        push(&|e| e.schema_version = 4);
        push(&|e| e.payload.push(b' '));
        push(&|e| e.metadata.actor.staff_id = None);
        push(&|e| e.metadata.actor.role = "auditor".into());
        push(&|e| e.metadata.actor.department = None);
        push(&|e| e.metadata.command_id = None);
        push(&|e| e.metadata.causation_id = Some(Uuid::from_u128(5)));
        push(&|e| e.metadata.correlation_id = None);
        push(&|e| e.metadata.occurred_at += chrono::Duration::nanoseconds(1));
        push(&|e| e.metadata.recorded_at += chrono::Duration::seconds(1));
        push(&|e| e.prev_hash[31] ^= 1);
        for (index, variant) in variants.iter().enumerate() {
            assert_ne!(encode(variant).1, base_hash, "variant {index} hashes like the base");
        }
    }

    #[test]
    fn corrupt_frames_are_errors_not_panics() {
        let (frame, _) = encode(&sample_envelope());
        for len in 0..frame.len() {
            assert!(decode_frame(&frame[..len]).is_err(), "prefix of {len} bytes decoded");
        }
    }
}
