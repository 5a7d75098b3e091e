//! The segment file: the append-only home of the event frames, beside sled.
//!
//! # Format
//!
//! `events.seg` starts with a header block of [`HEADER_BLOCK`] (4096) bytes:
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | [`SEGMENT_MAGIC`] (`KUISEG` + 0x00) and the format version, [`FORMAT_VERSION`] (2) |
//! | 512..576, 1024..1088 | the two slots of the acknowledgement watermark (module `records`) |
//! | everything else | zeros |
//!
//! Records follow from byte 4096 on.
//! A record is written by one group commit (a large group, import or request is split
//! into several records of about [`SOFT_RECORD_BYTES`]):
//!
//! | field | encoding |
//! |---|---|
//! | body length | u32 BE, 1 to [`MAX_RECORD_BODY`] |
//! | checksum | u32 BE, CRC-32 (IEEE) of the body |
//! | body | entries |
//!
//! An entry is a tag byte, a u32 BE length and that many bytes:
//!
//! - tag 1, *chunk*: a chunk of frames exactly as described in `codec` (count, offset
//!   table, frames); the chunks of a log hold consecutive positions in file order.
//! - tag 2, *command*: a command id (16 bytes) followed by the command's outcome as
//!   JSON (as stored in sled under `c`); it always comes in the same record as the
//!   last events it wrote, after them.
//! - tag 3, *continues* (empty, always the record's last entry): the last request of this
//!   record goes on in the next record. A request (an append or a whole import) is
//!   atomic: after a crash, a record that continues counts only once the record that
//!   ends its request is intact too.
//!
//! The CRC tells a complete record from a torn or damaged one; the frames' SHA-256 chain
//! is what protects the events (and is what [`crate::EventLog::verify`] checks).
//! Format 1 (an 8-byte header, records from byte 8, no watermark) is read only by
//! `upgrade`, which copies its records into a format 2 file.
//!
//! # Derived data in sled
//!
//! The chunk directory (`e` + first position -> segment offset and length of the chunk
//! bytes), the stream index blocks and the command outcomes are kept in memory for the
//! records after the last persist and written to sled (the marker's batch last) every
//! `LogOptions::persist_every_events` events and on close, together with the marker
//! `m:indexed` = (last persisted position, segment offset after the last persisted
//! record). On open, everything after that offset is re-read from the segment.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::os::unix::fs::FileExt;
use std::sync::{Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use uuid::Uuid;

use crate::codec;
use crate::error::sled_error;
use kui_log::AppendOutcome;
use kui_log::LogError;

/// Name of the segment file inside the log directory.
pub(crate) const SEGMENT_FILE: &str = "events.seg";
/// The first seven bytes of every segment file; the eighth is the format version.
pub(crate) const SEGMENT_MAGIC: &[u8; 7] = b"KUISEG\x00";
/// The format this build writes.
pub(crate) const FORMAT_VERSION: u8 = 2;
/// Bytes before the first record (magic, version, watermark slots, zeros).
pub(crate) const HEADER_BLOCK: u64 = 4096;
/// Length of a record header (body length and checksum).
pub(crate) const RECORD_HEADER_LEN: usize = 8;
/// Entry tag of a chunk.
pub(crate) const TAG_CHUNK: u8 = 1;
/// Entry tag of a command outcome.
pub(crate) const TAG_COMMAND: u8 = 2;
/// Entry tag that says the record's last request continues in the next record.
pub(crate) const TAG_CONTINUES: u8 = 3;
/// A record is ended once it holds this many bytes (inside a request if need be).
pub(crate) const SOFT_RECORD_BYTES: usize = 4 * 1024 * 1024;
/// No record body is larger: [`SOFT_RECORD_BYTES`] plus one chunk holding the largest
/// frame (a 16 MiB payload with its names and metadata) and the command entries of a
/// group, with room to spare. A length field above it is damage, never an allocation.
pub(crate) const MAX_RECORD_BODY: u64 = 40 * 1024 * 1024;

/// CRC-32 (IEEE) of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Where a chunk's bytes are in the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkLoc {
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

impl ChunkLoc {
    /// The sled value of a directory entry: offset (u64 BE), length (u32 BE).
    pub(crate) fn encode(&self) -> [u8; 12] {
        let mut value = [0; 12];
        value[..8].copy_from_slice(&self.offset.to_be_bytes());
        value[8..].copy_from_slice(&self.len.to_be_bytes());
        value
    }

    pub(crate) fn decode(value: &[u8]) -> Option<ChunkLoc> {
        if value.len() != 12 {
            return None;
        }
        Some(ChunkLoc {
            offset: u64::from_be_bytes(value[..8].try_into().ok()?),
            len: u32::from_be_bytes(value[8..].try_into().ok()?),
        })
    }
}

/// Builds the records of one group into one buffer, written with one `write_all_at`.
pub(crate) struct RecordWriter {
    /// Segment offset of `out[0]`.
    base: u64,
    out: Vec<u8>,
    /// Start of the open record in `out`.
    open: Option<usize>,
}

impl RecordWriter {
    pub(crate) fn new(base: u64) -> RecordWriter {
        RecordWriter {
            base,
            out: Vec::new(),
            open: None,
        }
    }

    fn entry(&mut self, tag: u8, len: usize) {
        if self.open.is_none() {
            self.open = Some(self.out.len());
            self.out.extend_from_slice(&[0; RECORD_HEADER_LEN]);
        }
        self.out.push(tag);
        let len = u32::try_from(len).expect("entries are at most a chunk or an outcome");
        self.out.extend_from_slice(&len.to_be_bytes());
    }

    /// Appends a chunk entry; returns where its bytes will be in the segment.
    pub(crate) fn push_chunk(&mut self, chunk: &[u8]) -> ChunkLoc {
        self.entry(TAG_CHUNK, chunk.len());
        let offset = self.base + self.out.len() as u64;
        self.out.extend_from_slice(chunk);
        ChunkLoc {
            offset,
            len: u32::try_from(chunk.len()).expect("a chunk is smaller than 4 GiB"),
        }
    }

    /// Appends a command entry; returns where its bytes (id and outcome) will be.
    pub(crate) fn push_command(&mut self, command_id: &Uuid, outcome: &AppendOutcome) -> ChunkLoc {
        let json = codec::encode_outcome(outcome);
        self.entry(TAG_COMMAND, 16 + json.len());
        let offset = self.base + self.out.len() as u64;
        self.out.extend_from_slice(command_id.as_bytes());
        self.out.extend_from_slice(&json);
        ChunkLoc {
            offset,
            len: u32::try_from(16 + json.len()).expect("an outcome is small"),
        }
    }

    /// Ends the open record with a *continues* entry: the request being written goes on
    /// in the next record.
    pub(crate) fn end_record_continued(&mut self) {
        if self.open.is_some() {
            self.entry(TAG_CONTINUES, 0);
            self.end_record();
        }
    }

    /// Closes the open record (if any): fills in its length and checksum.
    pub(crate) fn end_record(&mut self) {
        let Some(start) = self.open.take() else {
            return;
        };
        let body = &self.out[start + RECORD_HEADER_LEN..];
        let len = u32::try_from(body.len()).expect("a record is smaller than 4 GiB");
        let crc = crc32(body);
        self.out[start..start + 4].copy_from_slice(&len.to_be_bytes());
        self.out[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
    }

    /// The bytes of all records (the open one closed).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.end_record();
        self.out
    }

    /// Bytes staged in the open record so far.
    pub(crate) fn open_record_len(&self) -> usize {
        self.open.map_or(0, |start| self.out.len() - start)
    }
}

/// One entry of a record body.
pub(crate) enum Entry<'a> {
    /// A chunk and the offset of its bytes within the body.
    Chunk { at: usize, bytes: &'a [u8] },
    /// A command entry: its id, outcome JSON, and the offset of the id within the body.
    Command {
        at: usize,
        command_id: Uuid,
        outcome: &'a [u8],
    },
    /// The record's last request continues in the next record (always the last entry).
    Continues,
}

/// Splits a record body into its entries (bounds-checked).
pub(crate) fn parse_entries(body: &[u8]) -> Result<Vec<Entry<'_>>, String> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at < body.len() {
        if body.len() - at < 5 {
            return Err("record entry header truncated".into());
        }
        let tag = body[at];
        let len = u32::from_be_bytes(body[at + 1..at + 5].try_into().map_err(|_| "entry length")?) as usize;
        let start = at + 5;
        let end = start
            .checked_add(len)
            .filter(|&end| end <= body.len())
            .ok_or("record entry runs past the record")?;
        let bytes = &body[start..end];
        match tag {
            TAG_CHUNK => entries.push(Entry::Chunk { at: start, bytes }),
            TAG_COMMAND => {
                if bytes.len() < 16 {
                    return Err("command entry too short".into());
                }
                let (id, outcome) = bytes.split_at(16);
                let command_id = Uuid::from_slice(id).map_err(|error| error.to_string())?;
                entries.push(Entry::Command {
                    at: start,
                    command_id,
                    outcome,
                });
            }
            TAG_CONTINUES => {
                if !bytes.is_empty() || end != body.len() {
                    return Err("a continues entry that is not the record's last, empty entry".into());
                }
                entries.push(Entry::Continues);
            }
            other => return Err(format!("unknown record entry tag {other}")),
        }
        at = end;
    }
    Ok(entries)
}

