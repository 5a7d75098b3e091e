//! The embedded implementation of [`EventLog`]: an append-only segment file for the
//! events, sled 0.34 for the derived data.
//!
//! # Layout
//!
//! The log directory holds `events.seg`, the segment file, and `index/`, a sled database
//! of derived data.
//! (ADR `docs/adr/0001-event-segments.md` explains why, ADR
//! `docs/adr/0002-recovery-without-silent-loss.md` how recovery avoids cutting an
//! acknowledged event.)
//!
//! - `events.seg` (format in the private `segment` module) is the source of truth: a
//!   4096-byte header block holding the acknowledgement watermark, then one record per
//!   group commit holding the group's chunks of event frames (format in the private
//!   `codec` module) and the outcomes of its command ids.
//!   Records are only ever appended; a background thread keeps the file extended with
//!   zeros at least 8 MiB ahead of the data (1 MiB at a time, each step synced) so that
//!   neither a write nor a sync on the write path has to extend the file.
//! - `index/` holds only data derived from the segment, plus the format marker
//!   `m:format` = `kui-log/2`: the chunk directory (`e` + first position -> offset and
//!   length in the segment), the stream index blocks (`s`, see the private `index`
//!   module), the command blocks (`c`: command id -> place of its outcome in the
//!   segment) and the marker `m:indexed` = (position P, segment offset O) saying that
//!   all of this covers positions up to P, the segment up to byte O.
//!   When it is missing, the next open rebuilds it from the segment.
//!
//! New derived data is kept in memory (where reads find it) and written to sled by a
//! persister thread, the stream index insert by insert and then the rest in one batch
//! with the new `m:indexed`, every `LogOptions::persist_every_events` events (131,072 by default) and on
//! close; the persister first fsyncs the segment, so the marker never covers bytes that
//! a power loss could take.
//! Every command id of the log is in memory (the recent outcomes themselves, the older
//! ones as a place in the segment), so telling a new command id from a retry needs no
//! sled lookup.
//!
//! # Recovery
//!
//! Opening the log reads the watermark and `m:indexed` (none: P = 0, O = the end of the
//! header block), loads the chunk directory and command blocks, and reads the segment
//! from O to its end record by record: it checks each record's CRC, recomputes every
//! frame's hash and checks the prev-hash link and the position, and rebuilds the
//! directory, stream index and command entries of these records in memory.
//! Where the records end is decided by the private `records` module: an interrupted
//! write after the watermark (zeros where the rest of a record should be) is cut off and
//! reported ([`SegmentLog::interrupted`]); anything else that fails is
//! [`LogError::Corrupt`] naming the position the damaged record should hold, and nothing
//! is changed. The last event's hash is checked against the watermark.
//! [`SegmentLog::open_read_only`] does the same from the header block on, writing nothing.
//!
//! # Write path
//!
//! One writer thread owns all writes.
//! Appends and imports reach it over a channel; it drains everything pending into one
//! group, checks expected versions against its map of stream heads and command ids
//! against known and earlier-in-group ones, rejects a conflicting request alone,
//! assigns positions, computes hashes, encodes the group's record(s) and writes them
//! with one positional write at the end of the segment.
//! It then records the group's index, directory and command entries in memory and hands
//! the group to the flusher, and goes on with the next group at once.
//! The flusher calls `sync_data` (fdatasync) on the segment and then advances the
//! durable head and wakes subscriptions for every group that was written before that
//! sync began: one fsync covers all groups written while the previous one ran.
//! When the previous sync covered several groups (concurrent appenders), the flusher
//! first waits 100 µs for more of them.
//! An acker thread then answers the requests, so the flusher can start its next sync at
//! once.
//! Every reply, rejections included, is sent after the sync, so a conflict never reports
//! a version that could still be lost.
//! No sled work happens on this path.
//!
//! Reads (`read_*`, `scan`, `head`, `stream_version`, `command_outcome`, subscriptions)
//! show only events at or below the durable head.
//! `scan`, `read_all` and `verify` read the segment sequentially through a 4 MiB window;
//! `read_stream` goes stream index -> position -> chunk directory -> one positional read
//! of the chunk (the last chunk is reused).
//!
//! After any failed write or sync, the log is *failed*: the affected requests and every
//! later one get [`LogError::Failed`], and nothing after the failure is acknowledged.
//!
//! # What "durable" covers
//!
//! With `LogOptions { fsync: true, .. }` an acknowledged append survives a process crash
//! and, as far as the file system and the drive honour `fdatasync`, a power loss:
//!
//! - The events and command outcomes of an acknowledged group are in the segment, and
//!   the segment was `fdatasync`ed after they were written. The segment file and the
//!   log directory are fsynced when the segment is created.
//! - Everything in sled is derived from the segment and rebuilt from it on open (from
//!   the `m:indexed` offset on), so sled's own flush semantics (sled 0.34 only calls
//!   `sync_file_range`, issue #1452; its blob files are not fsynced) no longer matter for
//!   acknowledged events. A lost sled batch only means more of the segment is re-read on
//!   the next open.
//!
//! Not covered: drives that ignore flush requests. After a power loss, the watermark on
//! disk can lag the answers by the groups of one sync; damage of several bytes at the end
//! of such a record could then look like an interrupted write (ADR 0002).
//! The crash test (`tests/it/crash.rs` with the `kui-log-torture` binary) kills a writing
//! process and checks that every acknowledged event and command id survives with a
//! gap-free, verifying chain; it cannot simulate a power cut.
//! With `fsync: false` acknowledged appends are only in the OS page cache: for tests and
//! benchmarks.
//!
//! With `acknowledge: Acknowledge::Written` an append is answered as soon as its group is
//! written to the segment, and the sync follows as usual: the append survives a crash of
//! the process (the bytes are in the OS), and a power loss can lose the groups of the
//! last sync or two. Readers still see events only once they are synced, and the
//! watermark still marks the end of the synced records. The API's access log can be
//! opened so, for reads that should not wait for the disk.

