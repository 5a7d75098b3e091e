//! Which fields of which events are personal data about a young person: stored sealed
//! under that person's key, so that destroying the key erases them while the log and
//! its hash chain stay as they are.
//!
//! A field is named by a path into the event's JSON payload: `note`, `plan.goals`, and
//! `plan.actions.*.description` for a field of every element of an array.
//! Every personal field has a serde default, so an event whose personal fields are
//! sealed (absent from the clear payload) still decodes: to empty values, which is all
//! the read models ever see of them. Only the engine, holding the keys, puts the values
//! back (or `ERASED` once the key is gone).
//!
//! What is not personal here, and why (also in `docs/events.md`): the birth date (every
//! age rule needs it; kept beside a random id), dates, categories and staff ids (the case's
//! facts, needed by every read model); staff names (the employer's record of who acted);
//! a meeting's evaluation note and cancellation reason (about the meeting, written by and
//! for staff; they must not name a young person).

use crate::event::Event;
use crate::ids::YouthId;

/// What an erased text field reads as.
pub const ERASED: &str = "(erased)";

/// What a personal field holds, and so what it reads as once erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A text: reads as [`ERASED`].
    Text,
    /// A list of texts: reads as one [`ERASED`].
    TextList,
    /// An optional value (the CPR number): reads as absent.
    Optional,
}

/// One personal field: a path into the payload and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalField {
    /// `note`, `plan.goals`, or `plan.actions.*.description` for a field of every element.
    pub path: &'static str,
    /// What it holds.
    pub kind: FieldKind,
}

const fn text(path: &'static str) -> PersonalField {
    PersonalField {
        path,
        kind: FieldKind::Text,
    }
}

const fn list(path: &'static str) -> PersonalField {
    PersonalField {
        path,
        kind: FieldKind::TextList,
    }
}

/// The personal fields of events of `event_type`.
pub fn personal_fields(event_type: &str) -> &'static [PersonalField] {
    const CPR: PersonalField = PersonalField {
        path: "cpr",
        kind: FieldKind::Optional,
    };
    const REFERRAL: &[PersonalField] = &[CPR, text("name"), text("note")];
    const NOTE: &[PersonalField] = &[text("note")];
    const REASON: &[PersonalField] = &[text("reason")];
    const PLAN: &[PersonalField] = &[list("plan.goals"), text("plan.actions.*.description")];
    const DECISION: &[PersonalField] = &[text("actions.*.what"), list("documentation_needed")];
    match event_type {
        "YouthReferred" => REFERRAL,
        "NeedAssessed" | "CoordinatorDeclined" | "TransitionFormRecorded" | "CaseClosed" => NOTE,
        "CoordinatorJudgedNotRelevant" => REASON,
        "PlanUpdated" => PLAN,
        "DecisionRecorded" => DECISION,
        _ => &[],
    }
}

/// Whose personal data the event holds, when it holds any: the young person it is about.
pub fn subject(event: &Event) -> Option<YouthId> {
    if personal_fields(event.event_type()).is_empty() {
        None
    } else {
        event.youth_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::CATALOGUE;

    #[test]
    fn every_personal_path_names_an_event_of_the_catalogue() {
        let known: Vec<&str> = CATALOGUE.iter().map(|entry| entry.0).collect();
        for event_type in [
            "YouthReferred",
            "NeedAssessed",
            "CoordinatorDeclined",
            "CoordinatorJudgedNotRelevant",
            "PlanUpdated",
            "TransitionFormRecorded",
            "CaseClosed",
            "DecisionRecorded",
        ] {
            assert!(known.contains(&event_type), "{event_type} is not in the catalogue");
            assert!(!personal_fields(event_type).is_empty());
        }
    }
}
