//! Opening a log directory: what is there, and the records after the last persist read
//! back into memory (the derived data they add, and where the records end).
//!
//! The rules for telling an interrupted write from damage are in the `records` module;
//! this module applies them: an interrupted write is cut off when the log is opened for
//! writing (and only reported by a read-only open), damage fails the open with
//! [`LogError::Corrupt`] naming the position the damaged record should hold.

use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::Path;

use uuid::Uuid;

use crate::codec::{self, hash_canonical, split_frame, ChunkView};
use kui_log::LogError;

use crate::error::OpenError;
use crate::index::IndexEntry;
use crate::records::{Damage, End, Record, RecordReader, Step};
use crate::segment::{
    parse_entries, ChunkDirectory, ChunkLoc, Entry, MAX_RECORD_BODY, RECORD_HEADER_LEN, SEGMENT_FILE,
};
use kui_log::{AppendOutcome, Envelope, StreamId};

/// The directory of sled's derived data inside a log directory.
pub(crate) const INDEX_DIR: &str = "index";

/// What a log directory holds.
pub(crate) enum Layout {
    /// Nothing yet: a new log.
    New,
    /// A segment file (its format still to be checked).
    Existing,
}

/// Looks at `path` without changing anything.
pub(crate) fn inspect_directory(path: &Path) -> Result<Layout, OpenError> {
    let not_a_log = || OpenError::NotALog {
        path: path.to_path_buf(),
    };
    match fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Layout::New),
        Err(error) => return Err(error.into()),
        Ok(metadata) if !metadata.is_dir() => return Err(not_a_log()),
        Ok(_) => {}
    }
    if path.join(SEGMENT_FILE).exists() {
        return Ok(Layout::Existing);
    }
    let mut entries = fs::read_dir(path)?;
    if entries.next().is_none() {
        return Ok(Layout::New);
    }
    if path.join(INDEX_DIR).exists() {
        return Err(LogError::Corrupt {
            position: None,
            reason: format!(
                "the segment file {} is missing (only derived data is left)",
                path.join(SEGMENT_FILE).display()
            ),
        }
        .into());
    }
    Err(not_a_log())
}

/// An interrupted write found after the last complete request: never acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// Segment offset where it starts (the end of the log's records).
    pub offset: u64,
    /// Its length up to its last non-zero byte.
    pub bytes: u64,
    /// The position its first event would have had.
    pub first_position: u64,
    /// What showed it to be incomplete.
    pub reason: String,
    /// Whether it was cut off (a log opened for writing) or only found (read-only).
    pub cut: bool,
}

/// A place to roll back to: the state before the first record of a request that spans
/// records.
pub(crate) struct Mark {
    next_position: u64,
    last_hash: [u8; 32],
    index: usize,
    chunks: usize,
    commands: usize,
}

/// What reading the records after the last persist rebuilt.
pub(crate) struct Tail {
    pub(crate) next_position: u64,
    pub(crate) last_hash: [u8; 32],
    pub(crate) index: Vec<(StreamId, IndexEntry)>,
    pub(crate) chunks: Vec<(u64, ChunkLoc)>,
    pub(crate) commands: Vec<(Uuid, AppendOutcome, ChunkLoc)>,
    /// Recompute every frame's hash (a writable open re-reading its recent records);
    /// a read-only open of a whole log leaves that to `verify`.
    check_hashes: bool,
}

/// Where the records end, and what was found after them.
pub(crate) struct Scanned {
    pub(crate) end_offset: u64,
    pub(crate) interrupted: Option<Interrupted>,
}

