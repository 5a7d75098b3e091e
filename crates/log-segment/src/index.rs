//! The stream index: which positions hold a stream's versions.
//!
//! # Layout
//!
//! The index is stored in *blocks*: key `s` + stream id + 0x00 + first version (u64 BE),
//! value one 12-byte entry per version for up to [`BLOCK_MAX_ENTRIES`] consecutive
//! versions starting at that first version: the event's position (u64 BE) and its
//! index within its chunk (u32 BE).
//! The chunk's first position (position - index) then gives the chunk's place in the
//! segment file through the chunk directory (see `segment`).
//! Key `m:indexed` holds the last position the stored blocks cover (and the segment
//! offset after it).
//!
//! # Why blocks, and why deferred
//!
//! sled 0.34 costs several microseconds per insert (it copies the whole leaf node on
//! every insert); one index key per event made the index the most expensive part of an
//! append.
//! So a group commit does not write index keys at all.
//! The writer records the new (version, position) pairs in [`RecentIndex`], in memory,
//! where reads see them, and every `LogOptions::persist_every_events` entries writes them out as
//! blocks, one or two inserts per stream, as single inserts (sled applies a batch under a
//! lock that holds up every reader, for as long as a hundred thousand inserts take),
//! followed by one small batch with the chunk directory, the command outcomes and the new
//! `m:indexed` marker.
//!
//! The index is derived data: the frames hold every event's stream and version.
//! After a crash the blocks cover the log up to `m:indexed` (sled recovers a prefix of
//! its batches; blocks of an unfinished persist may cover more, which reads and the
//! next persist recognise), and opening the log rebuilds the rest from the segment file.
//!
//! # Concurrent readers
//!
//! A flush first writes the blocks to sled, then clears the in-memory entries.
//! A reader first copies the in-memory entries, then reads the blocks, and skips copied
//! entries the blocks already cover, so it never misses an entry that moves in between.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::codec::{index_key, index_prefix, parse_index_key};
use crate::error::sled_error;
use kui_log::LogError;
use kui_log::StreamId;

/// Index blocks to write, as (key, value), in the order they were staged.
pub(crate) type Blocks = Vec<(Vec<u8>, Vec<u8>)>;

/// Most entries in one index block (1.5 KiB of value).
pub(crate) const BLOCK_MAX_ENTRIES: usize = 128;
/// Key of the persist marker: the last position the stored blocks, chunk directory and
/// command outcomes cover (u64 BE), then the segment offset after the last record they
/// cover (u64 BE).
pub(crate) const INDEXED_KEY: &[u8] = b"m:indexed";

/// Bytes per entry in a stored block.
const ENTRY_LEN: usize = 12;

/// Where one version of a stream is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct IndexEntry {
    pub(crate) version: u64,
    pub(crate) position: u64,
    /// First position of the chunk holding the event (its key is `e` + this).
    pub(crate) chunk_first: u64,
}

/// Index entries not yet written to sled: per stream, in version order.
#[derive(Debug, Default)]
pub(crate) struct RecentIndex {
    streams: HashMap<StreamId, Vec<IndexEntry>>,
    entries: usize,
}

impl RecentIndex {
    fn push(&mut self, stream: &StreamId, entry: IndexEntry) {
        match self.streams.get_mut(stream) {
            Some(entries) => entries.push(entry),
            None => {
                self.streams.insert(stream.clone(), vec![entry]);
            }
        }
        self.entries += 1;
    }
}

fn malformed_block(key: &[u8]) -> LogError {
    LogError::Corrupt {
        position: None,
        reason: format!("malformed stream index block {key:?}"),
    }
}

/// Decodes one stored block: (stream, first version, entries in version order).
fn parse_block<'a>(key: &'a [u8], value: &'a [u8]) -> Result<(&'a str, Vec<IndexEntry>), LogError> {
    let (stream, first_version) = parse_index_key(key).ok_or_else(|| malformed_block(key))?;
    let records = value.chunks_exact(ENTRY_LEN);
    if first_version == 0
        || value.is_empty()
        || !records.remainder().is_empty()
        || value.len() > ENTRY_LEN * BLOCK_MAX_ENTRIES
    {
        return Err(malformed_block(key));
    }
    let mut entries = Vec::with_capacity(records.len());
    for (offset, record) in records.enumerate() {
        let mut position = [0; 8];
        position.copy_from_slice(&record[..8]);
        let position = u64::from_be_bytes(position);
        let mut index = [0; 4];
        index.copy_from_slice(&record[8..]);
        let chunk_first = position.checked_sub(u64::from(u32::from_be_bytes(index)));
        let Some(chunk_first) = chunk_first.filter(|first| *first > 0) else {
            return Err(malformed_block(key));
        };
        entries.push(IndexEntry {
            version: first_version + offset as u64,
            position,
            chunk_first,
        });
    }
    Ok((stream, entries))
}

