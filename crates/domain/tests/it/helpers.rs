//! Builders shared by the topic modules: ids, dates, CPR numbers, the standard age bands,
//! histories of events, and one sample event of every catalogued type.
//!
//! A scenario's "now" is `noon(2026, 1, 15)` unless a test says otherwise, so the ages
//! below are ages on 15 January 2026.

use chrono::NaiveDate;
use kui_domain::error::{InvalidInput, Rejection};
use kui_domain::event::*;
use kui_domain::testing::{date, Outcome};
use kui_domain::values::{
    ActionStatus, AgeBand, CloseReason, ConsentGiver, DecisionAction, Department, Destination, Forum, Indicator,
    NeedLevel, Plan, PlanAction, PlanKind, ReleaseReason, SchoolStatus, Team, TeamReason,
};
use kui_domain::{Cpr, Decision, MeetingId, MunicipalityCode, Referral, StaffId, YouthId, YouthInput};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Dates and people.

/// The default "now" of a scenario, as a date.
pub fn today() -> NaiveDate {
    date(2026, 1, 15)
}

/// The day the standard case was opened.
pub fn opened_on() -> NaiveDate {
    date(2026, 1, 5)
}

/// Born 1 September 2010: 15, in primary school.
pub const PUPIL_15: &str = "010910-4123";
/// Born 15 June 2009: 16, out of primary school; turns 18 on 15 June 2027. The standard case.
pub const YOUTH_16: &str = "150609-4123";
/// Born 15 January 2008: turns 18 on the scenario's default day.
pub const TURNS_18_TODAY: &str = "150108-4123";
/// Born 20 May 2005: 20; turns 25 on 20 May 2030 and 30 on 20 May 2035.
pub const ADULT_20: &str = "200505-4123";
/// Born 10 March 2011: 14, below every standard band.
pub const CHILD_14: &str = "100311-4123";
/// Born 15 January 2011: turns 15 on the scenario's default day.
pub const TURNS_15_TODAY: &str = "150111-4123";
/// Born 16 January 2001: 24, turns 25 the day after the scenario's default day.
pub const LAST_DAY_AT_24: &str = "160101-4123";
/// Born 1 June 2000: 25, past the law's band.
pub const ADULT_25: &str = "010600-4123";
/// Born 3 March 1998 (7th digit 1: 19xx): 27, inside a 15-30 band only.
pub const ADULT_27: &str = "030398-1234";
/// Born 29 February 2008: 17; turns 18 on 1 March 2026, a common year.
pub const LEAP_DAY: &str = "290208-4123";

/// Parses a CPR number the test knows is valid.
pub fn cpr(number: &str) -> Cpr {
    Cpr::parse(number).unwrap_or_else(|e| panic!("test CPR {number}: {e}"))
}

/// The young person of most scenarios.
pub fn youth_id() -> YouthId {
    youth(1)
}

/// Another young person, numbered.
pub fn youth(n: u128) -> YouthId {
    YouthId(Uuid::from_u128(0x1000 + n))
}

/// A staff member, numbered.
pub fn staff(n: u128) -> StaffId {
    StaffId(Uuid::from_u128(0x2000 + n))
}

/// The UU counsellor who refers and is usually the coordinator under 18.
pub fn counsellor() -> StaffId {
    staff(1)
}

/// A job adviser, the usual coordinator at 18+.
pub fn job_adviser() -> StaffId {
    staff(2)
}

/// The team lead who decides who the coordinator is.
pub fn team_lead() -> StaffId {
    staff(3)
}

/// The meeting of most scenarios.
pub fn meeting_id() -> MeetingId {
    MeetingId(Uuid::from_u128(0x3001))
}

/// Sønderborg.
pub fn municipality() -> MunicipalityCode {
    MunicipalityCode::new(540).unwrap()
}

/// The law's band: 15 up to but not including 25.
pub fn band_15_25() -> AgeBand {
    AgeBand::new(15, 25).unwrap()
}

