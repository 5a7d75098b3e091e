//! [`MemoryLog`]: the log contract kept in memory, for tests and tools that need a log
//! without a disk. It computes the same hash chain as every backend (through
//! [`crate::canonical`]) and passes the same conformance suite, so an export from it
//! imports anywhere.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::canonical::{envelope_hash, ZERO_HASH};
use crate::error::LogError;
use crate::event_log::EventLog;
use crate::subscription::{Subscription, SubscriptionSource};
use crate::types::{AppendOutcome, AppendRequest, Envelope, EventRef, Position, StreamId, VerifyReport, Version};
use crate::validate::{validate_envelope, validate_request};

/// Events copied out of the lock per step of a scan, so a visitor may use the log.
const SCAN_BATCH: usize = 1024;

/// An event log in memory: durable for as long as the process lives, nothing longer.
///
/// Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Default)]
pub struct MemoryLog {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    /// Signalled after every append and import.
    appended: Condvar,
}

#[derive(Default)]
struct State {
    /// The event at position p is `events[p - 1]`.
    events: Vec<Envelope>,
    /// Positions of each stream's events, in version order.
    streams: HashMap<StreamId, Vec<u64>>,
    commands: HashMap<Uuid, AppendOutcome>,
}

impl State {
    fn version(&self, stream: &StreamId) -> u64 {
        self.streams.get(stream).map_or(0, |positions| positions.len() as u64)
    }

    fn last_hash(&self) -> [u8; 32] {
        self.events.last().map_or(ZERO_HASH, |envelope| envelope.hash)
    }

    fn push(&mut self, envelope: Envelope) {
        self.streams
            .entry(envelope.stream.clone())
            .or_default()
            .push(envelope.position.0);
        self.events.push(envelope);
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update completes under the lock before it is released, so a poisoned
        // lock still holds a consistent state.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Up to `limit` events from position `from` (a copy, taken under the lock).
    fn batch(&self, from: u64, to: u64, limit: usize) -> Vec<Envelope> {
        let state = self.lock();
        let start = usize::try_from(from.max(1) - 1).unwrap_or(usize::MAX);
        let end = usize::try_from(to).unwrap_or(usize::MAX).min(state.events.len());
        if start >= end {
            return Vec::new();
        }
        state.events[start..end.min(start.saturating_add(limit))].to_vec()
    }
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }
}

impl std::fmt::Debug for MemoryLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLog")
            .field("events", &self.inner.lock().events.len())
            .finish()
    }
}

impl EventLog for MemoryLog {
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, LogError> {
        validate_request(&request)?;
        let mut state = self.inner.lock();
        if let Some(command_id) = request.command_id {
            if let Some(outcome) = state.commands.get(&command_id) {
                return Ok(AppendOutcome {
                    replayed: true,
                    ..outcome.clone()
                });
            }
        }
        // Check every stream before writing any (a stream may appear twice).
        let mut planned: Vec<(&StreamId, u64)> = Vec::new();
        for part in &request.streams {
            let current = planned
                .iter()
                .rev()
                .find(|(stream, _)| *stream == &part.stream)
                .map_or_else(|| state.version(&part.stream), |(_, version)| *version);
            if !part.expected.accepts(current) {
                return Err(LogError::Conflict {
                    stream: part.stream.clone(),
                    expected: part.expected,
                    actual: (current > 0).then_some(Version(current)),
                });
            }
            planned.push((&part.stream, current + part.events.len() as u64));
        }
        let first_position = state.events.len() as u64 + 1;
        let mut versions = Vec::with_capacity(request.streams.len());
        for part in &request.streams {
            let base = state.version(&part.stream);
            for (index, event) in part.events.iter().enumerate() {
                let mut envelope = Envelope {
                    position: Position(state.events.len() as u64 + 1),
                    stream: part.stream.clone(),
                    version: Version(base + 1 + index as u64),
                    event_id: event.event_id,
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    payload: event.payload.clone(),
                    metadata: event.metadata.clone(),
                    prev_hash: state.last_hash(),
                    hash: ZERO_HASH,
                };
                envelope.hash = envelope_hash(&envelope);
                state.push(envelope);
            }
            versions.push((part.stream.clone(), Version(state.version(&part.stream))));
        }
        let outcome = AppendOutcome {
            first_position: Position(first_position),
            last_position: Position(state.events.len() as u64),
            streams: versions,
            replayed: false,
        };
        if let Some(command_id) = request.command_id {
            state.commands.insert(command_id, outcome.clone());
        }
        drop(state);
        self.inner.appended.notify_all();
        Ok(outcome)
    }

    fn command_outcome(&self, command_id: Uuid) -> Result<Option<AppendOutcome>, LogError> {
        Ok(self.inner.lock().commands.get(&command_id).cloned())
    }

    fn read_stream(&self, stream: &StreamId, from: Version) -> Result<Vec<Envelope>, LogError> {
        let state = self.inner.lock();
        let Some(positions) = state.streams.get(stream) else {
            return Ok(Vec::new());
        };
        let skip = usize::try_from(from.0.max(1) - 1).unwrap_or(usize::MAX);
        Ok(positions
            .iter()
            .skip(skip)
            .map(|position| state.events[(*position - 1) as usize].clone())
            .collect())
    }

