//! The binary formats: event frames, the chunks that hold them, and the sled keys.
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
//!
//! # Chunk
//!
//! One group commit writes its frames into chunks of consecutive positions, stored in
//! the segment file's records (see `segment`) and found through the chunk directory
//! (`e` + first position in sled).
//! A chunk is: frame count (u32), then one u32 offset per frame (relative to the end of
//! the table) so one frame can be found without decoding the others, then the frames.
//!
//! # Keys (one sled tree)
//!
//! | key | value |
//! |---|---|
//! | `e` + first position (u64 BE) | the chunk directory: segment offset (u64 BE) and length (u32 BE) of the chunk's bytes |
//! | `s` + stream id + 0x00 + first version (u64 BE) | positions (u64 BE) and in-chunk index (u32 BE) of up to 128 consecutive versions: the stream index, see `index` |
//! | `c` + persisted position (u64 BE) | a command block: (command id, segment offset u64 BE, length u32 BE) of the command entries that persist covered, see `segment` |
//! | `m:format` | `kui-log/2` |
//! | `m:indexed` | last position covered by the derived data (u64 BE), segment offset after it (u64 BE) |
//!
//! All of it is derived from the segment file and rebuilt from it on open.
//!
//! Big-endian integers make sled's byte order equal to numeric order.
//! Stream ids contain no NUL, so `s` + id + 0x00 is a prefix of exactly one stream's
//! index blocks.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::types::{Actor, AppendOutcome, Envelope, Metadata, Position, StreamId, Version};

/// The frame format byte that starts every canonical encoding.
pub(crate) const FRAME_FORMAT: u8 = 1;
/// Length of a SHA-256 hash.
pub(crate) const HASH_LEN: usize = 32;
/// The previous hash of the first event.
pub(crate) const ZERO_HASH: [u8; 32] = [0; 32];

/// Target upper bound for a chunk's size.
///
/// `read_stream` reads a whole chunk for an event (then reuses it for the stream's next
/// event when it is in the same chunk), so chunks stay small.
/// A single frame larger than this gets a chunk of its own.
pub(crate) const CHUNK_MAX_BYTES: usize = 6 * 1024;
/// Upper bound for the number of frames in a chunk.
pub(crate) const CHUNK_MAX_EVENTS: usize = 512;

/// Prefix of chunk keys (one key per chunk: the directory's layout before blocks).
pub(crate) const EVENT_PREFIX: u8 = b'e';
/// Prefix of chunk directory blocks: one value per persist with every chunk it covers.
pub(crate) const DIRECTORY_PREFIX: u8 = b'd';
/// Prefix of stream index keys.
pub(crate) const INDEX_PREFIX: u8 = b's';
/// Prefix of command outcome keys.
pub(crate) const COMMAND_PREFIX: u8 = b'c';
/// Key of the format marker.
pub(crate) const MARKER_KEY: &[u8] = b"m:format";
/// Value of the format marker.
pub(crate) const MARKER_VALUE: &[u8] = b"kui-log/2";

