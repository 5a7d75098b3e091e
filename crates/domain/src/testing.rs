//! Given/when/then scenarios for aggregates: no runtime, no disk.
//!
//! ```text
//! given::<Youth>([referred]).at(day).when(CaseCommand::MarkEighteen).then_rejected(Rejection::AlreadyEighteen);
//! ```

use chrono::{DateTime, NaiveDate, Utc};

use crate::aggregate::Aggregate;
use crate::error::Rejection;
use crate::event::Event;

/// The state before a command: built from past events.
pub struct Scenario<A: Aggregate> {
    state: A,
    now: DateTime<Utc>,
}

/// Starts a scenario from the aggregate's past events.
pub fn given<A: Aggregate>(events: impl IntoIterator<Item = Event>) -> Scenario<A> {
    let mut state = A::default();
    for event in events {
        state.apply(&event);
    }
    Scenario {
        state,
        now: noon(2026, 1, 15),
    }
}

/// Midday UTC on a date, the usual "now" of a scenario.
pub fn noon(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    date(year, month, day)
        .and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// A date; panics on an impossible one, which is a bug in the test.
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_else(|| panic!("{year}-{month}-{day} is not a date"))
}

impl<A: Aggregate> Scenario<A> {
    /// Sets the injected time.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Decides a command (anything that converts into the aggregate's input, such as a
    /// young person's `CaseCommand`).
    pub fn when(self, command: impl Into<A::Command>) -> Outcome {
        Outcome {
            result: self.state.decide(command.into(), self.now),
        }
    }
}

/// The result of a scenario's command.
#[derive(Debug)]
pub struct Outcome {
    /// What `decide` returned.
    pub result: Result<Vec<Event>, Rejection>,
}

impl Outcome {
    /// Asserts exactly these events.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = Event>) {
        let expected: Vec<Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => assert_eq!(events, expected),
            Err(rejection) => panic!("expected events, got rejection: {rejection}"),
        }
    }

    /// Asserts the events' stored types, for commands whose payload is long.
    #[track_caller]
    pub fn then_types(self, expected: &[&str]) -> Vec<Event> {
        match self.result {
            Ok(events) => {
                let types: Vec<&str> = events.iter().map(Event::event_type).collect();
                assert_eq!(types, expected);
                events
            }
            Err(rejection) => panic!("expected {expected:?}, got rejection: {rejection}"),
        }
    }

    /// Asserts this rejection.
    #[track_caller]
    pub fn then_rejected(self, expected: Rejection) {
        match self.result {
            Ok(events) => panic!("expected rejection {expected}, got {events:?}"),
            Err(rejection) => assert_eq!(rejection, expected),
        }
    }

    /// Asserts a rejection by rule name.
    #[track_caller]
    pub fn then_rejected_by(self, rule: &str) {
        match self.result {
            Ok(events) => panic!("expected rejection by {rule}, got {events:?}"),
            Err(rejection) => assert_eq!(rejection.rule(), rule, "{rejection}"),
        }
    }
}