/// Appends one entry to a block value being built.
fn encode_entry(block: &mut Vec<u8>, entry: &IndexEntry) {
    block.extend_from_slice(&entry.position.to_be_bytes());
    let index = u32::try_from(entry.position - entry.chunk_first).expect("a chunk holds at most 512 events");
    block.extend_from_slice(&index.to_be_bytes());
}

/// The stream index: blocks in sled plus the recent entries in memory.
#[derive(Debug, Default)]
pub(crate) struct StreamIndex {
    recent: RwLock<RecentIndex>,
}

impl StreamIndex {
    fn read(&self) -> RwLockReadGuard<'_, RecentIndex> {
        // Every update is completed under the lock before it is released, so a poisoned
        // lock still holds consistent data.
        self.recent.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, RecentIndex> {
        self.recent.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the entries of an applied group (the writer calls this before the group
    /// can become durable, so readers always find durable events).
    pub(crate) fn record(&self, entries: &[(StreamId, IndexEntry)]) {
        let mut recent = self.write();
        for (stream, entry) in entries {
            recent.push(stream, *entry);
        }
    }

    /// Number of entries waiting to be written to sled.
    pub(crate) fn pending(&self) -> usize {
        self.read().entries
    }

    /// Entries of `stream` with version >= `from` and position <= `max_position`, in
    /// version order.
    pub(crate) fn entries(
        &self,
        db: Option<&sled::Db>,
        stream: &StreamId,
        from: u64,
        max_position: u64,
    ) -> Result<Vec<IndexEntry>, LogError> {
        let from = from.max(1);
        // Copy the recent entries before reading sled; see the module docs.
        let recent: Vec<IndexEntry> = self.read().streams.get(stream).cloned().unwrap_or_default();
        let mut entries = Vec::new();
        let mut last_stored = 0;
        let name = stream.as_str();
        if let Some(db) = db {
            let start = match db.range(index_key(name, 0)..=index_key(name, from)).next_back() {
                Some(item) => item.map_err(sled_error)?.0,
                None => sled::IVec::from(index_key(name, from)),
            };
            for item in db.range(start..=sled::IVec::from(index_key(name, u64::MAX))) {
                let (key, value) = item.map_err(sled_error)?;
                let (_, block) = parse_block(&key, &value)?;
                for entry in block {
                    last_stored = entry.version;
                    if entry.version < from {
                        continue;
                    }
                    if entry.position > max_position {
                        return Ok(entries);
                    }
                    entries.push(entry);
                }
            }
        }
        for entry in recent {
            if entry.version <= last_stored || entry.version < from {
                continue;
            }
            if entry.position > max_position {
                break;
            }
            entries.push(entry);
        }
        Ok(entries)
    }

    /// The last version of `stream` whose position is <= `max_position`.
    pub(crate) fn last_version(
        &self,
        db: Option<&sled::Db>,
        stream: &StreamId,
        max_position: u64,
    ) -> Result<Option<u64>, LogError> {
        if let Some(entries) = self.read().streams.get(stream) {
            if let Some(entry) = entries.iter().rev().find(|entry| entry.position <= max_position) {
                return Ok(Some(entry.version));
            }
        }
        let Some(db) = db else {
            return Ok(None);
        };
        let name = stream.as_str();
        for item in db.range(index_prefix(name)..=index_key(name, u64::MAX)).rev() {
            let (key, value) = item.map_err(sled_error)?;
            let (_, block) = parse_block(&key, &value)?;
            if let Some(entry) = block.iter().rev().find(|entry| entry.position <= max_position) {
                return Ok(Some(entry.version));
            }
        }
        Ok(None)
    }

    /// Adds the in-memory entries with position <= `up_to` to `batch` as blocks; after
    /// the batch is applied, [`StreamIndex::forget`] drops them from memory.
    ///
    /// Only the persister calls this (so the stored blocks do not change meanwhile); the
    /// writer may add newer entries concurrently.
    pub(crate) fn stage_flush(&self, db: &sled::Db, batch: &mut Blocks, up_to: u64) -> Result<(), LogError> {
        {
            // Copy, so the writer is not blocked during the sled lookups below.
            let recent: Vec<(StreamId, Vec<IndexEntry>)> = self
                .read()
                .streams
                .iter()
                .map(|(stream, entries)| {
                    let upto: Vec<IndexEntry> = entries
                        .iter()
                        .take_while(|entry| entry.position <= up_to)
                        .copied()
                        .collect();
                    (stream.clone(), upto)
                })
                .collect();
            for (stream, entries) in &recent {
                let Some(first_new) = entries.first().map(|entry| entry.version) else {
                    continue;
                };
                let name = stream.as_str();
                // Extend the stream's last block when it is not full and continues.
                let last_block = db.range(index_prefix(name)..=index_key(name, u64::MAX)).next_back();
                let (mut block_first, mut block, stored_end) = match last_block {
                    Some(item) => {
                        let (key, value) = item.map_err(sled_error)?;
                        let (_, stored) = parse_block(&key, &value)?;
                        let first_version = stored.first().map_or(first_new, |entry| entry.version);
                        let stored_end = first_version + stored.len() as u64;
                        if stored.len() < BLOCK_MAX_ENTRIES && stored_end == first_new {
                            (first_version, value.to_vec(), stored_end)
                        } else {
                            (first_new, Vec::new(), stored_end)
                        }
                    }
                    None => (first_new, Vec::new(), 1),
                };
                for entry in entries {
                    // Already stored (only after a recovery that re-read more than the
                    // marker required); never write a version twice.
                    if entry.version < stored_end {
                        continue;
                    }
                    if block.is_empty() {
                        block_first = entry.version;
                    }
                    let full = block.len() == ENTRY_LEN * BLOCK_MAX_ENTRIES;
                    let continues = block_first + (block.len() / ENTRY_LEN) as u64 == entry.version;
                    if full || !continues {
                        batch.push((index_key(name, block_first), std::mem::take(&mut block)));
                        block_first = entry.version;
                    }
                    encode_entry(&mut block, entry);
                }
                if block.is_empty() {
                    continue;
                }
                batch.push((index_key(name, block_first), block));
            }
        }
        Ok(())
    }

    /// Forgets the in-memory entries with position <= `up_to` (after they were written
    /// to sled).
    pub(crate) fn forget(&self, up_to: u64) {
        let mut recent = self.write();
        let mut removed = 0;
        recent.streams.retain(|_, entries| {
            let n = entries.iter().take_while(|entry| entry.position <= up_to).count();
            entries.drain(..n);
            removed += n;
            !entries.is_empty()
        });
        recent.entries -= removed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(name: &str) -> StreamId {
        StreamId::new(name).expect("valid id")
    }

    fn temp_db() -> (tempfile::TempDir, sled::Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::Config::new().path(dir.path()).open().expect("sled");
        (dir, db)
    }

    #[test]
    fn entries_span_blocks_and_memory_across_flushes() {
        let (_dir, db) = temp_db();
        let index = StreamIndex::default();
        let (a, b) = (stream("a"), stream("b"));
        let mut position = 0;
        let mut expected_a = Vec::new();
        for round in 0..5 {
            let mut entries = Vec::new();
            for _ in 0..100 {
                position += 1;
                let version = expected_a.len() as u64 + 1;
                let entry = IndexEntry {
                    version,
                    position,
                    chunk_first: position - (position - 1) % 7,
                };
                entries.push((a.clone(), entry));
                expected_a.push(entry);
                position += 1;
                entries.push((
                    b.clone(),
                    IndexEntry {
                        version: position / 2,
                        position,
                        chunk_first: position,
                    },
                ));
            }
            index.record(&entries);
            if round % 2 == 1 {
                let mut blocks = Blocks::new();
                index.stage_flush(&db, &mut blocks, position).expect("stage");
                for (key, value) in blocks {
                    db.insert(key, value).expect("flush");
                }
                index.forget(position);
                assert_eq!(index.pending(), 0);
            }
            assert_eq!(index.entries(Some(&db), &a, 1, u64::MAX).expect("entries"), expected_a);
        }
        // Blocks hold at most BLOCK_MAX_ENTRIES versions each.
        let blocks = db.scan_prefix(index_prefix("a")).count();
        assert_eq!(blocks, 400usize.div_ceil(BLOCK_MAX_ENTRIES));
        assert_eq!(
            index.entries(Some(&db), &a, 250, u64::MAX).expect("entries"),
            expected_a[249..].to_vec()
        );
        // The position bound cuts off newer entries, in blocks and in memory.
        let bounded = index.entries(Some(&db), &a, 1, 601).expect("entries");
        assert_eq!(
            bounded.last().map(|entry| (entry.version, entry.position)),
            Some((301, 601))
        );
        assert_eq!(index.last_version(Some(&db), &a, 601).expect("last"), Some(301));
        assert_eq!(index.last_version(Some(&db), &a, u64::MAX).expect("last"), Some(500));
        assert_eq!(
            index.last_version(Some(&db), &stream("c"), u64::MAX).expect("last"),
            None
        );
    }

    #[test]
    fn malformed_blocks_are_corruption() {
        let (_dir, db) = temp_db();
        db.insert(index_key("a", 1), &[1, 2, 3][..]).expect("insert");
        let index = StreamIndex::default();
        assert!(matches!(
            index.entries(Some(&db), &stream("a"), 1, u64::MAX),
            Err(LogError::Corrupt { .. })
        ));
    }
}