use std::fs::{self, File};
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::codec::{self, ChunkView, MARKER_KEY, MARKER_VALUE, ZERO_HASH};
use kui_log::LogError;

use crate::error::{sled_error, OpenError};
use crate::index::{StreamIndex, INDEXED_KEY};
use crate::pipeline;
use crate::records::{self, HeaderBlock, WatermarkWriter};
use crate::recovery::{self, Interrupted, Layout, Tail, INDEX_DIR};
use crate::segment::{ChunkDirectory, CommandTable, WindowReader, FORMAT_VERSION, HEADER_BLOCK, SEGMENT_FILE};
use crate::writer::{AppendReply, ImportBatch, WriterMsg};
use kui_log::EventLog;
use kui_log::{validate_request, AppendCallback};
use kui_log::{AppendOutcome, AppendRequest, Envelope, EventRef, Position, StreamId, VerifyReport, Version};
use kui_log::{Subscription, SubscriptionSource};

/// How to open a [`SegmentLog`].
///
/// Built explicitly by the caller (the cli); there is deliberately no `Default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// Sync every group commit to disk before acknowledging it.
    /// `false` only for tests and benchmarks that do not need durability.
    pub fsync: bool,
    /// Size of sled's page cache, in bytes.
    pub cache_capacity_bytes: u64,
    /// Write the derived index data (chunk directory, stream index, command ids) to sled
    /// after this many new events. Larger means less write amplification on busy logs and
    /// a longer tail to re-read from the segment when opening after a crash.
    pub persist_every_events: usize,
    /// When appends are answered.
    pub acknowledge: Acknowledge,
}

/// When an append is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Acknowledge {
    /// Once its group is synced (`fdatasync`) to the segment, and visible to readers.
    #[default]
    Synced,
    /// Once its group is written to the segment, before the sync that follows: it
    /// survives a crash of the process but not necessarily a power loss, and readers see
    /// it once synced. For records that must not wait for the disk, never for a writer
    /// that reads its own appends.
    Written,
}

impl LogOptions {
    /// Durable appends and a 1 GiB page cache (sled's default).
    ///
    /// sled now holds only the derived index data (events are read from the segment file
    /// through the OS page cache), so a much smaller cache is enough.
    pub fn durable() -> LogOptions {
        LogOptions {
            fsync: true,
            cache_capacity_bytes: 1024 * 1024 * 1024,
            persist_every_events: 131_072,
            acknowledge: Acknowledge::Synced,
        }
    }
}

/// Counters of the write pipeline since the log was opened, for diagnostics and
/// benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Group commits written (one or more segment records each).
    pub groups: u64,
    /// Events written (appended or imported).
    pub events: u64,
    /// Durability syncs (`fdatasync` of the segment) performed.
    pub syncs: u64,
    /// Time the writer spent writing groups to the segment, in microseconds.
    pub apply_micros: u64,
    /// Time the flusher spent syncing, in microseconds.
    pub sync_micros: u64,
    /// Steps of zeros written ahead of the writer by the extender thread.
    pub extensions: u64,
    /// Times the writer found no zeros ahead and extended the file itself.
    pub writer_extensions: u64,
}

/// The atomic counters behind [`WriteStats`].
#[derive(Debug, Default)]
pub(crate) struct StatCounters {
    pub(crate) groups: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) syncs: AtomicU64,
    pub(crate) apply_micros: AtomicU64,
    pub(crate) sync_micros: AtomicU64,
    pub(crate) extensions: AtomicU64,
    pub(crate) writer_extensions: AtomicU64,
}

impl StatCounters {
    pub(crate) fn add(counter: &AtomicU64, amount: u64) {
        counter.fetch_add(amount, Ordering::Relaxed);
    }

    fn snapshot(&self) -> WriteStats {
        WriteStats {
            groups: self.groups.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
            apply_micros: self.apply_micros.load(Ordering::Relaxed),
            sync_micros: self.sync_micros.load(Ordering::Relaxed),
            extensions: self.extensions.load(Ordering::Relaxed),
            writer_extensions: self.writer_extensions.load(Ordering::Relaxed),
        }
    }
}

/// The durable head and the log's lifecycle, guarded by one mutex.
#[derive(Debug, Default)]
pub(crate) struct DurableState {
    pub(crate) head: Option<(u64, [u8; 32])>,
    pub(crate) closed: bool,
    pub(crate) failure: Option<String>,
}

