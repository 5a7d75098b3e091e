//! The segment log's binary formats beyond the canonical frame (`kui_log::canonical`):
//! the chunks that hold frames, the sled keys of the derived data, and stored command
//! outcomes.
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

pub(crate) use kui_log::canonical::{
    blank_envelope, decode_frame, decode_frame_into, decode_frame_ref, encode_frame, frame_len, hash_canonical,
    split_frame, FrameFields, ZERO_HASH,
};
use kui_log::AppendOutcome;

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
    use kui_log::{Position, StreamId, Version};

    use super::*;

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
