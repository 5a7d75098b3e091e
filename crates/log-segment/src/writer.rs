//! The writer thread of [`crate::SegmentLog`]: it takes every pending request into a
//! group, checks expected versions and command ids, assigns positions, computes the hash
//! chain, encodes the group's records and writes them with one positional write at the
//! end of the segment, then hands the group to the flusher (module `flusher`).
//!
//! See the module docs of [`crate::segment_log`] for the design and the guarantees.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use kui_log::{
    AppendCallback, AppendOutcome, AppendRequest, Envelope, LogError, NewEvent, Position, StreamId, Version,
};
use uuid::Uuid;

use crate::codec::{encode_frame, frame_len, ChunkBuilder, FrameFields};
use crate::extender::{Extent, EXTEND_AHEAD, EXTEND_STEP};
use crate::flusher::{AppliedGroup, FlushQueue, WriterDoneGuard};
use crate::index::IndexEntry;
use crate::persister::PersistJob;
use crate::pipeline::elapsed_micros;
use crate::segment::{ChunkLoc, RecordWriter, SOFT_RECORD_BYTES};
use crate::segment_log::{Acknowledge, Shared, StatCounters};

/// At most this many requests go into one group.
pub(crate) const MAX_GROUP_MESSAGES: usize = 4096;

/// A group stops taking requests once it holds this many events.
pub(crate) const MAX_GROUP_EVENTS: usize = 16_384;

/// The writer forgets its cached stream versions beyond this many streams.
pub(crate) const MAX_CACHED_HEADS: usize = 1_000_000;

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

pub(crate) fn request_event_count(request: &AppendRequest) -> usize {
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
pub(crate) enum Completion {
    Append(AppendReply, Result<AppendOutcome, LogError>),
    AppendMany(
        SyncSender<Result<Vec<AppendOutcome>, LogError>>,
        Result<Vec<AppendOutcome>, LogError>,
    ),
    Import(SyncSender<Result<(), LogError>>, Result<(), LogError>),
}

impl Completion {
    pub(crate) fn send(self) {
        // A requester that gave up waiting is not an error of the log.
        match self {
            Completion::Append(reply, result) => reply.send(result),
            Completion::AppendMany(reply, result) => drop(reply.send(result)),
            Completion::Import(reply, result) => drop(reply.send(result)),
        }
    }

    pub(crate) fn fail(self, reason: &str) {
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

/// One envelope of an import, already encoded and hash-checked.
pub(crate) struct ImportItem {
    pub(crate) position: u64,
    pub(crate) stream: StreamId,
    pub(crate) version: u64,
    pub(crate) frame: Vec<u8>,
}

/// Envelopes to import, checked for internal consistency in the caller's thread; the
/// writer only checks that they continue the log.
pub(crate) struct ImportBatch {
    pub(crate) first_prev_hash: [u8; 32],
    pub(crate) last_hash: [u8; 32],
    pub(crate) items: Vec<ImportItem>,
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
            kui_log::validate_envelope(envelope).map_err(|error| reject(error.to_string()))?;
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

/// Owns all writes.
pub(crate) struct Writer {
    pub(crate) shared: Arc<Shared>,
    pub(crate) receiver: Receiver<WriterMsg>,
    pub(crate) queue: Arc<FlushQueue>,
    /// Applied (not necessarily durable) version of every stream seen so far.
    pub(crate) heads: HashMap<StreamId, u64>,
    /// Position the next event gets.
    pub(crate) next_position: u64,
    /// Hash of the last applied event.
    pub(crate) last_hash: [u8; 32],
    pub(crate) segment: File,
    /// Where the next record goes.
    pub(crate) end_offset: u64,
    /// The zeros after `end_offset`, shared with the extender.
    pub(crate) extent: Arc<Extent>,
    /// Requests to the extender thread (dropped when the writer stops).
    pub(crate) extend_requests: Option<Sender<()>>,
    /// Requests to the persister thread.
    pub(crate) persist_jobs: Option<Sender<PersistJob>>,
    /// Persist the derived data after this many new index entries.
    pub(crate) persist_every: usize,
    /// Whether a persist request is pending.
    pub(crate) persist_in_flight: Arc<AtomicBool>,
    /// When appends are answered.
    pub(crate) acknowledge: Acknowledge,
}

/// The state of one group commit being built.
pub(crate) struct Group {
    pub(crate) next_position: u64,
    pub(crate) last_hash: [u8; 32],
    /// Stream versions changed by this group.
    pub(crate) heads: HashMap<StreamId, u64>,
    /// Outcomes of command ids appended in this group.
    pub(crate) commands: HashMap<Uuid, AppendOutcome>,
    /// Command outcomes staged since the last chunk entry, written after it.
    pub(crate) pending_commands: Vec<Uuid>,
    /// The command outcomes written, with their place in the segment.
    pub(crate) command_locs: Vec<(Uuid, AppendOutcome, ChunkLoc)>,
    pub(crate) chunk: Option<ChunkBuilder>,
    /// Where every event of the group is, for the stream index.
    pub(crate) index: Vec<(StreamId, IndexEntry)>,
    /// Where every chunk of the group is, for the chunk directory.
    pub(crate) chunks: Vec<(u64, ChunkLoc)>,
    pub(crate) records: RecordWriter,
    pub(crate) completions: Vec<Completion>,
}

/// A staged group, ready to write.
pub(crate) struct FinishedGroup {
    /// The records, to write at the group's base offset.
    pub(crate) bytes: Vec<u8>,
    pub(crate) chunks: Vec<(u64, ChunkLoc)>,
    pub(crate) commands: Vec<(Uuid, AppendOutcome, ChunkLoc)>,
    pub(crate) completions: Vec<Completion>,
    pub(crate) next_position: u64,
    pub(crate) last_hash: [u8; 32],
    pub(crate) heads: HashMap<StreamId, u64>,
    pub(crate) index: Vec<(StreamId, IndexEntry)>,
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
    pub(crate) fn run(mut self) {
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

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::codec::blank_envelope;
    use crate::{LogOptions, SegmentLog};
    use kui_log::EventLog;

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
        envelope.prev_hash = previous.map_or(crate::codec::ZERO_HASH, |previous| previous.hash);
        envelope.hash = encode_frame(&mut Vec::new(), &FrameFields::of_envelope(&envelope));
        envelope
    }

    fn open(dir: &tempfile::TempDir) -> SegmentLog {
        let options = LogOptions {
            fsync: false,
            cache_capacity_bytes: 1 << 20,
            persist_every_events: 16_384,
            acknowledge: crate::Acknowledge::Synced,
        };
        SegmentLog::open(dir.path(), options).expect("open")
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
}