impl Tail {
    pub(crate) fn new(next_position: u64, last_hash: [u8; 32], check_hashes: bool) -> Tail {
        Tail {
            next_position,
            last_hash,
            index: Vec::new(),
            chunks: Vec::new(),
            commands: Vec::new(),
            check_hashes,
        }
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            next_position: self.next_position,
            last_hash: self.last_hash,
            index: self.index.len(),
            chunks: self.chunks.len(),
            commands: self.commands.len(),
        }
    }

    pub(crate) fn restore(&mut self, mark: Mark) {
        self.next_position = mark.next_position;
        self.last_hash = mark.last_hash;
        self.index.truncate(mark.index);
        self.chunks.truncate(mark.chunks);
        self.commands.truncate(mark.commands);
    }

    /// Checks and indexes the frames of one chunk whose bytes start at segment offset
    /// `offset`.
    fn chunk(&mut self, bytes: &[u8], offset: u64, envelope: &mut Envelope) -> Result<(), LogError> {
        let first = self.next_position;
        let chunk = ChunkView::parse(bytes)
            .map_err(|reason| LogError::corrupt_at(first, format!("chunk starting here: {reason}")))?;
        for index in 0..chunk.count() {
            let position = first + index as u64;
            self.last_hash = check_frame(
                position,
                chunk.frame(index),
                &self.last_hash,
                envelope,
                self.check_hashes,
            )?;
            self.index.push((
                envelope.stream.clone(),
                IndexEntry {
                    version: envelope.version.0,
                    position,
                    chunk_first: first,
                },
            ));
        }
        self.next_position = first + chunk.count() as u64;
        let len = u32::try_from(bytes.len()).map_err(|_| LogError::corrupt_at(first, "oversized chunk"))?;
        self.chunks.push((first, ChunkLoc { offset, len }));
        Ok(())
    }

    /// Reads the records from `start` up to `len` (bytes before `vouched` were
    /// acknowledged). An interrupted write at the end is reported, not cut: the caller
    /// decides.
    pub(crate) fn scan(&mut self, file: &File, start: u64, len: u64, vouched: u64) -> Result<Scanned, LogError> {
        let mut reader = RecordReader::new(file, start, len, vouched);
        let mut envelope = codec::blank_envelope();
        let mut request: Option<Mark> = None;
        loop {
            let step = match reader.next() {
                Ok(step) => step,
                Err(damage) => return Err(self.damage(file, damage)),
            };
            match step {
                Step::Record(record) => {
                    if record.continues && request.is_none() {
                        request = Some(self.mark());
                    }
                    self.apply(&record, &mut envelope)?;
                    if !record.continues {
                        request = None;
                    }
                }
                Step::End(End::Clean { at }) => {
                    return Ok(Scanned {
                        end_offset: at,
                        interrupted: None,
                    })
                }
                Step::End(End::Interrupted { at, nonzero_to, reason }) => {
                    if let Some(mark) = request.take() {
                        self.restore(mark);
                    }
                    return Ok(Scanned {
                        end_offset: at,
                        interrupted: Some(Interrupted {
                            offset: at,
                            bytes: nonzero_to.saturating_sub(at),
                            first_position: self.next_position,
                            reason,
                            cut: false,
                        }),
                    });
                }
            }
        }
    }

    /// Checks one intact record and adds what it holds.
    pub(crate) fn apply(&mut self, record: &Record<'_>, envelope: &mut Envelope) -> Result<(), LogError> {
        for entry in &record.entries {
            match entry {
                Entry::Chunk { at, bytes } => {
                    self.chunk(bytes, record.body_offset + *at as u64, envelope)?;
                }
                Entry::Command {
                    at,
                    command_id,
                    outcome,
                } => {
                    let loc = ChunkLoc {
                        offset: record.body_offset + *at as u64,
                        len: u32::try_from(16 + outcome.len()).unwrap_or(u32::MAX),
                    };
                    let outcome = codec::decode_outcome(outcome)
                        .map_err(|reason| LogError::corrupt_at(self.next_position.saturating_sub(1), reason))?;
                    self.commands.push((*command_id, outcome, loc));
                }
                Entry::Continues => {}
            }
        }
        Ok(())
    }

    /// The error for damage found where the next record should be, in `file`.
    fn damage(&self, file: &File, damage: Damage) -> LogError {
        let acknowledged = if damage.acknowledged {
            "acknowledged events are affected"
        } else {
            "it lies after the last acknowledged write"
        };
        let (position, event) = damaged_event(file, damage.offset, self.next_position, &self.last_hash);
        LogError::corrupt_at(
            position,
            format!(
                "segment byte {}: {}{event}; {acknowledged}; nothing was cut",
                damage.offset, damage.reason
            ),
        )
    }
}