    fn stream_version(&self, stream: &StreamId) -> Result<Option<Version>, LogError> {
        let version = self.inner.lock().version(stream);
        Ok((version > 0).then_some(Version(version)))
    }

    fn scan(
        &self,
        from: Position,
        to: Position,
        visit: &mut dyn FnMut(&Envelope) -> ControlFlow<()>,
    ) -> Result<u64, LogError> {
        let mut next = from.0.max(1);
        let mut visited = 0;
        loop {
            let batch = self.inner.batch(next, to.0, SCAN_BATCH);
            let Some(last) = batch.last() else {
                return Ok(visited);
            };
            next = last.position.0 + 1;
            for envelope in &batch {
                visited += 1;
                if visit(envelope).is_break() {
                    return Ok(visited);
                }
            }
        }
    }

    fn scan_events(
        &self,
        from: Position,
        to: Position,
        visit: &mut dyn FnMut(EventRef<'_>) -> ControlFlow<()>,
    ) -> Result<u64, LogError> {
        self.scan(from, to, &mut |envelope| {
            visit(EventRef {
                position: envelope.position,
                event_type: &envelope.event_type,
                schema_version: envelope.schema_version,
                occurred_at: envelope.metadata.occurred_at,
                payload: &envelope.payload,
            })
        })
    }

    fn head(&self) -> Result<Option<(Position, [u8; 32])>, LogError> {
        Ok(self
            .inner
            .lock()
            .events
            .last()
            .map(|envelope| (envelope.position, envelope.hash)))
    }

    fn subscribe(&self, from: Position) -> Subscription {
        Subscription::new(
            Box::new(MemorySource {
                inner: Arc::clone(&self.inner),
            }),
            from,
        )
    }

    fn import(&self, envelopes: &[Envelope]) -> Result<(), LogError> {
        let mut state = self.inner.lock();
        let mut versions: HashMap<&StreamId, u64> = HashMap::new();
        let mut previous_hash = state.last_hash();
        for (index, envelope) in envelopes.iter().enumerate() {
            let position = envelope.position.0;
            let reject = |reason: String| LogError::Import { position, reason };
            let expected_position = state.events.len() as u64 + 1 + index as u64;
            if position != expected_position {
                return Err(reject(format!("the log continues at position {expected_position}")));
            }
            validate_envelope(envelope).map_err(|error| reject(error.to_string()))?;
            let current = versions
                .get(&envelope.stream)
                .copied()
                .unwrap_or_else(|| state.version(&envelope.stream));
            if envelope.version.0 != current + 1 {
                return Err(reject(format!(
                    "stream {} is at version {current}, so the next version is {}, not {}",
                    envelope.stream,
                    current + 1,
                    envelope.version
                )));
            }
            if envelope.prev_hash != previous_hash {
                return Err(reject("prev_hash does not match the hash of the previous event".into()));
            }
            if envelope_hash(envelope) != envelope.hash {
                return Err(reject(
                    "hash does not match the hash recomputed from the envelope".into(),
                ));
            }
            versions.insert(&envelope.stream, envelope.version.0);
            previous_hash = envelope.hash;
        }
        for envelope in envelopes {
            state.push(envelope.clone());
        }
        drop(state);
        self.inner.appended.notify_all();
        Ok(())
    }

    fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError> {
        let state = self.inner.lock();
        let mut previous = ZERO_HASH;
        let mut versions: HashMap<&StreamId, u64> = HashMap::new();
        for (index, envelope) in state.events.iter().enumerate() {
            let position = index as u64 + 1;
            let corrupt = |reason: &str| LogError::corrupt_at(position, reason);
            if envelope.position.0 != position {
                return Err(corrupt("the event stored here claims another position"));
            }
            if envelope.prev_hash != previous {
                return Err(corrupt("broken link: prev_hash does not match the previous hash"));
            }
            if envelope_hash(envelope) != envelope.hash {
                return Err(corrupt(
                    "hash mismatch: the stored event does not hash to its stored hash",
                ));
            }
            let version = versions.entry(&envelope.stream).or_insert(0);
            if envelope.version.0 != *version + 1 {
                return Err(corrupt("version gap in its stream"));
            }
            *version += 1;
            previous = envelope.hash;
            if position.is_multiple_of(4096) {
                progress(position);
            }
        }
        let head = state.events.last().map(|envelope| (envelope.position, envelope.hash));
        progress(head.map_or(0, |(position, _)| position.0));
        Ok(VerifyReport {
            events: state.events.len() as u64,
            streams: versions.len() as u64,
            head,
        })
    }
}

/// The subscription source of a [`MemoryLog`].
struct MemorySource {
    inner: Arc<Inner>,
}

impl SubscriptionSource for MemorySource {
    fn read_from(&self, from: Position, limit: usize) -> Result<Vec<Envelope>, LogError> {
        Ok(self.inner.batch(from.0, u64::MAX, limit))
    }

    fn wait_for(&self, position: Position, timeout: Duration) -> Result<bool, LogError> {
        let deadline = Instant::now() + timeout;
        let mut state = self.inner.lock();
        loop {
            if state.events.len() as u64 >= position.0 {
                return Ok(true);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(false);
            }
            state = self
                .inner
                .appended
                .wait_timeout(state, remaining)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }
}