/// The fields of one event, borrowed, as needed to encode its frame.
pub(crate) struct FrameFields<'a> {
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
    pub(crate) fn of_envelope(envelope: &'a Envelope) -> FrameFields<'a> {
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
pub(crate) fn frame_len(fields: &FrameFields<'_>) -> usize {
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
pub(crate) fn encode_canonical(out: &mut Vec<u8>, fields: &FrameFields<'_>) {
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
pub(crate) fn hash_canonical(canonical: &[u8]) -> [u8; 32] {
    Sha256::digest(canonical).into()
}

/// Appends the whole frame (canonical bytes, then hash) to `out`; returns the hash.
pub(crate) fn encode_frame(out: &mut Vec<u8>, fields: &FrameFields<'_>) -> [u8; 32] {
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
pub(crate) fn split_frame(frame: &[u8]) -> Result<(&[u8], [u8; 32]), String> {
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
pub(crate) fn decode_frame_into(frame: &[u8], envelope: &mut Envelope) -> Result<(), String> {
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
pub(crate) struct FrameRef<'a> {
    pub(crate) position: u64,
    pub(crate) event_type: &'a str,
    pub(crate) schema_version: u16,
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) payload: &'a [u8],
}

/// Decodes the fields a fold reads, skipping the rest without copying anything.
///
/// Checks the same structure as [`decode_frame_into`] except the text of the skipped
/// strings (stream id, actor), which is never exposed.
pub(crate) fn decode_frame_ref(frame: &[u8]) -> Result<FrameRef<'_>, String> {
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
pub(crate) fn blank_envelope() -> Envelope {
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
pub(crate) fn decode_frame(frame: &[u8]) -> Result<Envelope, String> {
    let mut envelope = blank_envelope();
    decode_frame_into(frame, &mut envelope)?;
    Ok(envelope)
}

/// Collects frames of consecutive positions into one chunk value.
pub(crate) struct ChunkBuilder {
    first_position: u64,
    offsets: Vec<u32>,
    frames: Vec<u8>,
}

impl ChunkBuilder {
    pub(crate) fn new(first_position: u64) -> ChunkBuilder {
        ChunkBuilder {
            first_position,
            offsets: Vec::new(),
            frames: Vec::new(),
        }
    }

    pub(crate) fn first_position(&self) -> u64 {
        self.first_position
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Whether a frame of `frame_len` bytes still fits (an empty chunk takes any frame).
    pub(crate) fn fits(&self, frame_len: usize) -> bool {
        self.is_empty()
            || (self.offsets.len() < CHUNK_MAX_EVENTS
                && 4 + 4 * (self.offsets.len() + 1) + self.frames.len() + frame_len <= CHUNK_MAX_BYTES)
    }

    /// Starts a frame: returns the buffer to append the frame's bytes to.
    pub(crate) fn begin_frame(&mut self) -> &mut Vec<u8> {
        let offset = u32::try_from(self.frames.len()).expect("a chunk holds frames of at most 16 MiB plus a few KiB");
        self.offsets.push(offset);
        &mut self.frames
    }

    /// The chunk value.
    pub(crate) fn finish(self) -> Vec<u8> {
        let mut value = Vec::with_capacity(4 + 4 * self.offsets.len() + self.frames.len());
        let count = u32::try_from(self.offsets.len()).expect("at most CHUNK_MAX_EVENTS frames");
        value.extend_from_slice(&count.to_be_bytes());
        for offset in &self.offsets {
            value.extend_from_slice(&offset.to_be_bytes());
        }
        value.extend_from_slice(&self.frames);
        value
    }
}

/// A parsed, bounds-checked view of a chunk value.
pub(crate) struct ChunkView<'a> {
    bytes: &'a [u8],
    count: usize,
    frames_start: usize,
}

impl<'a> ChunkView<'a> {
    /// Parses the header and checks that every offset lies inside the chunk.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<ChunkView<'a>, String> {
        let count_bytes: [u8; 4] = bytes
            .get(..4)
            .and_then(|slice| slice.try_into().ok())
            .ok_or("chunk shorter than its header")?;
        let count = u32::from_be_bytes(count_bytes) as usize;
        if count == 0 {
            return Err("chunk holds no frames".into());
        }
        let frames_start = 4 + 4 * count;
        if bytes.len() < frames_start {
            return Err(format!("chunk of {} bytes cannot hold {count} offsets", bytes.len()));
        }
        let view = ChunkView {
            bytes,
            count,
            frames_start,
        };
        let frames_len = bytes.len() - frames_start;
        let mut previous = 0;
        for index in 0..count {
            let offset = view.offset(index);
            if offset < previous || offset >= frames_len || (index == 0 && offset != 0) {
                return Err(format!("chunk frame offset {index} ({offset}) is out of order"));
            }
            previous = offset;
        }
        Ok(view)
    }

    fn offset(&self, index: usize) -> usize {
        let at = 4 + 4 * index;
        let mut offset = [0; 4];
        offset.copy_from_slice(&self.bytes[at..at + 4]);
        u32::from_be_bytes(offset) as usize
    }

    /// Number of frames.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Frame `index` (must be `< count()`).
    pub(crate) fn frame(&self, index: usize) -> &'a [u8] {
        let start = self.frames_start + self.offset(index);
        let end = if index + 1 < self.count {
            self.frames_start + self.offset(index + 1)
        } else {
            self.bytes.len()
        };
        &self.bytes[start..end]
    }
}

/// Key of the chunk whose first position is `position` (the layout before directory
/// blocks, still read on open).
#[cfg(test)]
pub(crate) fn event_key(position: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = EVENT_PREFIX;
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

/// The first position of a chunk key.
pub(crate) fn parse_event_key(key: &[u8]) -> Option<u64> {
    match key {
        [EVENT_PREFIX, rest @ ..] => Some(u64::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
}

/// `s` + stream + 0x00: the prefix of one stream's index keys.
pub(crate) fn index_prefix(stream: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.len() + 10);
    key.push(INDEX_PREFIX);
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key
}

/// Key of `stream`'s index block starting at `version`.
pub(crate) fn index_key(stream: &str, version: u64) -> Vec<u8> {
    let mut key = index_prefix(stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// Splits an index block key into stream id and first version.
pub(crate) fn parse_index_key(key: &[u8]) -> Option<(&str, u64)> {
    let rest = key.strip_prefix(&[INDEX_PREFIX])?;
    if rest.len() < 9 {
        return None;
    }
    let (stream, tail) = rest.split_at(rest.len() - 9);
    if tail[0] != 0 {
        return None;
    }
    let version = u64::from_be_bytes(tail[1..].try_into().ok()?);
    Some((std::str::from_utf8(stream).ok()?, version))
}

/// Reads a u64 stored big-endian (markers).
pub(crate) fn parse_u64(value: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(value.try_into().ok()?))
}

/// Encodes a command outcome (always stored with `replayed: false`).
pub(crate) fn encode_outcome(outcome: &AppendOutcome) -> Vec<u8> {
    let stored = AppendOutcome {
        replayed: false,
        ..outcome.clone()
    };
    serde_json::to_vec(&stored).expect("an AppendOutcome always serializes to JSON")
}

/// Decodes a stored command outcome.
pub(crate) fn decode_outcome(value: &[u8]) -> Result<AppendOutcome, String> {
    serde_json::from_slice(value).map_err(|error| format!("stored command outcome: {error}"))
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

    #[test]
    fn chunk_round_trips_and_locates_frames() {
        let mut builder = ChunkBuilder::new(5);
        let frames: Vec<Vec<u8>> = (0..3).map(|n| vec![n as u8; 40 + n]).collect();
        for frame in &frames {
            assert!(builder.fits(frame.len()));
            builder.begin_frame().extend_from_slice(frame);
        }
        assert_eq!(builder.first_position(), 5);
        let value = builder.finish();
        let view = ChunkView::parse(&value).expect("parses");
        assert_eq!(view.count(), 3);
        for (index, frame) in frames.iter().enumerate() {
            assert_eq!(view.frame(index), frame.as_slice());
        }
        assert!(ChunkView::parse(&value[..10]).is_err());
        assert!(ChunkView::parse(&[0, 0, 0, 0]).is_err());
    }

    #[test]
    fn chunk_respects_its_size_bound_but_takes_one_big_frame() {
        let mut builder = ChunkBuilder::new(1);
        assert!(builder.fits(CHUNK_MAX_BYTES * 4));
        builder.begin_frame().extend_from_slice(&vec![0; CHUNK_MAX_BYTES - 100]);
        assert!(!builder.fits(200));
    }

    #[test]
    fn event_keys_sort_numerically() {
        let positions = [1u64, 2, 255, 256, 65_536, u64::MAX / 2, u64::MAX];
        for pair in positions.windows(2) {
            assert!(event_key(pair[0]) < event_key(pair[1]));
        }
        assert_eq!(parse_event_key(&event_key(256)), Some(256));
    }

    #[test]
    fn index_keys_group_by_stream_then_sort_by_version() {
        assert!(index_key("a", 2) < index_key("a", 256));
        assert!(index_key("a", u64::MAX) < index_key("a-b", 1));
        assert!(index_key("a", 1).starts_with(&index_prefix("a")));
        assert!(!index_key("ab", 1).starts_with(&index_prefix("a")));
        assert_eq!(parse_index_key(&index_key("youth-1", 300)), Some(("youth-1", 300)));
        // Index keys never collide with chunk, command or marker keys.
        let prefixes = [
            EVENT_PREFIX,
            DIRECTORY_PREFIX,
            INDEX_PREFIX,
            COMMAND_PREFIX,
            MARKER_KEY[0],
        ];
        let mut sorted = prefixes.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), prefixes.len());
    }

    #[test]
    fn outcome_is_stored_without_replayed_flag() {
        let outcome = AppendOutcome {
            first_position: Position(3),
            last_position: Position(4),
            streams: vec![(StreamId::new("s").expect("valid id"), Version(2))],
            replayed: true,
        };
        let decoded = decode_outcome(&encode_outcome(&outcome)).expect("decodes");
        assert_eq!(
            decoded,
            AppendOutcome {
                replayed: false,
                ..outcome
            }
        );
    }
}
