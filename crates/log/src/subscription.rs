//! Live subscriptions: catch up from a position, then follow new appends.
//!
//! A subscription never holds events pushed to it.
//! It always reads from storage by position, up to the durable head, and when caught up
//! waits until the durable head moves past its position.
//! Positions are gap-free, so reading "the next position" again and again delivers every
//! event exactly once, in order, by construction: there is no hand-over between a
//! catch-up phase and a live phase where events could be lost or doubled.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::error::LogError;
use crate::types::{Envelope, Position};

/// How many events a subscription reads from storage at once.
const READ_BATCH: usize = 512;

/// What a log implementation provides so that [`Subscription`] can follow it.
pub trait SubscriptionSource: Send {
    /// Up to `limit` durable events with position >= `from`, in position order.
    fn read_from(&self, from: Position, limit: usize) -> Result<Vec<Envelope>, LogError>;

    /// Blocks until the durable head is at least `position` (returns true) or `timeout`
    /// passes (returns false).
    /// Fails with [`LogError::Closed`] when the log closed before reaching `position`.
    fn wait_for(&self, position: Position, timeout: Duration) -> Result<bool, LogError>;
}

/// A blocking cursor over the log that delivers every event from its start position
/// on, live appends included, without gaps or duplicates.
pub struct Subscription {
    source: Box<dyn SubscriptionSource>,
    next_position: Position,
    buffer: VecDeque<Envelope>,
}

impl Subscription {
    /// A subscription that delivers events from `from` on (position 0 means 1).
    pub fn new(source: Box<dyn SubscriptionSource>, from: Position) -> Subscription {
        Subscription {
            source,
            next_position: Position(from.0.max(1)),
            buffer: VecDeque::new(),
        }
    }

    /// The position of the next event this subscription will deliver.
    pub fn position(&self) -> Position {
        self.next_position
    }

    /// The next event, waiting up to `timeout` for it to be appended.
    ///
    /// Returns `Ok(None)` on timeout; the subscription stays usable.
    /// Events already durable are delivered even after the log closed; once caught up
    /// with a closed log, returns [`LogError::Closed`].
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Envelope>, LogError> {
        let deadline = Instant::now() + timeout;
        // Set when the durable head is known to have reached `next_position`, so an
        // empty read means storage disagrees with the head.
        let mut head_reached = false;
        loop {
            if let Some(envelope) = self.buffer.pop_front() {
                self.next_position = envelope.position.next();
                return Ok(Some(envelope));
            }
            let batch = self.source.read_from(self.next_position, READ_BATCH)?;
            if let Some(first) = batch.first() {
                if first.position != self.next_position {
                    return Err(LogError::Corrupt {
                        position: Some(self.next_position.0),
                        reason: format!(
                            "subscription expected position {} but storage returned {}",
                            self.next_position, first.position
                        ),
                    });
                }
                self.buffer.extend(batch);
                continue;
            }
            if head_reached {
                return Err(LogError::Corrupt {
                    position: Some(self.next_position.0),
                    reason: "the durable head is past this position but no event is stored".into(),
                });
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if !self.source.wait_for(self.next_position, remaining)? {
                return Ok(None);
            }
            head_reached = true;
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("next_position", &self.next_position)
            .field("buffered", &self.buffer.len())
            .finish()
    }
}