/// State shared by the log handle, the writer and flusher threads and subscriptions.
pub(crate) struct Shared {
    /// The derived data on disk; `None` for a read-only log, which keeps it in memory.
    pub(crate) db: Option<sled::Db>,
    durable: Mutex<DurableState>,
    durable_changed: Condvar,
    /// Copy of the durable head position, for reads that need no hash.
    durable_position: AtomicU64,
    /// Segment offset just after the last durable record.
    durable_offset: AtomicU64,
    /// Damage to the header block that did not stop the open (a damaged watermark slot
    /// beside an intact one), for `verify` to report.
    pub(crate) header_damage: Vec<String>,
    pub(crate) stats: StatCounters,
    /// The stream index (blocks in sled plus recent entries in memory).
    pub(crate) index: StreamIndex,
    /// The segment file, for positional reads.
    pub(crate) segment: File,
    /// Where every chunk is in the segment.
    pub(crate) directory: ChunkDirectory,
    /// Command outcomes (recent ones in memory, the others in sled).
    pub(crate) commands: CommandTable,
    /// Held by a test to keep the flusher from finishing a sync.
    #[cfg(test)]
    pub(crate) hold_syncs: Mutex<()>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, DurableState> {
        // A panic while holding this lock cannot leave the state half-updated (every
        // update is a single assignment), so a poisoned lock is still usable.
        self.durable.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn durable_position(&self) -> u64 {
        self.durable_position.load(Ordering::Acquire)
    }

    pub(crate) fn durable_head(&self) -> Option<(u64, [u8; 32])> {
        self.state().head
    }

    /// Segment offset just after the last durable record.
    pub(crate) fn durable_offset(&self) -> u64 {
        self.durable_offset.load(Ordering::Acquire)
    }

    /// Publishes a new durable head (its records ending at segment offset `offset`) and
    /// wakes subscriptions.
    pub(crate) fn set_durable(&self, head: (u64, [u8; 32]), offset: u64) {
        let mut state = self.state();
        state.head = Some(head);
        self.durable_offset.store(offset, Ordering::Release);
        self.durable_position.store(head.0, Ordering::Release);
        drop(state);
        self.durable_changed.notify_all();
    }

    /// The failure that stopped writes, if any.
    pub(crate) fn failure(&self) -> Option<String> {
        self.state().failure.clone()
    }

    /// Puts the log into the failed state (the first reason wins).
    pub(crate) fn fail(&self, reason: String) {
        let mut state = self.state();
        state.failure.get_or_insert(reason);
        drop(state);
        self.durable_changed.notify_all();
    }

    fn mark_closed(&self) {
        self.state().closed = true;
        self.durable_changed.notify_all();
    }

    /// Waits until the durable head reaches `position`; see [`SubscriptionSource`].
    fn wait_for(&self, position: u64, timeout: Duration) -> Result<bool, LogError> {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        loop {
            if state.head.is_some_and(|(head, _)| head >= position) {
                return Ok(true);
            }
            if state.closed {
                return Err(LogError::Closed);
            }
            if let Some(reason) = &state.failure {
                return Err(LogError::Failed { reason: reason.clone() });
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(false);
            }
            state = self
                .durable_changed
                .wait_timeout(state, remaining)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// Calls `visit(position, chunk_first, frame)` for every stored frame with `from <= position <=
    /// to`, in order, until it breaks.
    ///
    /// Reads the segment sequentially through a large window.
    pub(crate) fn for_each_frame(&self, from: u64, to: u64, visit: &mut FrameVisitor<'_>) -> Result<(), LogError> {
        let mut from = from.max(1);
        let mut reader = WindowReader::new(&self.segment);
        while from <= to {
            let batch = self.directory.batch(from, to, 1024);
            let batch_end = batch.last().map_or(0, |(_, loc)| loc.offset + u64::from(loc.len));
            let mut next = from;
            for (first, loc) in batch {
                let bytes = reader.get_until(loc, batch_end).map_err(|error| {
                    LogError::corrupt_at(first, format!("reading the chunk starting here failed: {error}"))
                })?;
                let chunk = ChunkView::parse(bytes)
                    .map_err(|reason| LogError::corrupt_at(first, format!("chunk starting here: {reason}")))?;
                for index in 0..chunk.count() {
                    let position = first + index as u64;
                    if position < from {
                        continue;
                    }
                    if position > to {
                        return Ok(());
                    }
                    if visit(position, first, chunk.frame(index))?.is_break() {
                        return Ok(());
                    }
                }
                next = first + chunk.count() as u64;
            }
            if next <= from {
                return Ok(());
            }
            from = next;
        }
        Ok(())
    }

    /// The bytes of the chunk starting at `chunk_first`.
    fn read_chunk(&self, position: u64, chunk_first: u64) -> Result<Vec<u8>, LogError> {
        let loc = self.directory.get(chunk_first).ok_or_else(|| {
            LogError::corrupt_at(
                position,
                format!("index mismatch: the stream index points to a chunk at {chunk_first}, which does not exist"),
            )
        })?;
        let mut bytes = vec![0; loc.len as usize];
        self.segment
            .read_exact_at(&mut bytes, loc.offset)
            .map_err(|error| LogError::corrupt_at(chunk_first, format!("reading the chunk starting here: {error}")))?;
        Ok(bytes)
    }

    /// Durable events with position >= `from`, at most `limit`.
    pub(crate) fn read_all(&self, from: u64, limit: usize) -> Result<Vec<Envelope>, LogError> {
        let to = self.durable_position();
        let from = from.max(1);
        if limit == 0 || from > to {
            return Ok(Vec::new());
        }
        let expected = usize::try_from(to - from + 1).unwrap_or(usize::MAX);
        let mut envelopes = Vec::with_capacity(limit.min(expected).min(4096));
        self.for_each_frame(from, to, &mut |position, _, frame| {
            envelopes.push(decode_at(position, frame)?);
            Ok(if envelopes.len() >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })?;
        Ok(envelopes)
    }

    fn scan(&self, from: u64, to: u64, visit: &mut dyn FnMut(&Envelope) -> ControlFlow<()>) -> Result<u64, LogError> {
        let to = to.min(self.durable_position());
        let mut envelope = codec::blank_envelope();
        let mut visited = 0;
        self.for_each_frame(from, to, &mut |position, _, frame| {
            codec::decode_frame_into(frame, &mut envelope).map_err(|reason| LogError::corrupt_at(position, reason))?;
            check_position(position, &envelope)?;
            visited += 1;
            Ok(visit(&envelope))
        })?;
        Ok(visited)
    }

    fn scan_events(
        &self,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(EventRef<'_>) -> ControlFlow<()>,
    ) -> Result<u64, LogError> {
        let to = to.min(self.durable_position());
        let mut visited = 0;
        self.for_each_frame(from, to, &mut |position, _, frame| {
            let event = codec::decode_frame_ref(frame).map_err(|reason| LogError::corrupt_at(position, reason))?;
            if event.position != position {
                return Err(LogError::corrupt_at(
                    position,
                    format!("the frame stored here says position {}", event.position),
                ));
            }
            visited += 1;
            Ok(visit(EventRef {
                position: Position(position),
                event_type: event.event_type,
                schema_version: event.schema_version,
                occurred_at: event.occurred_at,
                payload: event.payload,
            }))
        })?;
        Ok(visited)
    }

    /// The event at `position` in the chunk starting at `chunk_first` (as the stream index
    /// records it), reusing the chunk in `cache` when it is that chunk.
    ///
    /// One directory lookup and one positional read of the chunk.
    pub(crate) fn event_in_chunk(
        &self,
        position: u64,
        chunk_first: u64,
        cache: &mut Option<(u64, Vec<u8>)>,
    ) -> Result<Envelope, LogError> {
        let cached = matches!(cache, Some((first, _)) if *first == chunk_first);
        if !cached {
            let value = self.read_chunk(position, chunk_first)?;
            *cache = Some((chunk_first, value));
        }
        let (_, value) = cache.as_ref().expect("the cache was filled above");
        let chunk = ChunkView::parse(value)
            .map_err(|reason| LogError::corrupt_at(chunk_first, format!("chunk starting here: {reason}")))?;
        let index = usize::try_from(position - chunk_first).unwrap_or(usize::MAX);
        if index >= chunk.count() {
            return Err(LogError::corrupt_at(
                position,
                format!("index mismatch: the chunk at {chunk_first} does not hold this position"),
            ));
        }
        decode_at(position, chunk.frame(index))
    }

    fn read_stream(&self, stream: &StreamId, from: Version) -> Result<Vec<Envelope>, LogError> {
        let durable = self.durable_position();
        let mut cache = None;
        let entries = self.index.entries(self.db.as_ref(), stream, from.0, durable)?;
        let mut envelopes = Vec::with_capacity(entries.len());
        for entry in entries {
            let (version, position) = (entry.version, entry.position);
            let envelope = self.event_in_chunk(position, entry.chunk_first, &mut cache)?;
            if envelope.stream != *stream || envelope.version.0 != version {
                return Err(LogError::corrupt_at(
                    position,
                    format!(
                        "index mismatch: the stream index says {stream} version {version}, but the event is {} version {}",
                        envelope.stream, envelope.version
                    ),
                ));
            }
            envelopes.push(envelope);
        }
        Ok(envelopes)
    }

    fn stream_version(&self, stream: &StreamId) -> Result<Option<Version>, LogError> {
        let durable = self.durable_position();
        Ok(self.index.last_version(self.db.as_ref(), stream, durable)?.map(Version))
    }

    fn command_outcome(&self, command_id: Uuid) -> Result<Option<AppendOutcome>, LogError> {
        let Some(outcome) = self.commands.get(&self.segment, &command_id)? else {
            return Ok(None);
        };
        if outcome.last_position.0 > self.durable_position() {
            return Ok(None);
        }
        Ok(Some(outcome))
    }
}

/// Decodes a frame read at `position` and checks that it says so.
fn decode_at(position: u64, frame: &[u8]) -> Result<Envelope, LogError> {
    let envelope = codec::decode_frame(frame).map_err(|reason| LogError::corrupt_at(position, reason))?;
    check_position(position, &envelope)?;
    Ok(envelope)
}

fn check_position(position: u64, envelope: &Envelope) -> Result<(), LogError> {
    if envelope.position.0 == position {
        Ok(())
    } else {
        Err(LogError::corrupt_at(
            position,
            format!("the frame stored here claims position {}", envelope.position),
        ))
    }
}

/// Called with (position, first position of its chunk, frame) for each stored frame;
/// breaks to stop early.
pub(crate) type FrameVisitor<'a> = dyn FnMut(u64, u64, &[u8]) -> Result<ControlFlow<()>, LogError> + 'a;

/// The subscription source of a [`SegmentLog`].
struct SegmentSource {
    shared: Arc<Shared>,
}

impl SubscriptionSource for SegmentSource {
    fn read_from(&self, from: Position, limit: usize) -> Result<Vec<Envelope>, LogError> {
        self.shared.read_all(from.0, limit)
    }

    fn wait_for(&self, position: Position, timeout: Duration) -> Result<bool, LogError> {
        self.shared.wait_for(position.0, timeout)
    }
}

/// The durable, embedded event log on sled.
///
/// Cheap to share behind an `Arc`; all methods take `&self`.
/// Dropping it (or [`SegmentLog::close`]) stops the writer after its pending work is
/// flushed.
/// Open subscriptions keep the sled database open (and its directory locked) until they
/// are dropped too.
pub struct SegmentLog {
    shared: Arc<Shared>,
    sender: Option<Sender<WriterMsg>>,
    writer: Option<JoinHandle<()>>,
    flusher: Option<JoinHandle<()>>,
    acker: Option<JoinHandle<()>>,
    persister: Option<JoinHandle<()>>,
    extender: Option<JoinHandle<()>>,
    path: PathBuf,
    fsync: bool,
    /// What the open found after the last complete request.
    interrupted: Option<Interrupted>,
    /// Opened with [`SegmentLog::open_read_only`].
    read_only: bool,
}

impl std::fmt::Debug for SegmentLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// How long `open` keeps retrying while the directory's lock is held.
const LOCK_RETRY: Duration = Duration::from_millis(500);

/// Opens sled, retrying briefly while the directory is locked: after a log in this
/// process is closed, sled's IO threads can hold the lock file for a moment longer.
/// A lock held by another process still fails, after [`LOCK_RETRY`].
pub(crate) fn open_sled(path: &Path, cache_capacity_bytes: u64) -> Result<sled::Db, LogError> {
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(cache_capacity_bytes)
        .mode(sled::Mode::HighThroughput);
    let deadline = Instant::now() + LOCK_RETRY;
    loop {
        match config.open() {
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock") && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result.map_err(sled_error),
        }
    }
}

fn sync_path(path: &Path) -> Result<(), LogError> {
    File::open(path).and_then(|file| file.sync_all()).map_err(LogError::io)
}

/// Reads the persist marker: (last persisted position, segment offset after it).
fn read_persist_marker(db: &sled::Db) -> Result<Option<(u64, u64)>, LogError> {
    let Some(value) = db.get(INDEXED_KEY).map_err(sled_error)? else {
        return Ok(None);
    };
    let parsed = (value.len() == 16)
        .then(|| Some((codec::parse_u64(&value[..8])?, codec::parse_u64(&value[8..])?)))
        .flatten();
    parsed.map(Some).ok_or_else(|| LogError::Corrupt {
        position: None,
        reason: "malformed m:indexed marker in the derived data".into(),
    })
}

/// Creates a new segment file (its header block written and synced, the directory
/// synced).
fn create_segment(path: &Path, dir: &Path) -> Result<File, LogError> {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(LogError::io)?;
    file.write_all_at(&records::new_header_block(), 0)
        .map_err(LogError::io)?;
    file.sync_all().map_err(LogError::io)?;
    sync_path(dir)?;
    Ok(file)
}

/// Opens an existing segment file and checks that it is format 2; returns it with what
/// its header block holds.
fn open_segment(path: &Path, dir: &Path, writable: bool) -> Result<(File, HeaderBlock), OpenError> {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(writable)
        .open(path)
        .map_err(LogError::io)?;
    let not_a_segment = |reason: String| LogError::Corrupt {
        position: None,
        reason: format!("{}: {reason}", path.display()),
    };
    match records::format_version(&file).map_err(LogError::io)? {
        Err(reason) => return Err(not_a_segment(reason).into()),
        Ok(FORMAT_VERSION) => {}
        Ok(1) => {
            return Err(OpenError::EarlierFormat {
                path: dir.to_path_buf(),
                format: 1,
            })
        }
        Ok(other) => return Err(not_a_segment(format!("segment format {other} is unknown to this build")).into()),
    }
    let header = records::read_header_block(&file)
        .map_err(LogError::io)?
        .map_err(not_a_segment)?;
    Ok((file, header))
}

/// Whether a log is opened to write or only to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

impl SegmentLog {
    /// Opens the log in directory `path`, creating it if it does not exist.
    ///
    /// A new or empty directory becomes a new log.
    /// A non-empty directory that is not a kui log fails with [`LogError::NotALog`]
    /// without being touched.
    /// The derived data (in `index/`) is rebuilt from the segment when it is missing.
    /// An interrupted write after the last acknowledged one is cut off (see
    /// [`SegmentLog::interrupted`]); damage fails with [`LogError::Corrupt`] and changes
    /// nothing.
    pub fn open(path: &Path, options: LogOptions) -> Result<SegmentLog, OpenError> {
        SegmentLog::open_in(path, options, Access::ReadWrite)
    }

    /// Opens an existing log to read it, writing nothing: no file is changed, no lock is
    /// taken (it can be opened beside a process writing the log; it then sees the
    /// records complete when it opened) and the derived data is rebuilt in memory from
    /// the segment. Appends fail with [`LogError::ReadOnly`].
    ///
    /// Damage fails with [`LogError::Corrupt`]; an interrupted write at the end is
    /// reported by [`SegmentLog::interrupted`] and left in place.
    pub fn open_read_only(path: &Path) -> Result<SegmentLog, OpenError> {
        let options = LogOptions {
            fsync: false,
            cache_capacity_bytes: 16 * 1024 * 1024,
            persist_every_events: usize::MAX,
            acknowledge: Acknowledge::Synced,
        };
        SegmentLog::open_in(path, options, Access::ReadOnly)
    }

    fn open_in(path: &Path, options: LogOptions, access: Access) -> Result<SegmentLog, OpenError> {
        let writable = access == Access::ReadWrite;
        let segment_path = path.join(SEGMENT_FILE);
        let (segment, header) = match recovery::inspect_directory(path)? {
            Layout::New if writable => {
                fs::create_dir_all(path).map_err(LogError::io)?;
                let segment = create_segment(&segment_path, path)?;
                (
                    segment,
                    HeaderBlock {
                        watermark: None,
                        damage: Vec::new(),
                    },
                )
            }
            Layout::New => {
                return Err(OpenError::NotALog {
                    path: path.to_path_buf(),
                })
            }
            Layout::Existing => open_segment(&segment_path, path, writable)?,
        };
        SegmentLog::start(path, options, writable, segment, header).map_err(OpenError::from)
    }

    /// Opens the derived data, reads the records after its last persist back and starts
    /// the write pipeline (a writable log) on an open, checked segment.
    fn start(
        path: &Path,
        options: LogOptions,
        writable: bool,
        segment: File,
        header: HeaderBlock,
    ) -> Result<SegmentLog, LogError> {
        let db = if writable {
            let db = open_sled(&path.join(INDEX_DIR), options.cache_capacity_bytes)?;
            match db.get(MARKER_KEY).map_err(sled_error)? {
                Some(marker) if marker.as_ref() == MARKER_VALUE => {}
                Some(_) => {
                    return Err(LogError::Corrupt {
                        position: None,
                        reason: format!(
                            "the derived data in {} has an unknown format marker",
                            path.join(INDEX_DIR).display()
                        ),
                    })
                }
                None if db.first().map_err(sled_error)?.is_none() => {
                    db.insert(MARKER_KEY, MARKER_VALUE).map_err(sled_error)?;
                    db.flush().map_err(sled_error)?;
                }
                None => {
                    return Err(LogError::Corrupt {
                        position: None,
                        reason: format!(
                            "the derived data in {} has no format marker",
                            path.join(INDEX_DIR).display()
                        ),
                    })
                }
            }
            // The read-only log reads nothing from the directory's derived data: it keeps
            // all of it in memory.
            Some(db)
        } else {
            None
        };
        let persisted = match &db {
            Some(db) => read_persist_marker(db)?,
            None => None,
        };
        let directory = ChunkDirectory::load(db.as_ref())?;
        let persisted_chunks = directory.last().map_or(0, |(first, _)| first);
        let (persisted_position, persisted_offset) = persisted.unwrap_or((0, HEADER_BLOCK));
        let file_len = segment.metadata().map_err(LogError::io)?.len();
        // Without derived data the scan itself finds a segment that ends too early (and
        // names what the watermark says is missing).
        if persisted.is_some() && persisted_offset > file_len {
            return Err(LogError::corrupt_at(
                persisted_position,
                format!(
                    "the segment ends at byte {file_len}, before byte {persisted_offset}, which the derived data records as written up to this position"
                ),
            ));
        }
        let last_hash = if persisted_position > 0 {
            recovery::event_hash_at(&segment, &directory, persisted_position)?
        } else {
            ZERO_HASH
        };
        let watermark = header.watermark.map(|(_, watermark)| watermark);
        let vouched = watermark
            .map_or(HEADER_BLOCK, |watermark| watermark.offset)
            .max(persisted_offset);
        let mut tail = Tail::new(persisted_position + 1, last_hash, writable);
        let scanned = tail.scan(&segment, persisted_offset, file_len, vouched)?;
        let mut interrupted = scanned.interrupted;
        if let Some(found) = interrupted.as_mut() {
            if writable {
                recovery::cut_interrupted(&segment, found.offset)?;
                found.cut = true;
            }
        }
        let head = (tail.next_position > 1).then_some((tail.next_position - 1, tail.last_hash));
        let index = StreamIndex::default();
        index.record(&tail.index);
        directory.record(&tail.chunks);
        if let Some(watermark) = watermark.filter(|watermark| watermark.position > 0) {
            let head_position = head.map_or(0, |(position, _)| position);
            let stored = if watermark.position <= head_position {
                Some(recovery::event_hash_at(&segment, &directory, watermark.position)?)
            } else {
                None
            };
            if stored != Some(watermark.hash) {
                return Err(LogError::corrupt_at(
                    watermark.position,
                    "the acknowledgement watermark names this position with a hash the stored event does not have",
                ));
            }
        }
        let commands = CommandTable::load(db.as_ref());
        commands.record(tail.commands);
        let end_offset = scanned.end_offset;
        let shared = Arc::new(Shared {
            db,
            durable: Mutex::new(DurableState {
                head,
                ..DurableState::default()
            }),
            durable_changed: Condvar::new(),
            durable_position: AtomicU64::new(head.map_or(0, |(position, _)| position)),
            durable_offset: AtomicU64::new(end_offset),
            stats: StatCounters::default(),
            index,
            segment: segment.try_clone().map_err(LogError::io)?,
            directory,
            commands,
            header_damage: header.damage.clone(),
            #[cfg(test)]
            hold_syncs: Mutex::new(()),
        });
        let mut log = SegmentLog {
            shared: Arc::clone(&shared),
            sender: None,
            writer: None,
            flusher: None,
            acker: None,
            persister: None,
            extender: None,
            path: path.to_path_buf(),
            fsync: options.fsync,
            interrupted,
            read_only: !writable,
        };
        if !writable {
            return Ok(log);
        }
        let (sender, receiver) = mpsc::channel();
        let threads = pipeline::spawn(
            shared,
            receiver,
            head,
            pipeline::FlushSettings {
                fsync: options.fsync,
                acknowledge: options.acknowledge,
                sync_handle: segment.try_clone().map_err(LogError::io)?,
                watermark: WatermarkWriter::new(segment.try_clone().map_err(LogError::io)?, header.watermark),
                segment,
                end_offset,
                persisted_chunks,
                persist_every: options.persist_every_events.max(1),
            },
        )
        .map_err(LogError::io)?;
        log.sender = Some(sender);
        log.writer = Some(threads.writer);
        log.flusher = Some(threads.flusher);
        log.acker = Some(threads.acker);
        log.persister = Some(threads.persister);
        log.extender = Some(threads.extender);
        Ok(log)
    }

    /// The interrupted write found after the last complete request when the log was
    /// opened: cut off by a writable open, left in place by a read-only one. Never an
    /// acknowledged append.
    pub fn interrupted(&self) -> Option<&Interrupted> {
        self.interrupted.as_ref()
    }

    /// The directory this log lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the writer after everything pending is written and synced, then flushes
    /// sled once more.
    pub fn close(mut self) -> Result<(), LogError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), LogError> {
        // Dropping the sender lets the writer drain its channel and stop; the flusher
        // stops after syncing the writer's last group.
        drop(self.sender.take());
        let mut thread_panicked = false;
        if let Some(writer) = self.writer.take() {
            thread_panicked |= writer.join().is_err();
        }
        if let Some(flusher) = self.flusher.take() {
            thread_panicked |= flusher.join().is_err();
        }
        if let Some(acker) = self.acker.take() {
            thread_panicked |= acker.join().is_err();
        }
        if let Some(persister) = self.persister.take() {
            thread_panicked |= persister.join().is_err();
        }
        if let Some(extender) = self.extender.take() {
            thread_panicked |= extender.join().is_err();
        }
        let result = if let Some(reason) = self.shared.failure() {
            Err(LogError::Failed { reason })
        } else if thread_panicked {
            Err(LogError::Closed)
        } else {
            match &self.shared.db {
                Some(db) => db.flush().map(|_| ()).map_err(sled_error),
                None => Ok(()),
            }
        };
        self.shared.mark_closed();
        result
    }

    /// The error for a write that cannot be sent.
    fn not_writing(&self) -> LogError {
        if self.read_only {
            LogError::ReadOnly
        } else {
            LogError::Closed
        }
    }

    fn send(&self, message: WriterMsg) -> Result<(), LogError> {
        let sender = self.sender.as_ref().ok_or_else(|| self.not_writing())?;
        sender.send(message).map_err(|_| LogError::Closed)
    }

    /// Counters of the write pipeline since the log was opened.
    pub fn write_stats(&self) -> WriteStats {
        self.shared.stats.snapshot()
    }

    /// Whether appends are fsynced before they are acknowledged.
    pub fn fsync(&self) -> bool {
        self.fsync
    }
}

impl Drop for SegmentLog {
    fn drop(&mut self) {
        // Errors were already reported to the requests they affected; there is no one
        // left to tell.
        let _ = self.shutdown();
    }
}

impl EventLog for SegmentLog {
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, LogError> {
        validate_request(&request)?;
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(WriterMsg::Append {
            request,
            reply: AppendReply::Channel(reply),
        })?;
        answer.recv().map_err(|_| LogError::Closed)?
    }

    fn append_then(&self, request: AppendRequest, done: AppendCallback) {
        if let Err(error) = validate_request(&request) {
            return done(Err(error));
        }
        let Some(sender) = self.sender.as_ref() else {
            return done(Err(self.not_writing()));
        };
        let message = WriterMsg::Append {
            request,
            reply: AppendReply::Callback(done),
        };
        if let Err(mpsc::SendError(WriterMsg::Append { reply, .. })) = sender.send(message) {
            reply.send(Err(LogError::Closed));
        }
    }

    fn append_many(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendOutcome>, LogError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        for request in &requests {
            validate_request(request)?;
        }
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(WriterMsg::AppendMany { requests, reply })?;
        answer.recv().map_err(|_| LogError::Closed)?
    }

    fn command_outcome(&self, command_id: Uuid) -> Result<Option<AppendOutcome>, LogError> {
        self.shared.command_outcome(command_id)
    }

    fn read_stream(&self, stream: &StreamId, from: Version) -> Result<Vec<Envelope>, LogError> {
        self.shared.read_stream(stream, from)
    }

    fn stream_version(&self, stream: &StreamId) -> Result<Option<Version>, LogError> {
        self.shared.stream_version(stream)
    }

    fn read_all(&self, from: Position, limit: usize) -> Result<Vec<Envelope>, LogError> {
        self.shared.read_all(from.0, limit)
    }

    fn scan(
        &self,
        from: Position,
        to: Position,
        visit: &mut dyn FnMut(&Envelope) -> ControlFlow<()>,
    ) -> Result<u64, LogError> {
        self.shared.scan(from.0, to.0, visit)
    }

    fn scan_events(
        &self,
        from: Position,
        to: Position,
        visit: &mut dyn FnMut(EventRef<'_>) -> ControlFlow<()>,
    ) -> Result<u64, LogError> {
        self.shared.scan_events(from.0, to.0, visit)
    }

    fn head(&self) -> Result<Option<(Position, [u8; 32])>, LogError> {
        Ok(self
            .shared
            .durable_head()
            .map(|(position, hash)| (Position(position), hash)))
    }

    fn head_position(&self) -> Result<u64, LogError> {
        Ok(self.shared.durable_position())
    }

    fn subscribe(&self, from: Position) -> Subscription {
        Subscription::new(
            Box::new(SegmentSource {
                shared: Arc::clone(&self.shared),
            }),
            from,
        )
    }

    fn import(&self, envelopes: &[Envelope]) -> Result<(), LogError> {
        // Whether the first envelope continues the head is checked first, so that the
        // error names the first position that does not fit (the writer checks it again
        // against the head it writes after).
        if let Some(first) = envelopes.first() {
            let (head, head_hash) = self.shared.durable_head().unwrap_or((0, ZERO_HASH));
            let position = first.position.0;
            if position != head + 1 {
                return Err(LogError::Import {
                    position,
                    reason: format!(
                        "the log continues at position {}, but the import starts at {position}",
                        head + 1
                    ),
                });
            }
            if first.prev_hash != head_hash {
                return Err(LogError::Import {
                    position,
                    reason: "prev_hash does not match the hash of the log's head".into(),
                });
            }
        }
        let Some(batch) = ImportBatch::prepare(envelopes)? else {
            return Ok(());
        };
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(WriterMsg::Import { batch, reply })?;
        answer.recv().map_err(|_| LogError::Closed)?
    }

    fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError> {
        crate::verify::verify(&self.shared, progress)
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use uuid::Uuid;

    use super::*;
    use kui_log::{Actor, ExpectedVersion, Metadata, NewEvent, StreamAppend};

    fn open(dir: &tempfile::TempDir, acknowledge: Acknowledge) -> SegmentLog {
        let options = LogOptions {
            fsync: true,
            cache_capacity_bytes: 1 << 20,
            persist_every_events: 16_384,
            acknowledge,
        };
        SegmentLog::open(dir.path(), options).expect("open")
    }

    fn request(n: u128) -> AppendRequest {
        AppendRequest {
            command_id: None,
            streams: vec![StreamAppend {
                stream: StreamId::new("access-1").expect("valid id"),
                expected: ExpectedVersion::Any,
                events: vec![NewEvent {
                    event_id: Uuid::from_u128(n),
                    event_type: "CaseRead".into(),
                    schema_version: 1,
                    payload: b"{}".to_vec(),
                    metadata: Metadata {
                        actor: Actor {
                            staff_id: None,
                            role: "system".into(),
                            department: None,
                        },
                        command_id: None,
                        causation_id: None,
                        correlation_id: None,
                        occurred_at: DateTime::from_timestamp(1, 0).expect("in range"),
                        recorded_at: DateTime::from_timestamp(1, 0).expect("in range"),
                    },
                }],
            }],
        }
    }

    #[test]
    fn a_written_acknowledgement_does_not_wait_for_the_sync_and_readers_do() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = Arc::new(open(&dir, Acknowledge::Written));
        let held = log.shared.hold_syncs.lock().expect("not poisoned");
        // Answered while the sync is held up.
        for n in 1..=2_u64 {
            let (sender, answer) = mpsc::channel();
            log.append_then(
                request(u128::from(n)),
                Box::new(move |result| drop(sender.send(result.map(|outcome| outcome.first_position)))),
            );
            let answered = answer
                .recv_timeout(Duration::from_secs(10))
                .expect("answered before the sync");
            assert_eq!(answered.expect("appended").0, n);
        }
        // Readers see only synced events.
        assert_eq!(log.head_position().expect("head"), 0);
        drop(held);
        let deadline = Instant::now() + Duration::from_secs(10);
        while log.head_position().expect("head") < 2 {
            assert!(Instant::now() < deadline, "the sync never finished");
            std::thread::sleep(Duration::from_millis(1));
        }
        let events = log
            .read_stream(&StreamId::new("access-1").expect("valid id"), Version(1))
            .expect("read");
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn a_synced_acknowledgement_waits_for_the_sync() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = Arc::new(open(&dir, Acknowledge::Synced));
        let held = log.shared.hold_syncs.lock().expect("not poisoned");
        let (sender, answer) = mpsc::channel();
        log.append_then(
            request(1),
            Box::new(move |result| drop(sender.send(result.map(|outcome| outcome.first_position)))),
        );
        assert!(
            answer.recv_timeout(Duration::from_millis(200)).is_err(),
            "answered before the sync"
        );
        drop(held);
        let answered = answer
            .recv_timeout(Duration::from_secs(10))
            .expect("answered after the sync");
        assert_eq!(answered.expect("appended"), Position(1));
        assert_eq!(log.head_position().expect("head"), 1);
    }
}