/// The widened band of Sønderborg, Viborg, Hjørring and Aalborg: 15 up to 30.
pub fn band_15_30() -> AgeBand {
    AgeBand::new(15, 30).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Outcomes.

/// Assertions the `testing` module leaves to the caller.
pub trait OutcomeExt {
    /// Asserts a rejection for invalid input in `field`, whatever the wording of the reason.
    fn then_invalid(self, field: &str);
}

impl OutcomeExt for Outcome {
    #[track_caller]
    fn then_invalid(self, field: &str) {
        match self.result {
            Err(Rejection::Invalid(InvalidInput { field: actual, reason })) => {
                assert_eq!(actual, field, "rejected for the wrong field: {reason}");
            }
            other => panic!("expected invalid {field}, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Youth histories.

/// A referral of the standard young person (16, dropped out).
/// Change it with struct update syntax: `Referral { school_status: .., ..referral(PUPIL_15) }`.
pub fn referral(number: &str) -> Referral {
    Referral {
        cpr: cpr(number),
        name: "Freja Nielsen".into(),
        municipality: municipality(),
        referred_by: counsellor(),
        department: Department::Uu,
        indicators: vec![Indicator::DroppedOut, Indicator::OutsideEducation],
        school_status: SchoolStatus::DroppedOut,
        note: "left upper secondary in October".into(),
    }
}

/// A referral as `Youth` decides it, in a municipality with the 15-25 band.
pub fn refer(referral: Referral) -> YouthInput {
    YouthInput::Refer {
        youth_id: youth_id(),
        referral,
        age_band: band_15_25(),
    }
}

/// The `YouthReferred` event a referral records on `on`.
pub fn referred(referral: &Referral, on: NaiveDate) -> Event {
    YouthReferred {
        youth_id: youth_id(),
        cpr: Some(referral.cpr.clone()),
        birth_date: referral.cpr.birth_date(),
        name: referral.name.trim().to_owned(),
        municipality: referral.municipality,
        referred_on: on,
        referred_by: referral.referred_by,
        department: referral.department,
        indicators: referral.indicators.clone(),
        school_status: referral.school_status,
        note: referral.note.clone(),
    }
    .into()
}

/// `TeamAssigned` for the standard young person.
pub fn team_assigned(team: Team, reason: TeamReason) -> Event {
    TeamAssigned {
        youth_id: youth_id(),
        team,
        reason,
    }
    .into()
}

/// `TeamHandedOver` for the standard young person.
pub fn team_handed_over(from: Team, to: Team) -> Event {
    TeamHandedOver {
        youth_id: youth_id(),
        from,
        to,
    }
    .into()
}

/// A case opened on `opened_on()` for this referral and placed in `team`.
pub fn opened(referral: &Referral, team: Team) -> Vec<Event> {
    let reason = if team == Team::Team3 {
        TeamReason::Age
    } else {
        TeamReason::SchoolStatus
    };
    vec![referred(referral, opened_on()), team_assigned(team, reason)]
}

/// The standard open case: 16, dropped out, team 2.
pub fn case() -> Vec<Event> {
    opened(&referral(YOUTH_16), Team::Team2)
}

/// The standard open case followed by more events.
pub fn case_with(more: impl IntoIterator<Item = Event>) -> Vec<Event> {
    let mut events = case();
    events.extend(more);
    events
}

/// An open case of a 20-year-old in team 3, followed by more events.
pub fn adult_case_with(more: impl IntoIterator<Item = Event>) -> Vec<Event> {
    let mut events = opened(&referral(ADULT_20), Team::Team3);
    events.extend(more);
    events
}

/// The coordinator scheme was offered by the counsellor.
pub fn offered() -> Event {
    CoordinatorOffered {
        youth_id: youth_id(),
        offered_by: counsellor(),
    }
    .into()
}

/// The young person declined the scheme.
pub fn declined() -> Event {
    CoordinatorDeclined {
        youth_id: youth_id(),
        declined_by: ConsentGiver::Youth,
        note: "does not want more meetings".into(),
    }
    .into()
}

/// `coordinator` (UU) was assigned by the team lead.
pub fn assigned(coordinator: StaffId) -> Event {
    CoordinatorAssigned {
        youth_id: youth_id(),
        coordinator,
        department: Department::Uu,
        assigned_by: team_lead(),
        meeting: None,
    }
    .into()
}

/// `coordinator` stopped.
pub fn released(coordinator: StaffId, reason: ReleaseReason) -> Event {
    CoordinatorReleased {
        youth_id: youth_id(),
        coordinator,
        reason,
    }
    .into()
}

/// Consent was given for UU and the job centre.
pub fn consent_given(given_by: ConsentGiver) -> Event {
    ConsentGiven {
        youth_id: youth_id(),
        given_by,
        departments: vec![Department::Uu, Department::JobCentre],
    }
    .into()
}

/// The case was closed.
pub fn closed(reason: CloseReason, note: &str) -> Event {
    CaseClosed {
        youth_id: youth_id(),
        reason,
        note: note.into(),
    }
    .into()
}

/// A plan with one goal and one action.
pub fn plan(goal: &str) -> Plan {
    Plan {
        goals: vec![goal.into()],
        actions: vec![PlanAction {
            description: "weekly talk with the mentor".into(),
            department: Department::Uu,
            responsible: Some(counsellor()),
            due: Some(date(2026, 3, 1)),
            status: ActionStatus::Planned,
        }],
    }
}

/// A `PlanUpdated` by the counsellor.
pub fn plan_updated(revision: u32, kind: PlanKind, plan: Plan) -> Event {
    PlanUpdated {
        youth_id: youth_id(),
        revision,
        kind,
        plan,
        updated_by: counsellor(),
    }
    .into()
}

// ---------------------------------------------------------------------------------------------
// Meetings.

/// The day of the standard meeting.
pub fn meeting_day() -> NaiveDate {
    date(2026, 1, 20)
}

/// The standard meeting (a K-meeting on `meeting_day()`) was scheduled with this slot.
pub fn scheduled(slot_minutes: u32) -> Event {
    MeetingScheduled {
        meeting_id: meeting_id(),
        municipality: municipality(),
        forum: Forum::KMeeting,
        date: meeting_day(),
        slot_minutes,
        scheduled_by: team_lead(),
    }
    .into()
}

/// A young person's case was put on the standard meeting's agenda.
pub fn tabled(youth_id: YouthId, complex: bool) -> Event {
    CaseTabled {
        meeting_id: meeting_id(),
        youth_id,
        presenter: counsellor(),
        minutes: if complex { 30 } else { 15 },
        complex,
    }
    .into()
}

/// The standard meeting was held.
pub fn held() -> Event {
    MeetingHeld {
        meeting_id: meeting_id(),
        held_on: meeting_day(),
        attendees: vec![team_lead(), counsellor()],
    }
    .into()
}

/// The standard meeting was cancelled.
pub fn meeting_cancelled() -> Event {
    MeetingCancelled {
        meeting_id: meeting_id(),
        reason: "too few cases".into(),
    }
    .into()
}

/// A complete decision: who does what, a coordinator, a lead and a follow-up two weeks on.
pub fn decision(youth_id: YouthId) -> Decision {
    Decision {
        youth_id,
        coordinator: Some(counsellor()),
        coordinating_caseworker: None,
        lead: Some(team_lead()),
        actions: vec![DecisionAction {
            what: "book a visit at the preparatory basic education (FGU)".into(),
            department: Department::Uu,
            who: Some(counsellor()),
            due: Some(date(2026, 2, 1)),
        }],
        documentation_needed: vec!["statement from the school psychologist".into()],
        follow_up: Some(date(2026, 2, 3)),
        first_team_meeting: None,
    }
}

/// The event the standard meeting records for a decision.
pub fn decision_recorded(decision: Decision) -> Event {
    decision.recorded(meeting_id()).into()
}

// ---------------------------------------------------------------------------------------------
// Staff and municipality.

/// The counsellor was registered with this capacity.
pub fn staff_registered(capacity: u16) -> Event {
    StaffRegistered {
        staff_id: counsellor(),
        name: "Mette Holm".into(),
        department: Department::Uu,
        municipality: municipality(),
        capacity,
    }
    .into()
}

/// Sønderborg's settings: ages 15-30, teams every 21/14/14 days, 25 young people per coordinator.
pub fn settings() -> MunicipalityConfigured {
    MunicipalityConfigured {
        municipality: municipality(),
        name: "Sønderborg".into(),
        age_band: band_15_30(),
        cadence: TeamCadence::USUAL,
        coordinator_capacity: 25,
        alarms: AlarmSettings {
            eighteen_warning_months: 6,
            plan_stale_days: 180,
            referral_untabled_days: 14,
            dropout_contact_days: 5,
            dropout_offer_days: 30,
            departed_grace_days: 0,
            follow_up_grace_days: 0,
            escalate_after_days: 7,
            aftercare_warning_days: 60,
        },
        retention: Default::default(),
        privacy: Default::default(),
        responsibility: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// One event of every type.

/// One event of every type in the catalogue, with every optional field filled in
/// so that decoding and schemas see each field.
pub fn samples() -> Vec<Event> {
    let youth_id = youth_id();
    let meeting_id = meeting_id();
    vec![
        referred(&referral(YOUTH_16), opened_on()),
        NeedAssessed {
            youth_id,
            level: NeedLevel::C,
            assessed_by: counsellor(),
            note: "several departments involved".into(),
        }
        .into(),
        ReadinessAssessed {
            youth_id,
            education_ready: false,
            academic: true,
            social: false,
            personal: false,
            grade: 9,
            assessed_by: counsellor(),
        }
        .into(),
        SchoolStatusChanged {
            youth_id,
            status: SchoolStatus::AtRisk,
            on: date(2026, 1, 6),
        }
        .into(),
        ContactRecorded {
            youth_id,
            by: counsellor(),
            on: date(2026, 1, 7),
            offer_made: true,
        }
        .into(),
        consent_given(ConsentGiver::Guardian),
        ConsentWithdrawn {
            youth_id,
            withdrawn_by: ConsentGiver::Youth,
        }
        .into(),
        offered(),
        CoordinatorAssigned {
            youth_id,
            coordinator: counsellor(),
            department: Department::Uu,
            assigned_by: team_lead(),
            meeting: Some(meeting_id),
        }
        .into(),
        declined(),
        CoordinatorJudgedNotRelevant {
            youth_id,
            judged_by: team_lead(),
            reason: "single-discipline need".into(),
        }
        .into(),
        released(counsellor(), ReleaseReason::Completed),
        CoordinatingCaseworkerAssigned {
            youth_id,
            caseworker: job_adviser(),
            department: Department::JobCentre,
            meeting: Some(meeting_id),
        }
        .into(),
        team_assigned(Team::Team2, TeamReason::SchoolStatus),
        team_handed_over(Team::Team2, Team::Team3),
        plan_updated(3, PlanKind::EducationPlan, plan("start at FGU in August")),
        TransitionFormRecorded {
            youth_id,
            expected_weekly_hours: 12,
            recorded_by: counsellor(),
            note: "support with housing expected".into(),
        }
        .into(),
        TurnedEighteen {
            youth_id,
            birthday: date(2027, 6, 15),
        }
        .into(),
        AgedOut {
            youth_id,
            on: date(2034, 6, 15),
            band_until: 25,
        }
        .into(),
        DestinationReached {
            youth_id,
            destination: Destination::Preparatory,
            on: date(2026, 8, 10),
        }
        .into(),
        closed(CloseReason::PositiveDestination, "started at FGU"),
        scheduled(120),
        tabled(youth_id, true),
        decision_recorded(Decision {
            coordinating_caseworker: Some(job_adviser()),
            first_team_meeting: Some(date(2026, 2, 10)),
            ..decision(youth_id)
        }),
        held(),
        MeetingEvaluated {
            meeting_id,
            score: 4,
            note: "good preparation".into(),
        }
        .into(),
        meeting_cancelled(),
        staff_registered(25),
        StaffCapacityChanged {
            staff_id: counsellor(),
            capacity: 30,
        }
        .into(),
        StaffDeparted {
            staff_id: counsellor(),
            on: date(2026, 6, 30),
        }
        .into(),
        settings().into(),
        CaseRead {
            youth_id,
            staff_id: counsellor().to_string(),
            role: "caseworker".into(),
            department: "uu".into(),
            municipality: Some(540),
            operation: "youth".into(),
            at: opened_on().and_hms_opt(9, 30, 0).expect("a real time").and_utc(),
            purpose: "casework".into(),
            reason: None,
            shown: vec!["coordination".into(), "education".into()],
            withheld: vec!["social".into()],
            refused: None,
        }
        .into(),
        LegalHoldPlaced {
            youth_id,
            placed_by: counsellor(),
            reason: "complaint pending".into(),
        }
        .into(),
        LegalHoldLifted {
            youth_id,
            lifted_by: counsellor(),
            reason: "complaint decided".into(),
        }
        .into(),
        AftercareDecided {
            youth_id,
            until: opened_on(),
            decided_by: counsellor(),
        }
        .into(),
        AftercareEnded {
            youth_id,
            on: opened_on(),
        }
        .into(),
        AlarmAnswered {
            youth_id,
            rule: "referral_not_tabled".into(),
            due: opened_on(),
            answer: AlarmAnswer::Snoozed {
                until: opened_on(),
                reason: "meeting planned".into(),
            },
            by: counsellor(),
        }
        .into(),
        PersonalDataErased {
            youth_id,
            erased_by: "retention".into(),
            reason: "closed more than 5 years ago".into(),
            authority: "KLE K5".into(),
            streams: vec![youth_id.stream_name()],
        }
        .into(),
    ]
}
