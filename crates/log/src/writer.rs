//! The write pipeline of [`crate::SledLog`]: a writer thread that turns pending requests
//! into group commits written to the segment file, a flusher thread that makes them
//! durable, an acker thread that answers them, a persister thread that writes the
//! derived data to sled, and an extender thread that keeps zeros written ahead of the
//! writer.
//!
//! See the module docs of [`crate::sled_log`] for the design and the guarantees.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use uuid::Uuid;

use crate::codec::{self, encode_frame, frame_len, ChunkBuilder, FrameFields};
use crate::error::LogError;
use crate::index::{Blocks, IndexEntry, INDEXED_KEY};
use crate::records::{Watermark, WatermarkWriter};
use crate::segment::{ChunkLoc, RecordWriter, SOFT_RECORD_BYTES};
use crate::sled_log::{Acknowledge, Shared, StatCounters};
use crate::types::{AppendOutcome, AppendRequest, Envelope, Metadata, NewEvent, Position, StreamId, Version};

/// Largest accepted payload.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;
/// Largest accepted event type, role, staff id or department, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;

/// At most this many requests go into one group.
const MAX_GROUP_MESSAGES: usize = 4096;
/// A group stops taking requests once it holds this many events.
const MAX_GROUP_EVENTS: usize = 16_384;
/// The writer forgets its cached stream versions beyond this many streams.
const MAX_CACHED_HEADS: usize = 1_000_000;
/// The segment file is extended with this many zero bytes at a time; a larger write is
/// its own extension.
const EXTEND_STEP: usize = 1024 * 1024;
/// The extender keeps at least this many zero bytes written ahead of the writer.
const EXTEND_AHEAD: u64 = 8 * 1024 * 1024;
/// How long the flusher waits for another group, after answering one, before it syncs
/// the acknowledgement watermark on its own: under load the next group's sync carries it.
const IDLE_SYNC: std::time::Duration = std::time::Duration::from_millis(20);

/// A request to the writer thread.
pub(crate) enum WriterMsg {
    Append {
        request: AppendRequest,
        reply: AppendReply,
    },
    /// Several requests, staged in order into one group; stops at the first failure.
    AppendMany {
        requests: Vec<AppendRequest>,
        reply: SyncSender<Result<Vec<AppendOutcome>, LogError>>,
    },
    Import {
        batch: ImportBatch,
        reply: SyncSender<Result<(), LogError>>,
    },
}

fn request_event_count(request: &AppendRequest) -> usize {
    request.streams.iter().map(|stream| stream.events.len()).sum()
}

impl WriterMsg {
    fn event_count(&self) -> usize {
        match self {
            WriterMsg::Append { request, .. } => request_event_count(request),
            WriterMsg::AppendMany { requests, .. } => requests.iter().map(request_event_count).sum(),
            WriterMsg::Import { batch, .. } => batch.items.len(),
        }
    }
}

/// Called with an append's answer, on a thread of the log.
pub type AppendCallback = Box<dyn FnOnce(Result<AppendOutcome, LogError>) + Send>;

/// Where an append's answer goes: to a requester blocked on a channel, or to a callback
/// (an async requester's waker).
pub(crate) enum AppendReply {
    Channel(SyncSender<Result<AppendOutcome, LogError>>),
    Callback(AppendCallback),
}

impl AppendReply {
    pub(crate) fn send(self, result: Result<AppendOutcome, LogError>) {
        match self {
            // A requester that gave up waiting is not an error of the log.
            AppendReply::Channel(sender) => drop(sender.send(result)),
            AppendReply::Callback(callback) => callback(result),
        }
    }
}

/// A request's answer, held back until its group is durable.
enum Completion {
    Append(AppendReply, Result<AppendOutcome, LogError>),
    AppendMany(
        SyncSender<Result<Vec<AppendOutcome>, LogError>>,
        Result<Vec<AppendOutcome>, LogError>,
    ),
    Import(SyncSender<Result<(), LogError>>, Result<(), LogError>),
}

impl Completion {
    fn send(self) {
        // A requester that gave up waiting is not an error of the log.
        match self {
            Completion::Append(reply, result) => reply.send(result),
            Completion::AppendMany(reply, result) => drop(reply.send(result)),
            Completion::Import(reply, result) => drop(reply.send(result)),
        }
    }

    fn fail(self, reason: &str) {
        let error = || LogError::Failed {
            reason: reason.to_owned(),
        };
        match self {
            Completion::Append(reply, _) => reply.send(Err(error())),
            Completion::AppendMany(reply, _) => drop(reply.send(Err(error()))),
            Completion::Import(reply, _) => drop(reply.send(Err(error()))),
        }
    }
}

/// Checks what can be checked without the log's state, in the caller's thread.
pub(crate) fn validate_request(request: &AppendRequest) -> Result<(), LogError> {
    if request.streams.is_empty() || request.streams.iter().any(|stream| stream.events.is_empty()) {
        return Err(LogError::EmptyAppend);
    }
    for stream in &request.streams {
        for event in &stream.events {
            validate_event(event)?;
        }
    }
    Ok(())
}

fn validate_event(event: &NewEvent) -> Result<(), LogError> {
    validate_event_parts(&event.event_id, &event.event_type, &event.metadata, event.payload.len())
}