/// Reads `buf.len()` bytes at `offset`, or fewer at the end of the file; returns how many.
pub(crate) fn read_up_to(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Reads chunks through a large window, for sequential passes (scan, verify).
pub(crate) struct WindowReader<'a> {
    file: &'a File,
    window: Vec<u8>,
    start: u64,
    filled: usize,
}

/// Size of the read window of sequential passes.
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

impl<'a> WindowReader<'a> {
    pub(crate) fn new(file: &'a File) -> WindowReader<'a> {
        WindowReader {
            file,
            window: Vec::new(),
            start: 0,
            filled: 0,
        }
    }

    /// The bytes at `loc`, when nothing beyond offset `end` will be asked for: a window
    /// read then stops there (a reader following the tail of the log reads a few
    /// kilobytes, not a whole window of mostly unwritten file).
    pub(crate) fn get_until(&mut self, loc: ChunkLoc, end: u64) -> std::io::Result<&[u8]> {
        let len = loc.len as usize;
        let inside = loc.offset >= self.start && loc.offset + len as u64 <= self.start + self.filled as u64;
        if !inside {
            let wanted = usize::try_from(end.saturating_sub(loc.offset)).unwrap_or(usize::MAX);
            let size = wanted.min(WINDOW_BYTES).max(len);
            self.window.resize(size, 0);
            self.start = loc.offset;
            self.filled = read_up_to(self.file, &mut self.window, loc.offset)?;
            if self.filled < len {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the segment ends inside the chunk at offset {}", loc.offset),
                ));
            }
        }
        let at = (loc.offset - self.start) as usize;
        Ok(&self.window[at..at + len])
    }
}

