//! The `EventLog` trait: what the engine and the projections need from a log, and what
//! every backend provides (the conformance suite in [`crate::contract`] says how).

use std::ops::ControlFlow;

use uuid::Uuid;

use crate::error::LogError;
use crate::subscription::Subscription;
use crate::types::{AppendOutcome, AppendRequest, Envelope, EventRef, Position, StreamId, VerifyReport, Version};

/// Called with an append's answer, on a thread of the log.
pub type AppendCallback = Box<dyn FnOnce(Result<AppendOutcome, LogError>) + Send>;

/// An append-only, hash-chained event log.
///
/// Every read shows only durable events: an event becomes visible to the reads, `head`,
/// subscriptions and `command_outcome` when the append that wrote it is acknowledged,
/// never before.
pub trait EventLog: Send + Sync {
    /// Atomic, all-or-nothing append to one or several streams; durable before it
    /// returns.
    ///
    /// Fails with [`LogError::Conflict`] (nothing written) when a stream is not at its
    /// expected version, and returns the stored first outcome with `replayed: true`
    /// (nothing written) when the command id was appended before.
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, LogError>;

    /// Like [`EventLog::append`], without blocking: `done` gets the same answer once the
    /// append is durable (or has failed), on a thread of the log, so it must return
    /// quickly (wake a task, send on a channel). For async callers, which would
    /// otherwise hold a thread for the length of a sync.
    ///
    /// The default answers in the caller's thread, after a blocking append.
    fn append_then(&self, request: AppendRequest, done: AppendCallback) {
        done(self.append(request));
    }

    /// Appends several requests in order, for bulk loading: each request is atomic and
    /// checked exactly like [`EventLog::append`], and the whole call is durable before
    /// it returns.
    ///
    /// Returns the outcomes in request order.
    /// Not atomic across requests: on the first failing request the call returns its
    /// error; the requests before it are written, the ones after it are not.
    fn append_many(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendOutcome>, LogError> {
        requests.into_iter().map(|request| self.append(request)).collect()
    }

    /// The stored outcome of an earlier command, if this command id was already
    /// appended (as first returned, so `replayed` is false).
    fn command_outcome(&self, command_id: Uuid) -> Result<Option<AppendOutcome>, LogError>;

    /// Events of one stream with version >= `from`, in version order.
    fn read_stream(&self, stream: &StreamId, from: Version) -> Result<Vec<Envelope>, LogError>;

    /// Current version of a stream (None if it has no events).
    fn stream_version(&self, stream: &StreamId) -> Result<Option<Version>, LogError>;

    /// Visits the durable events with `from <= position <= to`, in position order,
    /// without collecting them, until `visit` breaks; returns how many were visited.
    ///
    /// The envelope passed to `visit` may be reused between calls (clone it to keep it).
    /// Events appended while the scan runs may or may not be visited.
    /// A caller with errors of its own uses [`try_scan`].
    fn scan(
        &self,
        from: Position,
        to: Position,
        visit: &mut dyn FnMut(&Envelope) -> ControlFlow<()>,
    ) -> Result<u64, LogError>;

    /// Like [`EventLog::scan`], but visits only what a fold reads (position, type,
    /// schema version, business time, payload), borrowed from storage where the backend
    /// can: the fast path for rebuilding read models. See [`try_scan_events`].
    fn scan_events(
        &self,
        from: Position,
        to: Position,
        visit: &mut dyn FnMut(EventRef<'_>) -> ControlFlow<()>,
    ) -> Result<u64, LogError>;

    /// Up to `limit` durable events with position >= `from`, in position order.
    fn read_all(&self, from: Position, limit: usize) -> Result<Vec<Envelope>, LogError> {
        let mut envelopes = Vec::new();
        if limit == 0 {
            return Ok(envelopes);
        }
        self.scan(from, Position(u64::MAX), &mut |envelope| {
            envelopes.push(envelope.clone());
            if envelopes.len() >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(envelopes)
    }

    /// Position and hash of the last durable event (None for an empty log).
    fn head(&self) -> Result<Option<(Position, [u8; 32])>, LogError>;

    /// The position of the last durable event (0 for an empty log): [`EventLog::head`]
    /// without the hash, for callers that only ask whether anything was appended.
    fn head_position(&self) -> Result<u64, LogError> {
        Ok(self.head()?.map_or(0, |(position, _)| position.0))
    }

    /// Catches up from `from`, then follows live appends, without gaps or duplicates.
    fn subscribe(&self, from: Position) -> Subscription;

    /// Appends already-formed envelopes exactly as they are (e.g. from an NDJSON
    /// export), all or nothing.
    ///
    /// The first position must be head + 1, positions consecutive, each version the next
    /// one of its stream, each `prev_hash` the previous event's hash and each `hash` the
    /// recomputed hash ([`crate::canonical::envelope_hash`]).
    /// Otherwise fails with [`LogError::Import`] naming the position, and writes nothing.
    /// Durable before it returns.
    fn import(&self, envelopes: &[Envelope]) -> Result<(), LogError>;

    /// Walks the whole log, reading only: checks every stored byte the backend keeps,
    /// recomputes every hash and checks the prev-hash links, gap-free positions and
    /// gap-free versions per stream.
    ///
    /// `progress(position_reached)` is called every few thousand events.
    /// The first problem found is returned as [`LogError::Corrupt`] with its position.
    fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError>;
}

/// [`EventLog::scan`] with a visitor that fails with the caller's own error, returned
/// as it is (the scan stops at the first one).
pub fn try_scan<E: From<LogError>>(
    log: &dyn EventLog,
    from: Position,
    to: Position,
    mut visit: impl FnMut(&Envelope) -> Result<(), E>,
) -> Result<u64, E> {
    let mut failure = None;
    let visited = log.scan(from, to, &mut |envelope| match visit(envelope) {
        Ok(()) => ControlFlow::Continue(()),
        Err(error) => {
            failure = Some(error);
            ControlFlow::Break(())
        }
    })?;
    match failure {
        Some(error) => Err(error),
        None => Ok(visited),
    }
}

/// [`EventLog::scan_events`] with a visitor that fails with the caller's own error.
pub fn try_scan_events<E: From<LogError>>(
    log: &dyn EventLog,
    from: Position,
    to: Position,
    mut visit: impl FnMut(EventRef<'_>) -> Result<(), E>,
) -> Result<u64, E> {
    let mut failure = None;
    let visited = log.scan_events(from, to, &mut |event| match visit(event) {
        Ok(()) => ControlFlow::Continue(()),
        Err(error) => {
            failure = Some(error);
            ControlFlow::Break(())
        }
    })?;
    match failure {
        Some(error) => Err(error),
        None => Ok(visited),
    }
}