fn validate_event_parts(
    event_id: &Uuid,
    event_type: &str,
    metadata: &Metadata,
    payload_len: usize,
) -> Result<(), LogError> {
    let invalid = |reason: String| LogError::InvalidEvent {
        event_id: *event_id,
        reason,
    };
    if event_type.is_empty() {
        return Err(invalid("event type is empty".into()));
    }
    let actor = &metadata.actor;
    let names = [
        ("event type", Some(event_type)),
        ("role", Some(actor.role.as_str())),
        ("staff id", actor.staff_id.as_deref()),
        ("department", actor.department.as_deref()),
    ];
    for (what, value) in names {
        if value.is_some_and(|value| value.len() > MAX_NAME_BYTES) {
            return Err(invalid(format!("{what} is longer than {MAX_NAME_BYTES} bytes")));
        }
    }
    if payload_len > MAX_PAYLOAD_BYTES {
        return Err(invalid(format!(
            "payload of {payload_len} bytes is larger than {MAX_PAYLOAD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// One envelope of an import, already encoded and hash-checked.
pub(crate) struct ImportItem {
    position: u64,
    stream: StreamId,
    version: u64,
    frame: Vec<u8>,
}

/// Envelopes to import, checked for internal consistency in the caller's thread; the
/// writer only checks that they continue the log.
pub(crate) struct ImportBatch {
    first_prev_hash: [u8; 32],
    last_hash: [u8; 32],
    items: Vec<ImportItem>,
}

impl ImportBatch {
    /// Re-encodes every envelope, recomputes its hash and checks positions and links
    /// inside the slice. `None` for an empty slice.
    pub(crate) fn prepare(envelopes: &[Envelope]) -> Result<Option<ImportBatch>, LogError> {
        let (Some(first), Some(last)) = (envelopes.first(), envelopes.last()) else {
            return Ok(None);
        };
        let mut items = Vec::with_capacity(envelopes.len());
        let mut previous: Option<&Envelope> = None;
        for envelope in envelopes {
            let position = envelope.position.0;
            let reject = |reason: String| LogError::Import { position, reason };
            if let Some(previous) = previous {
                if position != previous.position.0 + 1 {
                    return Err(reject(format!(
                        "positions must be consecutive, but {} is followed by {position}",
                        previous.position
                    )));
                }
                if envelope.prev_hash != previous.hash {
                    return Err(reject(
                        "prev_hash does not match the hash of the previous envelope".into(),
                    ));
                }
            }
            validate_event_parts(
                &envelope.event_id,
                &envelope.event_type,
                &envelope.metadata,
                envelope.payload.len(),
            )
            .map_err(|error| reject(error.to_string()))?;
            let fields = FrameFields::of_envelope(envelope);
            let mut frame = Vec::with_capacity(frame_len(&fields));
            let hash = encode_frame(&mut frame, &fields);
            if hash != envelope.hash {
                return Err(reject(
                    "hash does not match the hash recomputed from the envelope".into(),
                ));
            }
            items.push(ImportItem {
                position,
                stream: envelope.stream.clone(),
                version: envelope.version.0,
                frame,
            });
            previous = Some(envelope);
        }
        Ok(Some(ImportBatch {
            first_prev_hash: first.prev_hash,
            last_hash: last.hash,
            items,
        }))
    }
}

/// A written group waiting for the flusher.
struct AppliedGroup {
    completions: Vec<Completion>,
    /// The applied head after this group (None if it wrote nothing).
    head: Option<(u64, [u8; 32])>,
    /// The segment offset after this group's records.
    end_offset: u64,
}

#[derive(Default)]
struct FlushState {
    groups: Vec<AppliedGroup>,
    writer_done: bool,
}

/// Hands applied groups from the writer to the flusher.
///
/// The writer does not wait for the flusher: writing a group is one `pwrite`, so it
/// writes every group as soon as it is staged, and the flusher's next sync covers all
/// groups written before it starts (one fsync for all of them).
#[derive(Default)]
struct FlushQueue {
    state: Mutex<FlushState>,
    /// Signalled when a group is pushed or the writer stops.
    ready: Condvar,
}

impl FlushQueue {
    fn lock(&self) -> MutexGuard<'_, FlushState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, group: AppliedGroup) {
        self.lock().groups.push(group);
        self.ready.notify_one();
    }

    /// Blocks until there are groups to sync (at most `idle` when given); `Done` once
    /// the writer is gone and everything is taken.
    fn take(&self, idle: Option<std::time::Duration>) -> Taken {
        let deadline = idle.map(|idle| Instant::now() + idle);
        let mut state = self.lock();
        loop {
            if !state.groups.is_empty() {
                return Taken::Groups(std::mem::take(&mut state.groups));
            }
            if state.writer_done {
                return Taken::Done;
            }
            state = match deadline {
                None => self.ready.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner()),
                Some(deadline) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        return Taken::Idle;
                    }
                    self.ready
                        .wait_timeout(state, remaining)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0
                }
            };
        }
    }
}

/// What the flusher found waiting.
enum Taken {
    Groups(Vec<AppliedGroup>),
    /// Nothing arrived within the idle time.
    Idle,
    /// The writer is gone and every group was taken.
    Done,
}

impl FlushQueue {
    /// The groups waiting now, without blocking.
    fn take_ready(&self) -> Vec<AppliedGroup> {
        std::mem::take(&mut self.lock().groups)
    }
}

/// How long the flusher waits for more groups before a sync when the previous sync
/// covered several groups (concurrent appenders): the requesters just acknowledged are
/// still sending their next requests, and ~30 instead of ~20 events per sync more than
/// pay for the wait on the test machine (a sync takes 300-700 µs there).
/// A lone sequential appender (one group per sync) never waits.
const LINGER_MICROS: u64 = 100;

/// Tells the flusher the writer is gone, also when the writer panics.
struct WriterDoneGuard(Arc<FlushQueue>);

impl Drop for WriterDoneGuard {
    fn drop(&mut self) {
        self.0.lock().writer_done = true;
        self.0.ready.notify_one();
    }
}

/// How the flusher makes groups durable and where the writer writes.
pub(crate) struct FlushSettings {
    pub(crate) fsync: bool,
    /// When the writer answers appends.
    pub(crate) acknowledge: Acknowledge,
    /// The segment file, for the writer's positional writes.
    pub(crate) segment: File,
    /// The segment file again, for the flusher's `sync_data`.
    pub(crate) sync_handle: File,
    /// Writes the acknowledgement watermark, after each sync and before its answers.
    pub(crate) watermark: WatermarkWriter,
    /// Segment offset the next record goes to (the end of the last good record).
    pub(crate) end_offset: u64,
    /// Write the derived index data to sled after this many new events.
    pub(crate) persist_every: usize,
    /// The persisted chunk directory covers chunks up to this first position.
    pub(crate) persisted_chunks: u64,
}

/// The pipeline threads.
pub(crate) struct Threads {
    pub(crate) writer: JoinHandle<()>,
    pub(crate) flusher: JoinHandle<()>,
    pub(crate) acker: JoinHandle<()>,
    pub(crate) persister: JoinHandle<()>,
    pub(crate) extender: JoinHandle<()>,
}

/// Starts the writer and flusher threads; `head` is the recovered head of the log.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    receiver: Receiver<WriterMsg>,
    head: Option<(u64, [u8; 32])>,
    settings: FlushSettings,
) -> std::io::Result<Threads> {
    let queue = Arc::new(FlushQueue::default());
    let (acks, pending_acks) = mpsc::channel::<Vec<Completion>>();
    // Waking dozens of requesters one by one takes a while; a separate thread does it so
    // the flusher can start the next sync right away.
    let acker = std::thread::Builder::new()
        .name("kui-log-acker".into())
        .spawn(move || {
            while let Ok(completions) = pending_acks.recv() {
                for completion in completions {
                    completion.send();
                }
            }
        })?;
    let FlushSettings {
        fsync,
        acknowledge,
        segment,
        sync_handle,
        watermark,
        end_offset,
        persisted_chunks,
        persist_every,
    } = settings;

    let (persist_jobs, jobs) = mpsc::channel();
    let persist_in_flight = Arc::new(AtomicBool::new(false));
    let persister = Persister {
        shared: Arc::clone(&shared),
        segment: segment.try_clone()?,
        fsync,
        persisted_chunks,
        jobs,
        in_flight: Arc::clone(&persist_in_flight),
    };
    let persister = std::thread::Builder::new()
        .name("kui-log-persister".into())
        .spawn(move || persister.run())?;
    let extent = Arc::new(Extent {
        zeros_to: Mutex::new(end_offset),
        known: AtomicU64::new(end_offset),
        written_to: AtomicU64::new(end_offset),
        in_flight: AtomicBool::new(false),
    });
    let (extend_requests, requests) = mpsc::channel();
    let extender = Extender {
        shared: Arc::clone(&shared),
        segment: segment.try_clone()?,
        fsync,
        extent: Arc::clone(&extent),
        requests,
    };
    let extender = std::thread::Builder::new()
        .name("kui-log-extend".into())
        .spawn(move || extender.run())?;
    let flusher = Flusher {
        shared: Arc::clone(&shared),
        queue: Arc::clone(&queue),
        fsync,
        segment: sync_handle,
        acks,
        watermark,
    };
    let flusher = std::thread::Builder::new()
        .name("kui-log-flusher".into())
        .spawn(move || flusher.run())?;
    let writer = Writer {
        shared,
        receiver,
        queue,
        heads: HashMap::new(),
        next_position: head.map_or(1, |(position, _)| position + 1),
        last_hash: head.map_or(codec::ZERO_HASH, |(_, hash)| hash),
        segment,
        end_offset,
        extent,
        extend_requests: Some(extend_requests),
        persist_jobs: Some(persist_jobs),
        persist_in_flight,
        persist_every,
        acknowledge,
    };
    let writer = std::thread::Builder::new()
        .name("kui-log-writer".into())
        .spawn(move || writer.run())?;
    Ok(Threads {
        writer,
        flusher,
        acker,
        persister,
        extender,
    })
}