/// Checks one stored frame at `position` against the chain: its position, its link to
/// `prev_hash` and (when `check_hash`) its hash. Decodes it into `envelope` and returns
/// its stored hash.
pub(crate) fn check_frame(
    position: u64,
    frame: &[u8],
    prev_hash: &[u8; 32],
    envelope: &mut Envelope,
    check_hash: bool,
) -> Result<[u8; 32], LogError> {
    let corrupt = |reason: String| LogError::corrupt_at(position, reason);
    let (canonical, stored_hash) = split_frame(frame).map_err(corrupt)?;
    if check_hash && hash_canonical(canonical) != stored_hash {
        return Err(corrupt(
            "hash mismatch: the stored event does not hash to its stored hash".into(),
        ));
    }
    codec::decode_frame_into(frame, envelope).map_err(corrupt)?;
    if envelope.position.0 != position {
        return Err(corrupt(format!(
            "the frame stored here claims position {}",
            envelope.position
        )));
    }
    if envelope.prev_hash != *prev_hash {
        return Err(corrupt(format!(
            "broken link: prev_hash does not match the hash of position {}",
            position.saturating_sub(1)
        )));
    }
    Ok(stored_hash)
}

/// The position to name for damage in the record at `offset`, whose first event is at
/// `first_position` and links to `prev_hash`: the first event in it whose bytes no longer
/// hash to its stored hash (or link), when its entries can still be read; otherwise the
/// record's first position. Also a note for the message.
pub(crate) fn damaged_event(file: &File, offset: u64, first_position: u64, prev_hash: &[u8; 32]) -> (u64, String) {
    let fallback = (first_position, String::new());
    let mut header = [0u8; RECORD_HEADER_LEN];
    if file.read_exact_at(&mut header, offset).is_err() {
        return fallback;
    }
    let body_len = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
    if body_len == 0 || body_len > MAX_RECORD_BODY {
        return fallback;
    }
    let mut body = vec![0u8; body_len as usize];
    if file
        .read_exact_at(&mut body, offset + RECORD_HEADER_LEN as u64)
        .is_err()
    {
        return fallback;
    }
    let Ok(entries) = parse_entries(&body) else {
        return fallback;
    };
    let mut position = first_position;
    let mut last_hash = *prev_hash;
    let mut envelope = codec::blank_envelope();
    for entry in entries {
        let Entry::Chunk { bytes, .. } = entry else {
            continue;
        };
        let Ok(chunk) = ChunkView::parse(bytes) else {
            return (position, String::new());
        };
        for index in 0..chunk.count() {
            match check_frame(position, chunk.frame(index), &last_hash, &mut envelope, true) {
                Ok(hash) => last_hash = hash,
                Err(LogError::Corrupt { reason, .. }) => {
                    return (position, format!(" (the event at position {position} in it: {reason})"))
                }
                Err(_) => return (position, String::new()),
            }
            position += 1;
        }
    }
    fallback
}

/// Cuts the segment at `offset` (an interrupted write) and syncs the new length.
pub(crate) fn cut_interrupted(file: &File, offset: u64) -> Result<(), LogError> {
    file.set_len(offset).map_err(LogError::io)?;
    file.sync_all().map_err(LogError::io)
}

/// The hash of the event at `position`, read through the directory.
pub(crate) fn event_hash_at(file: &File, directory: &ChunkDirectory, position: u64) -> Result<[u8; 32], LogError> {
    let missing = || LogError::corrupt_at(position, "the chunk directory has no chunk holding this position");
    let (first, loc) = directory
        .batch(position, position, 1)
        .into_iter()
        .next()
        .ok_or_else(missing)?;
    let mut bytes = vec![0; loc.len as usize];
    file.read_exact_at(&mut bytes, loc.offset)
        .map_err(|error| LogError::corrupt_at(first, format!("reading the chunk starting here: {error}")))?;
    let chunk = ChunkView::parse(&bytes)
        .map_err(|reason| LogError::corrupt_at(first, format!("chunk starting here: {reason}")))?;
    let index = usize::try_from(position - first).unwrap_or(usize::MAX);
    if index >= chunk.count() {
        return Err(missing());
    }
    let (_, hash) = split_frame(chunk.frame(index)).map_err(|reason| LogError::corrupt_at(position, reason))?;
    Ok(hash)
}