/// The chunk directory: first position of every chunk -> where it is in the segment.
///
/// Held completely in memory (one entry per ~6 KiB of events); loaded from sled on open
/// and extended by the writer before a group becomes durable.
#[derive(Debug, Default)]
pub(crate) struct ChunkDirectory {
    chunks: RwLock<BTreeMap<u64, ChunkLoc>>,
}

impl ChunkDirectory {
    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<u64, ChunkLoc>> {
        self.chunks.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<u64, ChunkLoc>> {
        self.chunks.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn record(&self, entries: &[(u64, ChunkLoc)]) {
        let mut chunks = self.write();
        for (first, loc) in entries {
            chunks.insert(*first, *loc);
        }
    }

    /// The chunk starting at `first`.
    pub(crate) fn get(&self, first: u64) -> Option<ChunkLoc> {
        self.read().get(&first).copied()
    }

    /// The last chunk.
    pub(crate) fn last(&self) -> Option<(u64, ChunkLoc)> {
        self.read().iter().next_back().map(|(first, loc)| (*first, *loc))
    }

    /// Up to `limit` chunks, in order: the one holding `from` (if any starts at or before
    /// it) and the following ones, up to first position `to`.
    pub(crate) fn batch(&self, from: u64, to: u64, limit: usize) -> Vec<(u64, ChunkLoc)> {
        let start = self.read().range(..=from).next_back().map_or(from, |(first, _)| *first);
        self.range(start, to, limit)
    }

    /// Up to `limit` chunks with `start <= first position <= to`, in order.
    pub(crate) fn range(&self, start: u64, to: u64, limit: usize) -> Vec<(u64, ChunkLoc)> {
        if start > to {
            return Vec::new();
        }
        self.read()
            .range(start..=to)
            .take(limit)
            .map(|(first, loc)| (*first, *loc))
            .collect()
    }

    /// Adds one directory block with the entries `after < first position <= up_to` to
    /// `batch`, under `d` + `up_to` (u64 BE): 20 bytes per chunk, its first position (u64
    /// BE) and its place. Returns the last first position written.
    pub(crate) fn stage_persist(&self, after: u64, up_to: u64, batch: &mut sled::Batch) -> Option<u64> {
        let chunks = self.read();
        let mut last = None;
        if after >= up_to {
            return None;
        }
        let mut block = Vec::new();
        for (first, loc) in chunks.range(after + 1..=up_to) {
            block.extend_from_slice(&first.to_be_bytes());
            block.extend_from_slice(&loc.encode());
            last = Some(*first);
        }
        if !block.is_empty() {
            batch.insert(&directory_block_key(up_to), block);
        }
        last
    }

    /// Loads the persisted directory: the blocks, and the single-chunk entries older logs
    /// wrote.
    pub(crate) fn load(db: Option<&sled::Db>) -> Result<ChunkDirectory, LogError> {
        let mut chunks = BTreeMap::new();
        let Some(db) = db else {
            return Ok(ChunkDirectory::default());
        };
        for item in db.scan_prefix([codec::EVENT_PREFIX]) {
            let (key, value) = item.map_err(sled_error)?;
            let malformed = || LogError::Corrupt {
                position: None,
                reason: format!("malformed chunk directory entry {key:?}"),
            };
            let first = codec::parse_event_key(&key).ok_or_else(malformed)?;
            let loc = ChunkLoc::decode(&value).ok_or_else(malformed)?;
            chunks.insert(first, loc);
        }
        for item in db.scan_prefix([codec::DIRECTORY_PREFIX]) {
            let (key, value) = item.map_err(sled_error)?;
            let malformed = || LogError::Corrupt {
                position: None,
                reason: format!("malformed chunk directory block {key:?}"),
            };
            let records = value.chunks_exact(DIRECTORY_REF_LEN);
            if key.len() != 9 || !records.remainder().is_empty() {
                return Err(malformed());
            }
            for record in records {
                let (first, loc) = record.split_at(8);
                let first = u64::from_be_bytes(first.try_into().map_err(|_| malformed())?);
                chunks.insert(first, ChunkLoc::decode(loc).ok_or_else(malformed)?);
            }
        }
        Ok(ChunkDirectory {
            chunks: RwLock::new(chunks),
        })
    }
}

/// Bytes per entry of a stored directory block: first position, segment offset, length.
const DIRECTORY_REF_LEN: usize = 20;

/// Key of the directory block written by the persist up to `position`.
fn directory_block_key(position: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = codec::DIRECTORY_PREFIX;
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

/// Bytes per entry of a stored command block: id, segment offset, length.
const COMMAND_REF_LEN: usize = 28;

/// Every command id of the log, in memory: the outcomes written since the last persist
/// with their place in the segment, and the place in the segment of every other one.
///
/// The outcomes themselves live in the segment records (command entries); sled holds
/// only *command blocks*, written by each persist under `c` + last persisted position
/// (u64 BE): the (id, offset, length) of every command entry it covers, 28 bytes each.
///
/// The persisted places (one per command ever run: millions on a large log) are loaded on
/// first use, so opening the log to read it (a report, an export, a history) does not pay
/// for them; the first append or lookup of a command id does.
#[derive(Debug)]
pub(crate) struct CommandTable {
    recent: RwLock<HashMap<Uuid, (AppendOutcome, ChunkLoc)>>,
    persisted: OnceLock<RwLock<CommandPlaces>>,
    /// Held while the places load, so only one thread reads them.
    loading: Mutex<()>,
    /// Where the command blocks are (none for a log kept wholly in memory).
    db: Option<sled::Db>,
}

/// Where each persisted command's outcome is in the segment.
type CommandPlaces = HashMap<Uuid, ChunkLoc, BuildHasherDefault<fxhash::FxHasher>>;

impl CommandTable {
    fn read(&self) -> RwLockReadGuard<'_, HashMap<Uuid, (AppendOutcome, ChunkLoc)>> {
        self.recent.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<Uuid, (AppendOutcome, ChunkLoc)>> {
        self.recent.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The persisted places, loaded from sled on first use.
    fn places(&self) -> Result<&RwLock<CommandPlaces>, LogError> {
        if let Some(places) = self.persisted.get() {
            return Ok(places);
        }
        let _loading = self.loading.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(places) = self.persisted.get() {
            return Ok(places);
        }
        let places = match &self.db {
            Some(db) => load_places(db)?,
            None => CommandPlaces::default(),
        };
        Ok(self.persisted.get_or_init(|| RwLock::new(places)))
    }

    pub(crate) fn record(&self, commands: impl IntoIterator<Item = (Uuid, AppendOutcome, ChunkLoc)>) {
        self.write()
            .extend(commands.into_iter().map(|(id, outcome, loc)| (id, (outcome, loc))));
    }

    /// The stored outcome: from memory, or read from the segment.
    /// (A persist adds ids to the persisted map before it removes them from the recent
    /// one, so a lookup never misses an outcome moving between them.)
    pub(crate) fn get(&self, segment: &File, command_id: &Uuid) -> Result<Option<AppendOutcome>, LogError> {
        if let Some((outcome, _)) = self.read().get(command_id) {
            return Ok(Some(outcome.clone()));
        }
        let place = self
            .places()?
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(command_id)
            .copied();
        match place {
            Some(loc) => read_outcome(segment, command_id, loc).map(Some),
            None => Ok(None),
        }
    }

    /// Adds a command block for the outcomes of commands that end at or before `up_to`
    /// to `batch`; returns their ids.
    pub(crate) fn stage_persist(&self, batch: &mut sled::Batch, up_to: u64) -> Vec<Uuid> {
        let mut ids = Vec::new();
        let mut block = Vec::new();
        for (id, (outcome, loc)) in self.read().iter() {
            if outcome.last_position.0 <= up_to {
                ids.push(*id);
                block.extend_from_slice(id.as_bytes());
                block.extend_from_slice(&loc.encode());
            }
        }
        if !block.is_empty() {
            batch.insert(&command_block_key(up_to), block);
        }
        ids
    }

    /// Moves `ids` from the recent outcomes to the persisted ones.
    pub(crate) fn forget(&self, ids: &[Uuid]) -> Result<(), LogError> {
        let moved: Vec<(Uuid, ChunkLoc)> = {
            let recent = self.read();
            ids.iter()
                .filter_map(|id| recent.get(id).map(|(_, loc)| (*id, *loc)))
                .collect()
        };
        self.places()?
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(moved);
        let mut recent = self.write();
        for id in ids {
            recent.remove(id);
        }
        Ok(())
    }

    /// A table over the command blocks in `db`, read on first use.
    pub(crate) fn load(db: Option<&sled::Db>) -> CommandTable {
        CommandTable {
            recent: RwLock::default(),
            persisted: OnceLock::new(),
            loading: Mutex::new(()),
            db: db.cloned(),
        }
    }
}

/// Reads every command block.
fn load_places(db: &sled::Db) -> Result<CommandPlaces, LogError> {
    let mut persisted = CommandPlaces::default();
    for item in db.scan_prefix([codec::COMMAND_PREFIX]) {
        let (key, value) = item.map_err(sled_error)?;
        let records = value.chunks_exact(COMMAND_REF_LEN);
        if key.len() != 9 || !records.remainder().is_empty() {
            return Err(LogError::Corrupt {
                position: None,
                reason: format!("malformed command block {key:?}"),
            });
        }
        persisted.reserve(records.len());
        for record in records {
            let (id, loc) = record.split_at(16);
            let id = Uuid::from_slice(id).map_err(|error| LogError::Corrupt {
                position: None,
                reason: error.to_string(),
            })?;
            let loc = ChunkLoc::decode(loc).ok_or_else(|| LogError::Corrupt {
                position: None,
                reason: format!("malformed command block {key:?}"),
            })?;
            persisted.insert(id, loc);
        }
    }
    Ok(persisted)
}

/// Key of the command block written by the persist up to `position`.
fn command_block_key(position: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = codec::COMMAND_PREFIX;
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

/// Reads a command entry (id + outcome JSON) from the segment.
pub(crate) fn read_outcome(segment: &File, command_id: &Uuid, loc: ChunkLoc) -> Result<AppendOutcome, LogError> {
    let corrupt = |reason: String| LogError::Corrupt {
        position: None,
        reason: format!("command {command_id}: {reason}"),
    };
    let mut bytes = vec![0; loc.len as usize];
    segment
        .read_exact_at(&mut bytes, loc.offset)
        .map_err(|error| corrupt(format!("reading its outcome from the segment failed: {error}")))?;
    parse_outcome(command_id, &bytes)
}

/// Decodes a command entry's bytes (id + outcome JSON), checking the id.
pub(crate) fn parse_outcome(command_id: &Uuid, bytes: &[u8]) -> Result<AppendOutcome, LogError> {
    let corrupt = |reason: String| LogError::Corrupt {
        position: None,
        reason: format!("command {command_id}: {reason}"),
    };
    if bytes.len() < 16 || bytes[..16] != command_id.as_bytes()[..] {
        return Err(corrupt("the segment holds another command at its place".into()));
    }
    codec::decode_outcome(&bytes[16..]).map_err(corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_loads_blocks_and_the_older_one_key_per_chunk_layout() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = sled::Config::new().path(dir.path()).open().expect("sled");
        let loc = |offset: u64| ChunkLoc { offset, len: 100 };
        // An older log: one key per chunk.
        db.insert(codec::event_key(1), &loc(16).encode()).expect("insert");
        db.insert(codec::event_key(9), &loc(116).encode()).expect("insert");
        // Then persists that write blocks.
        let directory = ChunkDirectory::load(Some(&db)).expect("load");
        directory.record(&[(20, loc(216)), (31, loc(316)), (40, loc(416))]);
        let mut batch = sled::Batch::default();
        assert_eq!(directory.stage_persist(9, 35, &mut batch), Some(31));
        db.apply_batch(batch).expect("apply");
        let reloaded = ChunkDirectory::load(Some(&db)).expect("reload");
        let firsts: Vec<u64> = reloaded.batch(1, 100, 10).into_iter().map(|(first, _)| first).collect();
        assert_eq!(firsts, vec![1, 9, 20, 31], "position 40 was not persisted");
        assert_eq!(reloaded.get(31), Some(loc(316)));
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn records_round_trip() {
        let mut writer = RecordWriter::new(8);
        let loc = writer.push_chunk(b"chunk-bytes");
        let outcome = AppendOutcome {
            first_position: kui_log::Position(1),
            last_position: kui_log::Position(1),
            streams: vec![],
            replayed: false,
        };
        writer.push_command(&Uuid::from_u128(7), &outcome);
        let bytes = writer.finish();
        let len = u32::from_be_bytes(bytes[..4].try_into().expect("4")) as usize;
        let crc = u32::from_be_bytes(bytes[4..8].try_into().expect("4"));
        let body = &bytes[8..];
        assert_eq!((len, crc), (body.len(), crc32(body)));
        assert_eq!(&bytes[(loc.offset - 8) as usize..][..loc.len as usize], b"chunk-bytes");
        let entries = parse_entries(body).expect("parses");
        assert!(matches!(
            entries[0],
            Entry::Chunk {
                bytes: b"chunk-bytes",
                ..
            }
        ));
        assert!(matches!(entries[1], Entry::Command { command_id, .. } if command_id == Uuid::from_u128(7)));
    }
}