/// Owns all writes.
struct Writer {
    shared: Arc<Shared>,
    receiver: Receiver<WriterMsg>,
    queue: Arc<FlushQueue>,
    /// Applied (not necessarily durable) version of every stream seen so far.
    heads: HashMap<StreamId, u64>,
    /// Position the next event gets.
    next_position: u64,
    /// Hash of the last applied event.
    last_hash: [u8; 32],
    segment: File,
    /// Where the next record goes.
    end_offset: u64,
    /// The zeros after `end_offset`, shared with the extender.
    extent: Arc<Extent>,
    /// Requests to the extender thread (dropped when the writer stops).
    extend_requests: Option<Sender<()>>,
    /// Requests to the persister thread.
    persist_jobs: Option<Sender<PersistJob>>,
    /// Persist the derived data after this many new index entries.
    persist_every: usize,
    /// Whether a persist request is pending.
    persist_in_flight: Arc<AtomicBool>,
    /// When appends are answered.
    acknowledge: Acknowledge,
}

/// Asks the persister to write the derived data of positions up to `up_to` (the
/// segment holding them up to `end_offset`) to sled.
struct PersistJob {
    up_to: u64,
    end_offset: u64,
}

/// Writes the derived data (stream index, chunk directory, command outcomes) to sled,
/// off the write path.
struct Persister {
    shared: Arc<Shared>,
    segment: File,
    fsync: bool,
    /// The chunk directory in sled covers the chunks up to this first position.
    persisted_chunks: u64,
    jobs: Receiver<PersistJob>,
    in_flight: Arc<AtomicBool>,
}

