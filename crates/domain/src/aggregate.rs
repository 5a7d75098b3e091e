//! The aggregate contract: decide on a command, apply an event.

use chrono::{DateTime, Utc};

use crate::error::Rejection;
use crate::event::Event;

/// A consistency boundary: its state is the fold of its own stream.
///
/// `decide` is pure: it looks at the state and the injected time and returns the events
/// to record, or a rejection. `apply` folds one event into the state and never fails:
/// recorded events are facts.
pub trait Aggregate: Default {
    /// The commands this aggregate decides on.
    type Command;

    /// Decides what a command means now; nothing is recorded on rejection.
    fn decide(&self, command: Self::Command, now: DateTime<Utc>) -> Result<Vec<Event>, Rejection>;

    /// Folds one of this aggregate's events into the state. Events of other aggregates are ignored.
    fn apply(&mut self, event: &Event);

    /// Builds the state from a stream of events.
    fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }
}
