//! The domain's two error families: invalid input and business-rule rejections.

use thiserror::Error;

/// A value given by a user or another system did not pass validation.
///
/// Safe to show to the user; `field` names the offending input so an API can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    /// The input that was wrong, e.g. `cpr` or `municipality`.
    pub field: &'static str,
    /// Why it was rejected, in plain words.
    pub reason: String,
}

impl InvalidInput {
    /// Builds an error for `field` with a reason.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// A command was refused by a business rule. Nothing was written.
///
/// Every variant is safe to show to users; `rule()` gives a stable machine-readable name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    /// The command carried a bad value.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The aggregate does not exist yet and the command needs it to.
    #[error("{what} does not exist")]
    NotFound {
        /// What was looked for, e.g. `youth 0190...`.
        what: String,
    },
    /// The aggregate already exists and the command would create it.
    #[error("{what} already exists")]
    AlreadyExists {
        /// What exists already.
        what: String,
    },
    /// The young person's personal data was erased: the case takes no more commands.
    #[error("the young person's personal data was erased; the case takes no more commands")]
    Erased,
    /// A legal hold stops the erasure.
    #[error("a legal hold is in force ({reason}); lift it before erasing")]
    LegalHold {
        /// The hold's reason.
        reason: String,
    },
    /// The case is closed: only a new referral can re-open it.
    #[error("the case is closed; only a new referral can re-open it")]
    CaseClosed,
    /// A new referral was sent for a case that is still open.
    #[error("the young person already has an open case")]
    CaseAlreadyOpen,
    /// The young person declined the coordinator; a new offer must come first.
    #[error("the young person declined the coordinator scheme; make a new offer before assigning one")]
    CoordinatorDeclined,
    /// The contact person is chosen by the municipality, never by the young person.
    #[error("the young person cannot choose who the coordinator is")]
    YouthCannotChooseCoordinator,
    /// There is no coordinator to release or decline.
    #[error("the young person has no coordinator")]
    NoCoordinator,
    /// A coordinator offer is needed for this step.
    #[error("no coordinator offer is pending")]
    NoPendingOffer,
    /// Assigning the same coordinator again changes nothing.
    #[error("that coordinator is already assigned")]
    SameCoordinator,
    /// `TurnedEighteen` is recorded once per young person.
    #[error("the young person's 18th birthday is already recorded")]
    AlreadyEighteen,
    /// `TurnedEighteen` cannot be recorded before the birthday.
    #[error("the young person turns 18 on {birthday}, not before")]
    NotYetEighteen {
        /// The 18th birthday.
        birthday: chrono::NaiveDate,
    },
    /// The plan was changed by someone else since the caller read it.
    #[error("the plan is at revision {actual}, the update was based on revision {based_on}")]
    StalePlan {
        /// The revision the caller edited.
        based_on: u32,
        /// The plan's current revision.
        actual: u32,
    },
    /// The plan kind does not fit the young person's age.
    #[error("a {kind} does not fit a young person aged {age}")]
    WrongPlanKind {
        /// The plan kind given.
        kind: &'static str,
        /// The age on the day of the update.
        age: u32,
    },
    /// A decision must name who does what.
    #[error("a decision must name at least one action with who does what")]
    DecisionWithoutActions,
    /// A decision or follow-up needs the case to be on the meeting's agenda.
    #[error("the case is not on this meeting's agenda")]
    CaseNotTabled,
    /// The case is on the agenda already.
    #[error("the case is already on this meeting's agenda")]
    CaseAlreadyTabled,
    /// The agenda would exceed the meeting's time slot.
    #[error("the agenda would take {needed} minutes, the meeting has {slot}")]
    AgendaFull {
        /// Minutes the agenda would need with this case.
        needed: u32,
        /// Minutes the meeting has.
        slot: u32,
    },
    /// The meeting was held or cancelled and takes no further changes of this kind.
    #[error("the meeting is {state}")]
    MeetingNotOpen {
        /// `held` or `cancelled`.
        state: &'static str,
    },
    /// The young person is outside the municipality's age band.
    #[error("the young person is {age}, outside the municipality's band {from}-{until}")]
    OutsideAgeBand {
        /// Age on the referral date.
        age: u32,
        /// Lowest age covered.
        from: u8,
        /// First age no longer covered.
        until: u8,
    },
    /// The command changes nothing that is not already recorded.
    #[error("nothing to change: {what}")]
    NoChange {
        /// What is already so.
        what: &'static str,
    },
    /// The young person has not reached the age at which the municipality's band ends.
    #[error("the young person ages out on {date}, not before")]
    NotYetAgedOut {
        /// The birthday that ends the band.
        date: chrono::NaiveDate,
    },
    /// Consent must be given before it can be withdrawn.
    #[error("no consent is on record")]
    NoConsent,
    /// A staff member who left cannot take new cases.
    #[error("staff member {staff} is no longer active")]
    StaffInactive {
        /// The staff id.
        staff: String,
    },
}

impl Rejection {
    /// A stable name for the rule that refused the command, for API error codes and logs.
    pub fn rule(&self) -> &'static str {
        match self {
            Rejection::Invalid(_) => "invalid_input",
            Rejection::NotFound { .. } => "not_found",
            Rejection::AlreadyExists { .. } => "already_exists",
            Rejection::Erased => "erased",
            Rejection::LegalHold { .. } => "legal_hold",
            Rejection::CaseClosed => "case_closed",
            Rejection::CaseAlreadyOpen => "case_already_open",
            Rejection::CoordinatorDeclined => "coordinator_declined",
            Rejection::YouthCannotChooseCoordinator => "youth_cannot_choose_coordinator",
            Rejection::NoCoordinator => "no_coordinator",
            Rejection::NoPendingOffer => "no_pending_offer",
            Rejection::SameCoordinator => "same_coordinator",
            Rejection::AlreadyEighteen => "already_eighteen",
            Rejection::NotYetEighteen { .. } => "not_yet_eighteen",
            Rejection::StalePlan { .. } => "stale_plan",
            Rejection::WrongPlanKind { .. } => "wrong_plan_kind",
            Rejection::DecisionWithoutActions => "decision_without_actions",
            Rejection::CaseNotTabled => "case_not_tabled",
            Rejection::CaseAlreadyTabled => "case_already_tabled",
            Rejection::AgendaFull { .. } => "agenda_full",
            Rejection::MeetingNotOpen { .. } => "meeting_not_open",
            Rejection::OutsideAgeBand { .. } => "outside_age_band",
            Rejection::NoChange { .. } => "no_change",
            Rejection::NotYetAgedOut { .. } => "not_yet_aged_out",
            Rejection::NoConsent => "no_consent",
            Rejection::StaffInactive { .. } => "staff_inactive",
        }
    }
}

/// A stored event could not be turned back into a domain event.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// The event type is not in the catalogue.
    #[error("unknown event type {event_type:?}")]
    UnknownType {
        /// The stored type name.
        event_type: String,
    },
    /// The stored schema version is newer than this build knows.
    #[error("{event_type} schema version {version} is newer than this build understands (at most {known})")]
    FutureVersion {
        /// The stored type name.
        event_type: String,
        /// The stored version.
        version: u16,
        /// The newest version this build knows.
        known: u16,
    },
    /// The payload is not valid JSON for the type.
    #[error("{event_type} v{version} payload does not match its schema")]
    Payload {
        /// The stored type name.
        event_type: String,
        /// The stored version.
        version: u16,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}