impl Persister {
    fn run(mut self) {
        while let Ok(mut job) = self.jobs.recv() {
            // Only the newest request matters.
            while let Ok(newer) = self.jobs.try_recv() {
                job = newer;
            }
            if self.shared.failure().is_none() && self.shared.index.pending() > 0 {
                if let Err(error) = self.persist(&job) {
                    self.shared
                        .fail(format!("persisting the index data failed: {}", error_chain(&error)));
                }
            }
            self.in_flight.store(false, Ordering::Release);
        }
    }

    /// Writes the in-memory derived data up to `job.up_to` to sled, the `m:indexed` marker
    /// in the last batch, then forgets it from memory.
    fn persist(&mut self, job: &PersistJob) -> Result<(), LogError> {
        let Some(db) = self.shared.db.as_ref() else {
            return Ok(());
        };
        // The marker must never cover segment bytes that a power loss could take: sync
        // everything written so far first (one extra fsync per persist).
        if self.fsync {
            self.segment.sync_data().map_err(LogError::io)?;
        }
        // The stream index first, insert by insert: a batch would hold up every reader of
        // sled until all of it is applied. A crash before the marker's batch leaves blocks
        // that reads and the next persist recognise as stored.
        let mut blocks = Blocks::new();
        self.shared.index.stage_flush(db, &mut blocks, job.up_to)?;
        for (key, value) in blocks {
            db.insert(key, value)?;
        }
        let mut batch = sled::Batch::default();
        let last_chunk = self
            .shared
            .directory
            .stage_persist(self.persisted_chunks, job.up_to, &mut batch);
        let commands = self.shared.commands.stage_persist(&mut batch, job.up_to);
        let mut marker = [0u8; 16];
        marker[..8].copy_from_slice(&job.up_to.to_be_bytes());
        marker[8..].copy_from_slice(&job.end_offset.to_be_bytes());
        batch.insert(INDEXED_KEY, &marker);
        db.apply_batch(batch)?;
        self.shared.index.forget(job.up_to);
        self.shared.commands.forget(&commands)?;
        if let Some(last_chunk) = last_chunk {
            self.persisted_chunks = last_chunk;
        }
        Ok(())
    }
}

/// The state of one group commit being built.
struct Group {
    next_position: u64,
    last_hash: [u8; 32],
    /// Stream versions changed by this group.
    heads: HashMap<StreamId, u64>,
    /// Outcomes of command ids appended in this group.
    commands: HashMap<Uuid, AppendOutcome>,
    /// Command outcomes staged since the last chunk entry, written after it.
    pending_commands: Vec<Uuid>,
    /// The command outcomes written, with their place in the segment.
    command_locs: Vec<(Uuid, AppendOutcome, ChunkLoc)>,
    chunk: Option<ChunkBuilder>,
    /// Where every event of the group is, for the stream index.
    index: Vec<(StreamId, IndexEntry)>,
    /// Where every chunk of the group is, for the chunk directory.
    chunks: Vec<(u64, ChunkLoc)>,
    records: RecordWriter,
    completions: Vec<Completion>,
}

/// A staged group, ready to write.
struct FinishedGroup {
    /// The records, to write at the group's base offset.
    bytes: Vec<u8>,
    chunks: Vec<(u64, ChunkLoc)>,
    commands: Vec<(Uuid, AppendOutcome, ChunkLoc)>,
    completions: Vec<Completion>,
    next_position: u64,
    last_hash: [u8; 32],
    heads: HashMap<StreamId, u64>,
    index: Vec<(StreamId, IndexEntry)>,
}

impl Group {
    fn new(next_position: u64, last_hash: [u8; 32], base_offset: u64) -> Group {
        Group {
            next_position,
            last_hash,
            heads: HashMap::new(),
            commands: HashMap::new(),
            pending_commands: Vec::new(),
            command_locs: Vec::new(),
            chunk: None,
            index: Vec::new(),
            chunks: Vec::new(),
            records: RecordWriter::new(base_offset),
            completions: Vec::new(),
        }
    }

    /// The buffer to write the frame at `position` (of `len` bytes) into, and the first
    /// position of the chunk it goes into.
    fn start_frame(&mut self, position: u64, len: usize) -> (&mut Vec<u8>, u64) {
        if self.chunk.as_ref().is_some_and(|chunk| !chunk.fits(len)) {
            self.close_chunk();
        }
        let chunk = self.chunk.get_or_insert_with(|| ChunkBuilder::new(position));
        let chunk_first = chunk.first_position();
        (chunk.begin_frame(), chunk_first)
    }

    /// Moves the open chunk into the open record, followed by the command outcomes
    /// staged meanwhile (their events are all in this chunk or earlier ones).
    fn close_chunk(&mut self) {
        if let Some(chunk) = self.chunk.take() {
            let first = chunk.first_position();
            let loc = self.records.push_chunk(&chunk.finish());
            self.chunks.push((first, loc));
        }
        for command_id in std::mem::take(&mut self.pending_commands) {
            if let Some(outcome) = self.commands.remove(&command_id) {
                let loc = self.records.push_command(&command_id, &outcome);
                self.command_locs.push((command_id, outcome.clone(), loc));
                self.commands.insert(command_id, outcome);
            }
        }
    }

    /// Ends the open record once it is large; called between requests.
    fn cut_if_large(&mut self) {
        if self.records.open_record_len() >= SOFT_RECORD_BYTES {
            self.close_chunk();
            self.records.end_record();
        }
    }

    /// Ends the open record once it is large, inside a request: the record says that the
    /// request continues in the next one, so that recovery keeps the request only when
    /// all of it was written.
    fn cut_within_request(&mut self) {
        if self.records.open_record_len() >= SOFT_RECORD_BYTES {
            self.close_chunk();
            self.records.end_record_continued();
        }
    }

    fn push_event(&mut self, stream: &StreamId, version: u64, event: &NewEvent) {
        let position = self.next_position;
        let prev_hash = self.last_hash;
        let fields = FrameFields {
            position,
            stream: stream.as_str(),
            version,
            event_id: &event.event_id,
            event_type: &event.event_type,
            schema_version: event.schema_version,
            metadata: &event.metadata,
            payload: &event.payload,
            prev_hash: &prev_hash,
        };
        let (buffer, chunk_first) = self.start_frame(position, frame_len(&fields));
        self.last_hash = encode_frame(buffer, &fields);
        self.index.push((
            stream.clone(),
            IndexEntry {
                version,
                position,
                chunk_first,
            },
        ));
        self.next_position += 1;
    }

    fn push_frame(&mut self, item: &ImportItem) {
        let (buffer, chunk_first) = self.start_frame(item.position, item.frame.len());
        buffer.extend_from_slice(&item.frame);
        let entry = IndexEntry {
            version: item.version,
            position: item.position,
            chunk_first,
        };
        self.index.push((item.stream.clone(), entry));
        self.next_position += 1;
    }

    /// Closes the last chunk and record.
    fn finish(mut self) -> FinishedGroup {
        self.close_chunk();
        FinishedGroup {
            bytes: self.records.finish(),
            chunks: self.chunks,
            commands: self.command_locs,
            completions: self.completions,
            next_position: self.next_position,
            last_hash: self.last_hash,
            heads: self.heads,
            index: self.index,
        }
    }
}

impl Writer {
    fn run(mut self) {
        let _done = WriterDoneGuard(Arc::clone(&self.queue));
        while let Ok(first) = self.receiver.recv() {
            let mut n_events = first.event_count();
            let mut messages = vec![first];
            while messages.len() < MAX_GROUP_MESSAGES && n_events < MAX_GROUP_EVENTS {
                match self.receiver.try_recv() {
                    Ok(message) => {
                        n_events += message.event_count();
                        messages.push(message);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(messages);
        }
        // Closing: leave complete derived data behind so the next open reads nothing
        // from the segment.
        self.send_persist_job();
        self.persist_jobs = None;
        self.extend_requests = None;
    }

    fn commit_group(&mut self, messages: Vec<WriterMsg>) {
        let mut group = Group::new(self.next_position, self.last_hash, self.end_offset);
        if let Some(reason) = self.shared.failure() {
            let error = || LogError::Failed { reason: reason.clone() };
            for message in messages {
                // A requester that gave up waiting is not an error of the log.
                match message {
                    WriterMsg::Append { reply, .. } => reply.send(Err(error())),
                    WriterMsg::AppendMany { reply, .. } => drop(reply.send(Err(error()))),
                    WriterMsg::Import { reply, .. } => drop(reply.send(Err(error()))),
                }
            }
            return;
        }
        for message in messages {
            let completion = match message {
                WriterMsg::Append { request, reply } => {
                    Completion::Append(reply, self.stage_append(&mut group, request))
                }
                WriterMsg::AppendMany { requests, reply } => {
                    let mut outcomes = Vec::with_capacity(requests.len());
                    let mut result = Ok(());
                    for request in requests {
                        match self.stage_append(&mut group, request) {
                            Ok(outcome) => outcomes.push(outcome),
                            Err(error) => {
                                result = Err(error);
                                break;
                            }
                        }
                        // Between requests, so every request stays within one batch.
                        group.cut_if_large();
                    }
                    Completion::AppendMany(reply, result.map(|()| outcomes))
                }
                WriterMsg::Import { batch, reply } => Completion::Import(reply, self.stage_import(&mut group, &batch)),
            };
            group.completions.push(completion);
            group.cut_if_large();
        }
        let FinishedGroup {
            bytes,
            chunks,
            commands,
            completions,
            next_position,
            last_hash,
            heads,
            index,
        } = group.finish();
        let wrote = next_position != self.next_position;
        let started = Instant::now();
        if !bytes.is_empty() {
            let written = self
                .preallocate(bytes.len())
                .and_then(|()| self.segment.write_all_at(&bytes, self.end_offset));
            if let Err(error) = written {
                let reason = format!("writing a group commit to the segment failed: {error}");
                self.shared.fail(reason.clone());
                for completion in completions {
                    completion.fail(&reason);
                }
                return;
            }
            self.end_offset += bytes.len() as u64;
            self.extend_ahead();
        }
        let stats = &self.shared.stats;
        StatCounters::add(&stats.apply_micros, elapsed_micros(started));
        StatCounters::add(&stats.groups, 1);
        StatCounters::add(&stats.events, next_position - self.next_position);
        // Readers must find the new events in the index, the chunk directory and the
        // command table before they become durable.
        self.shared.index.record(&index);
        self.shared.directory.record(&chunks);
        if !commands.is_empty() {
            self.shared.commands.record(commands);
        }
        if self.heads.len() > MAX_CACHED_HEADS {
            // Bound memory with very many streams; heads reload lazily from the index.
            self.heads.clear();
        }
        self.heads.extend(heads);
        self.next_position = next_position;
        self.last_hash = last_hash;
        let head = wrote.then_some((next_position - 1, last_hash));
        let completions = match self.acknowledge {
            Acknowledge::Synced => completions,
            Acknowledge::Written => {
                // Answered now; the flusher still syncs the group, moves the watermark
                // and shows the group to readers.
                for completion in completions {
                    completion.send();
                }
                Vec::new()
            }
        };
        self.queue.push(AppliedGroup {
            completions,
            head,
            end_offset: self.end_offset,
        });
        // Persisting the derived data overlaps with the flusher's sync of the group just
        // pushed.
        if self.shared.index.pending() >= self.persist_every {
            self.request_persist();
        }
    }

    /// Makes sure the next `len` bytes overwrite zeros already in the file (unless they
    /// are a large write of their own): `fdatasync` of a write that does not change the
    /// file's size does not have to commit inode metadata, which makes it about twice as
    /// fast on ext4. The zeros are written (not `fallocate`d: converting unwritten
    /// extents costs a journal commit too). The extender normally has them in place
    /// already; only when it falls behind does the writer extend the file itself.
    fn preallocate(&mut self, len: usize) -> std::io::Result<()> {
        let end = self.end_offset + len as u64;
        if end <= self.extent.known.load(Ordering::Acquire) {
            return Ok(());
        }
        // Waits while the extender is writing zeros, which may be where this write goes.
        let mut zeros_to = self.extent.lock();
        if end > *zeros_to {
            let to = if len >= EXTEND_STEP {
                end
            } else {
                let from = (*zeros_to).max(self.end_offset);
                let to = end + EXTEND_STEP as u64;
                let zeros = vec![0u8; usize::try_from(to - from).unwrap_or(2 * EXTEND_STEP)];
                self.segment.write_all_at(&zeros, from)?;
                StatCounters::add(&self.shared.stats.writer_extensions, 1);
                to
            };
            *zeros_to = to;
            self.extent.known.store(to, Ordering::Release);
        }
        Ok(())
    }

    /// Asks the extender for more zeros when fewer than [`EXTEND_AHEAD`] bytes are left,
    /// unless it is still busy with the previous request.
    fn extend_ahead(&mut self) {
        self.extent.written_to.store(self.end_offset, Ordering::Release);
        if self.extent.known.load(Ordering::Acquire) >= self.end_offset + EXTEND_AHEAD
            || self.extent.in_flight.swap(true, Ordering::AcqRel)
        {
            return;
        }
        if let Some(requests) = &self.extend_requests {
            if requests.send(()).is_err() {
                self.extent.in_flight.store(false, Ordering::Release);
            }
        }
    }

    /// Asks the persister to write the derived data up to the current head, unless it
    /// is still busy with the previous request.
    fn request_persist(&mut self) {
        if self.persist_in_flight.swap(true, Ordering::AcqRel) {
            return;
        }
        self.send_persist_job();
    }

    fn send_persist_job(&mut self) {
        let job = PersistJob {
            up_to: self.next_position - 1,
            end_offset: self.end_offset,
        };
        if let Some(jobs) = &self.persist_jobs {
            // The persister only stops after the writer.
            let _ = jobs.send(job);
        }
    }

    /// The applied version of `stream`: this group's, else cached, else from the index.
    fn current_version(&mut self, group: &Group, stream: &StreamId) -> Result<u64, LogError> {
        if let Some(version) = group.heads.get(stream) {
            return Ok(*version);
        }
        if let Some(version) = self.heads.get(stream) {
            return Ok(*version);
        }
        let version = self
            .shared
            .index
            .last_version(self.shared.db.as_ref(), stream, u64::MAX)?
            .unwrap_or(0);
        self.heads.insert(stream.clone(), version);
        Ok(version)
    }

    fn stage_append(&mut self, group: &mut Group, request: AppendRequest) -> Result<AppendOutcome, LogError> {
        if let Some(command_id) = request.command_id {
            if let Some(outcome) = group.commands.get(&command_id) {
                return Ok(AppendOutcome {
                    replayed: true,
                    ..outcome.clone()
                });
            }
            if let Some(outcome) = self.shared.commands.get(&self.shared.segment, &command_id)? {
                return Ok(AppendOutcome {
                    replayed: true,
                    ..outcome
                });
            }
        }
        // Check every stream before writing anything; a stream named twice sees its
        // earlier entry's events.
        let mut planned: Vec<(&StreamId, u64)> = Vec::with_capacity(request.streams.len());
        for stream_append in &request.streams {
            let stream = &stream_append.stream;
            let current = match planned.iter().rev().find(|(name, _)| *name == stream) {
                Some((_, version)) => *version,
                None => self.current_version(group, stream)?,
            };
            if !stream_append.expected.accepts(current) {
                return Err(LogError::Conflict {
                    stream: stream.clone(),
                    expected: stream_append.expected,
                    actual: (current > 0).then_some(Version(current)),
                });
            }
            planned.push((stream, current + stream_append.events.len() as u64));
        }
        let first_position = group.next_position;
        let mut versions = Vec::with_capacity(request.streams.len());
        for stream_append in &request.streams {
            let stream = &stream_append.stream;
            let base = match group.heads.get(stream) {
                Some(version) => *version,
                None => self.current_version(group, stream)?,
            };
            for (index, event) in stream_append.events.iter().enumerate() {
                group.push_event(stream, base + 1 + index as u64, event);
                group.cut_within_request();
            }
            let new_version = base + stream_append.events.len() as u64;
            group.heads.insert(stream.clone(), new_version);
            versions.push((stream.clone(), Version(new_version)));
        }
        let outcome = AppendOutcome {
            first_position: Position(first_position),
            last_position: Position(group.next_position - 1),
            streams: versions,
            replayed: false,
        };
        if let Some(command_id) = request.command_id {
            group.pending_commands.push(command_id);
            group.commands.insert(command_id, outcome.clone());
        }
        Ok(outcome)
    }

    fn stage_import(&mut self, group: &mut Group, batch: &ImportBatch) -> Result<(), LogError> {
        let Some(first) = batch.items.first() else {
            return Ok(());
        };
        let reject = |position: u64, reason: String| LogError::Import { position, reason };
        if first.position != group.next_position {
            return Err(reject(
                first.position,
                format!(
                    "the log continues at position {}, but the import starts at {}",
                    group.next_position, first.position
                ),
            ));
        }
        if batch.first_prev_hash != group.last_hash {
            return Err(reject(
                first.position,
                "prev_hash does not match the hash of the log's head".into(),
            ));
        }
        let mut planned: HashMap<&StreamId, u64> = HashMap::new();
        for item in &batch.items {
            let current = match planned.get(&item.stream) {
                Some(version) => *version,
                None => self.current_version(group, &item.stream)?,
            };
            if item.version != current + 1 {
                return Err(reject(
                    item.position,
                    format!(
                        "stream {} is at version {current}, so the next version is {}, not {}",
                        item.stream,
                        current + 1,
                        item.version
                    ),
                ));
            }
            planned.insert(&item.stream, item.version);
        }
        for item in &batch.items {
            group.push_frame(item);
            // An import is one request: split into records that say it continues, it
            // stays all-or-nothing after a crash.
            group.cut_within_request();
        }
        for (stream, version) in planned {
            group.heads.insert(stream.clone(), version);
        }
        group.last_hash = batch.last_hash;
        Ok(())
    }
}

fn elapsed_micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// An error's message followed by its sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Makes applied groups durable and answers their requests.
/// The zeros written ahead of the writer: the writer overwrites them, the extender adds
/// more. Nothing but the writer's records and these zeros is ever written past the end
/// of the last record, and only while holding `zeros_to`.
struct Extent {
    /// The segment holds records or zeros up to this offset.
    zeros_to: Mutex<u64>,
    /// `zeros_to` as last published, for the writer's check without the lock.
    known: AtomicU64,
    /// The end of the writer's last record.
    written_to: AtomicU64,
    /// Whether an extension request is pending.
    in_flight: AtomicBool,
}

impl Extent {
    fn lock(&self) -> MutexGuard<'_, u64> {
        self.zeros_to.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Writes zeros ahead of the writer, a step at a time, and syncs each step, so that
/// neither the writer's writes nor the flusher's syncs pay for extending the file (a sync
/// that overlaps one of these waits for one step's zeros at most).
struct Extender {
    shared: Arc<Shared>,
    segment: File,
    fsync: bool,
    extent: Arc<Extent>,
    /// The writer asks for more zeros.
    requests: Receiver<()>,
}

impl Extender {
    fn run(self) {
        let zeros = vec![0u8; EXTEND_STEP];
        while self.requests.recv().is_ok() {
            while self.shared.failure().is_none()
                && self.extent.known.load(Ordering::Acquire)
                    < self.extent.written_to.load(Ordering::Acquire) + EXTEND_AHEAD
                && self.step(&zeros)
            {}
            self.extent.in_flight.store(false, Ordering::Release);
        }
    }

    /// Writes one step of zeros and syncs it; false if that failed.
    fn step(&self, zeros: &[u8]) -> bool {
        {
            let mut zeros_to = self.extent.lock();
            // A failed write (a full disk, say) leaves the extension to the writer, whose
            // own write then fails its group properly. Zeros past the last record are
            // harmless: the next open ignores them.
            if self.segment.write_all_at(zeros, *zeros_to).is_err() {
                return false;
            }
            *zeros_to += zeros.len() as u64;
            self.extent.known.store(*zeros_to, Ordering::Release);
        }
        StatCounters::add(&self.shared.stats.extensions, 1);
        // The file shares its error state with the flusher's: a failed sync here is a
        // failed sync of the log.
        if self.fsync {
            if let Err(error) = self.segment.sync_data() {
                self.shared.fail(format!("fsync of the segment file failed: {error}"));
                return false;
            }
        }
        true
    }
}

struct Flusher {
    shared: Arc<Shared>,
    queue: Arc<FlushQueue>,
    fsync: bool,
    segment: File,
    /// Answers go to the acker thread.
    acks: Sender<Vec<Completion>>,
    /// The acknowledgement watermark: the end of the synced records, written after each
    /// sync and before its answers.
    watermark: WatermarkWriter,
}

impl Flusher {
    fn run(mut self) {
        let mut previous_groups = 0;
        // Whether a watermark was written since the last sync.
        let mut watermark_unsynced = false;
        loop {
            let idle = (watermark_unsynced && self.fsync).then_some(IDLE_SYNC);
            let mut groups = match self.queue.take(idle) {
                Taken::Groups(groups) => groups,
                Taken::Idle => {
                    // Nothing followed the last answered group: make its watermark durable.
                    if let Err(reason) = self.make_durable() {
                        self.shared.fail(reason);
                    }
                    watermark_unsynced = false;
                    continue;
                }
                Taken::Done => break,
            };
            if self.fsync && previous_groups > 1 {
                std::thread::sleep(std::time::Duration::from_micros(LINGER_MICROS));
                groups.extend(self.queue.take_ready());
            }
            previous_groups = groups.len();
            // Every group taken here was applied before this sync starts, so the sync
            // covers all of them.
            let synced = match self.shared.failure() {
                Some(reason) => Err(reason),
                None => self.make_durable(),
            };
            let head = groups.iter().rev().find_map(|group| group.head);
            let end_offset = groups.iter().map(|group| group.end_offset).max().unwrap_or(0);
            let synced = synced.and_then(|()| {
                watermark_unsynced = false;
                match head {
                    Some((position, hash)) => {
                        watermark_unsynced = true;
                        self.watermark
                            .write(Watermark {
                                offset: end_offset,
                                position,
                                hash,
                            })
                            .map_err(|error| format!("writing the acknowledgement watermark failed: {error}"))
                    }
                    None => Ok(()),
                }
            });
            match synced {
                Ok(()) => {
                    if let Some(head) = head {
                        self.shared.set_durable(head, end_offset);
                    }
                    let completions = groups.into_iter().flat_map(|group| group.completions).collect();
                    // The acker only stops after the flusher, so this cannot fail.
                    let _ = self.acks.send(completions);
                }
                Err(reason) => {
                    self.shared.fail(reason.clone());
                    for group in groups {
                        for completion in group.completions {
                            completion.fail(&reason);
                        }
                    }
                }
            }
        }
        if watermark_unsynced && self.shared.failure().is_none() {
            if let Err(reason) = self.make_durable() {
                self.shared.fail(reason);
            }
        }
    }

    fn make_durable(&mut self) -> Result<(), String> {
        if !self.fsync {
            return Ok(());
        }
        let started = Instant::now();
        #[cfg(test)]
        let _held = self.shared.hold_syncs.lock();
        self.segment
            .sync_data()
            .map_err(|error| format!("fsync of the segment file failed: {error}"))?;
        let stats = &self.shared.stats;
        StatCounters::add(&stats.sync_micros, elapsed_micros(started));
        StatCounters::add(&stats.syncs, 1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::codec::blank_envelope;
    use crate::{EventLog, LogOptions, SledLog};

    /// A correctly hashed envelope continuing `previous`.
    fn envelope(position: u64, stream: &str, version: u64, previous: Option<&Envelope>) -> Envelope {
        let mut envelope = blank_envelope();
        envelope.position = Position(position);
        envelope.stream = StreamId::new(stream).expect("valid id");
        envelope.version = Version(version);
        envelope.event_id = Uuid::from_u128(u128::from(position));
        envelope.event_type = "X".into();
        envelope.payload = b"{}".to_vec();
        envelope.metadata.occurred_at = DateTime::from_timestamp(1, 0).expect("in range");
        envelope.prev_hash = previous.map_or(codec::ZERO_HASH, |previous| previous.hash);
        envelope.hash = encode_frame(&mut Vec::new(), &FrameFields::of_envelope(&envelope));
        envelope
    }

    fn open(dir: &tempfile::TempDir) -> SledLog {
        let options = LogOptions {
            fsync: false,
            cache_capacity_bytes: 1 << 20,
            persist_every_events: 16_384,
            acknowledge: crate::Acknowledge::Synced,
        };
        SledLog::open(dir.path(), options).expect("open")
    }

    /// Waits (at most ten seconds) until `done` holds.
    fn eventually(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting: {what}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn zeros_are_kept_ahead_of_the_writer_so_small_writes_never_extend_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let segment = dir.path().join("events.seg");
        let log = open(&dir);
        let mut previous = envelope(1, "s", 1, None);
        log.import(std::slice::from_ref(&previous)).expect("import");
        // The first write found no zeros and extended the file itself; the extender
        // then fills up to EXTEND_AHEAD past the data, in steps.
        assert_eq!(log.write_stats().writer_extensions, 1);
        eventually("zeros ahead", || {
            std::fs::metadata(&segment).map_or(0, |m| m.len()) >= EXTEND_AHEAD
        });
        for position in 2..=300 {
            let next = envelope(position, "s", position, Some(&previous));
            log.import(std::slice::from_ref(&next)).expect("import");
            previous = next;
        }
        let stats = log.write_stats();
        assert_eq!(stats.writer_extensions, 1, "later writes overwrite zeros: {stats:?}");
        assert!(stats.extensions >= EXTEND_AHEAD / EXTEND_STEP as u64, "{stats:?}");

        let last = previous.clone();
        log.close().expect("close");

        // The zeros past the last record are not events: the log reopens with all 300,
        // its chain intact, and goes on where it stopped.
        let log = open(&dir);
        assert_eq!(log.head().expect("head"), Some((Position(300), last.hash)));
        let report = log.verify(&mut |_| {}).expect("verify");
        assert_eq!(report.events, 300);
        log.import(&[envelope(301, "s", 301, Some(&last))]).expect("import");
        assert_eq!(log.read_all(Position(1), 1000).expect("read").len(), 301);
    }

    #[test]
    fn import_accepts_correctly_chained_envelopes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = open(&dir);
        let first = envelope(1, "s", 1, None);
        let second = envelope(2, "t", 1, Some(&first));
        let third = envelope(3, "s", 2, Some(&second));
        log.import(&[first, second, third.clone()]).expect("import");
        assert_eq!(log.head().expect("head"), Some((Position(3), third.hash)));
        assert_eq!(log.stream_version(&third.stream).expect("version"), Some(Version(2)));
    }

    #[test]
    fn import_rejects_a_version_gap_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = open(&dir);
        let first = envelope(1, "s", 1, None);
        let skipping = envelope(2, "s", 3, Some(&first));
        match log.import(&[first.clone(), skipping]) {
            Err(LogError::Import { position: 2, reason }) => assert!(reason.contains("version"), "{reason}"),
            other => panic!("expected an import error at 2, got {other:?}"),
        }
        let not_first = envelope(1, "s", 2, None);
        assert!(matches!(
            log.import(&[not_first]),
            Err(LogError::Import { position: 1, .. })
        ));
        assert_eq!(log.head().expect("head"), None);
        // A version that continues a stream already in the log is fine.
        log.import(std::slice::from_ref(&first)).expect("import");
        log.import(&[envelope(2, "s", 2, Some(&first))]).expect("import");
    }

    #[test]
    fn validation_rejects_empty_requests_and_oversized_names() {
        let empty = AppendRequest {
            command_id: None,
            streams: vec![],
        };
        assert!(matches!(validate_request(&empty), Err(LogError::EmptyAppend)));
        let mut metadata = blank_envelope().metadata;
        metadata.actor.department = Some("d".repeat(MAX_NAME_BYTES + 1));
        let result = validate_event_parts(&Uuid::nil(), "X", &metadata, 0);
        assert!(matches!(result, Err(LogError::InvalidEvent { .. })));
    }
}
