//! The event catalogue: every fact kui records, with its stored name and schema version.
//!
//! The Rust identifiers are not the persisted names: `Event::event_type` gives the stored
//! name and `Event::schema_version` the version, and `Event::decode` turns stored bytes
//! back into an event, upcasting old schema versions first. Stored bytes are never
//! rewritten.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cpr::Cpr;
use crate::error::DecodeError;
use crate::ids::{MeetingId, MunicipalityCode, StaffId, YouthId};
use crate::values::{
    AgeBand, CloseReason, ConsentGiver, DecisionAction, Department, Destination, Forum, Indicator, NeedLevel, Plan,
    PlanKind, ReleaseReason, SchoolStatus, Team, TeamReason,
};

/// A young person was referred to the youth effort; opens (or re-opens) the case.
///
/// The CPR number, the name and the note are personal fields (`crate::personal`): stored
/// sealed under the young person's key, they read as absent (`None`, empty) to whoever
/// decodes the event without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct YouthReferred {
    /// The young person.
    pub youth_id: YouthId,
    /// The civil registration number; `None` where it is sealed or erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpr: Option<Cpr>,
    /// The birth date (from the CPR number); every age rule reads it, so it is not sealed.
    pub birth_date: NaiveDate,
    /// Full name.
    #[serde(default)]
    pub name: String,
    /// The responsible municipality.
    pub municipality: MunicipalityCode,
    /// The business date of the referral.
    pub referred_on: NaiveDate,
    /// Who referred (the referrer, indstiller).
    pub referred_by: StaffId,
    /// The referrer's department.
    pub department: Department,
    /// The indicators behind the referral.
    pub indicators: Vec<Indicator>,
    /// School status at the time of referral.
    pub school_status: SchoolStatus,
    /// Free-text reason.
    #[serde(default)]
    pub note: String,
}

/// The need level was assessed (A none, B single-discipline, C multi-discipline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NeedAssessed {
    /// The young person.
    pub youth_id: YouthId,
    /// The level.
    pub level: NeedLevel,
    /// Who assessed.
    pub assessed_by: StaffId,
    /// Why.
    #[serde(default)]
    pub note: String,
}

/// The education-readiness assessment (grades 8-10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReadinessAssessed {
    /// The young person.
    pub youth_id: YouthId,
    /// Education-ready overall.
    pub education_ready: bool,
    /// Academic parameter met.
    pub academic: bool,
    /// Social parameter met.
    pub social: bool,
    /// Personal parameter met.
    pub personal: bool,
    /// School grade at the assessment.
    pub grade: u8,
    /// Who assessed.
    pub assessed_by: StaffId,
}

/// Education status changed (enrolled, at risk, dropped out, completed...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SchoolStatusChanged {
    /// The young person.
    pub youth_id: YouthId,
    /// The new status.
    pub status: SchoolStatus,
    /// The business date of the change.
    pub on: NaiveDate,
}

/// Guidance contact with the young person; `offer_made` when an offer was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ContactRecorded {
    /// The young person.
    pub youth_id: YouthId,
    /// Who made contact.
    pub by: StaffId,
    /// When.
    pub on: NaiveDate,
    /// Whether an offer of education or activity was made.
    pub offer_made: bool,
}

/// Consent to share data across departments (retssikkerhedsloven § 11 a).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsentGiven {
    /// The young person.
    pub youth_id: YouthId,
    /// The young person or a guardian.
    pub given_by: ConsentGiver,
    /// The departments data may be shared with.
    pub departments: Vec<Department>,
}

/// Consent was withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsentWithdrawn {
    /// The young person.
    pub youth_id: YouthId,
    /// The young person or a guardian.
    pub withdrawn_by: ConsentGiver,
}

/// A coordinator (contact person) was offered; the scheme is voluntary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoordinatorOffered {
    /// The young person.
    pub youth_id: YouthId,
    /// Who made the offer.
    pub offered_by: StaffId,
}

/// A coordinator was assigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoordinatorAssigned {
    /// The young person.
    pub youth_id: YouthId,
    /// The coordinator.
    pub coordinator: StaffId,
    /// The coordinator's department.
    pub department: Department,
    /// The staff member who decided.
    pub assigned_by: StaffId,
    /// The meeting whose decision this was, if any.
    pub meeting: Option<MeetingId>,
}

/// The young person (or guardian) declined the coordinator scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoordinatorDeclined {
    /// The young person.
    pub youth_id: YouthId,
    /// Who declined.
    pub declined_by: ConsentGiver,
    /// Free text.
    #[serde(default)]
    pub note: String,
}

/// A team judged that a coordinator is not relevant for this young person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoordinatorJudgedNotRelevant {
    /// The young person.
    pub youth_id: YouthId,
    /// Who judged.
    pub judged_by: StaffId,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// The coordinator stopped (course completed, handed over, withdrawn, case closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoordinatorReleased {
    /// The young person.
    pub youth_id: YouthId,
    /// The coordinator who stopped.
    pub coordinator: StaffId,
    /// Why.
    pub reason: ReleaseReason,
}

/// A coordinating caseworker (koordinerende sagsbehandler) was appointed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoordinatingCaseworkerAssigned {
    /// The young person.
    pub youth_id: YouthId,
    /// The caseworker.
    pub caseworker: StaffId,
    /// The caseworker's department.
    pub department: Department,
    /// The meeting whose decision this was, if any.
    pub meeting: Option<MeetingId>,
}

/// The young person was placed in a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TeamAssigned {
    /// The young person.
    pub youth_id: YouthId,
    /// The team.
    pub team: Team,
    /// Why this team.
    pub reason: TeamReason,
}

/// The case moved from one team to another (team 2 -> team 3 at 18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TeamHandedOver {
    /// The young person.
    pub youth_id: YouthId,
    /// The old team.
    pub from: Team,
    /// The new team.
    pub to: Team,
}

/// The plan changed. Carries the whole plan, so "what did the plan say on date X" is one lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanUpdated {
    /// The young person.
    pub youth_id: YouthId,
    /// Revision number, 1 for the first plan, one more for each update.
    pub revision: u32,
    /// Education plan (under 18) or job plan (18+).
    pub kind: PlanKind,
    /// The whole plan.
    pub plan: Plan,
    /// Who changed it.
    pub updated_by: StaffId,
}

/// The transition form (overgangsskema) was recorded or updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TransitionFormRecorded {
    /// The young person.
    pub youth_id: YouthId,
    /// Expected hours of support a week after 18.
    pub expected_weekly_hours: u16,
    /// Who recorded it.
    pub recorded_by: StaffId,
    /// Free text.
    #[serde(default)]
    pub note: String,
}

/// The young person turned 18; emitted by the engine, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TurnedEighteen {
    /// The young person.
    pub youth_id: YouthId,
    /// The 18th birthday.
    pub birthday: NaiveDate,
}

/// The young person passed the municipality's age band; the case closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgedOut {
    /// The young person.
    pub youth_id: YouthId,
    /// The birthday that ended the band.
    pub on: NaiveDate,
    /// The band's upper age.
    pub band_until: u8,
}

/// The young person reached a destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DestinationReached {
    /// The young person.
    pub youth_id: YouthId,
    /// Where.
    pub destination: Destination,
    /// When.
    pub on: NaiveDate,
}

/// The case was closed. Only a new referral re-opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseClosed {
    /// The young person.
    pub youth_id: YouthId,
    /// Why.
    pub reason: CloseReason,
    /// Free text.
    #[serde(default)]
    pub note: String,
}

/// A meeting was scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MeetingScheduled {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The municipality holding it.
    pub municipality: MunicipalityCode,
    /// Which forum.
    pub forum: Forum,
    /// The day.
    pub date: NaiveDate,
    /// Minutes available for cases.
    pub slot_minutes: u32,
    /// Who scheduled it.
    pub scheduled_by: StaffId,
}

/// A case was put on a meeting's agenda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseTabled {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The young person.
    pub youth_id: YouthId,
    /// Who presents the case.
    pub presenter: StaffId,
    /// Minutes set aside: 15, or 30 when complex or several professionals take part.
    pub minutes: u32,
    /// Complex case or several professionals.
    pub complex: bool,
}

/// A meeting decided on a case: who does what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionRecorded {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The young person.
    pub youth_id: YouthId,
    /// The coordinator (ungeguide) appointed, if any.
    pub coordinator: Option<StaffId>,
    /// The coordinating caseworker appointed, if any.
    pub coordinating_caseworker: Option<StaffId>,
    /// The lead (tovholder) of the coordinating team, if any.
    pub lead: Option<StaffId>,
    /// Who does what.
    pub actions: Vec<DecisionAction>,
    /// Documentation still needed.
    #[serde(default)]
    pub documentation_needed: Vec<String>,
    /// When progress is checked.
    pub follow_up: Option<NaiveDate>,
    /// The coordinating team's first meeting (Hjørring: no later than the 17th birthday).
    pub first_team_meeting: Option<NaiveDate>,
}

/// The meeting took place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MeetingHeld {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// The day it was held.
    pub held_on: NaiveDate,
    /// Who took part.
    pub attendees: Vec<StaffId>,
}

/// The meeting evaluated itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MeetingEvaluated {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// 1 (poor) to 5 (very good).
    pub score: u8,
    /// Free text.
    pub note: String,
}

/// The meeting was cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MeetingCancelled {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// Why.
    pub reason: String,
}

/// A staff member was registered. Schema v2 added `capacity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StaffRegistered {
    /// The staff member.
    pub staff_id: StaffId,
    /// Full name.
    pub name: String,
    /// Department.
    pub department: Department,
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// How many young people they can coordinate.
    pub capacity: u16,
}

/// A staff member's capacity changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StaffCapacityChanged {
    /// The staff member.
    pub staff_id: StaffId,
    /// The new capacity.
    pub capacity: u16,
}

/// A staff member left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StaffDeparted {
    /// The staff member.
    pub staff_id: StaffId,
    /// Last day.
    pub on: NaiveDate,
}

/// How often each team meets, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TeamCadence {
    /// Team 1 (about every 3 weeks).
    pub team_1_days: u16,
    /// Team 2 (about every 2 weeks).
    pub team_2_days: u16,
    /// Team 3 (about every 2 weeks).
    pub team_3_days: u16,
}

/// Thresholds for the transition alarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlarmSettings {
    /// Warn this many months before the 18th birthday without an adult-side owner.
    pub eighteen_warning_months: u16,
    /// A plan untouched this many days is stale.
    pub plan_stale_days: u16,
    /// A referral not tabled within this many days alarms.
    pub referral_untabled_days: u16,
    /// Contact after a dropout within this many days.
    pub dropout_contact_days: u16,
    /// Offer after a dropout within this many days.
    pub dropout_offer_days: u16,
    /// Days after someone the case depends on left before the alarm opens (0: that day).
    #[serde(default)]
    pub departed_grace_days: u16,
    /// Days after a decision's follow-up date before the alarm opens.
    #[serde(default)]
    pub follow_up_grace_days: u16,
    /// Days an alarm may stay unanswered before it escalates to the team lead, and as many
    /// again before it escalates to the municipal youth coordinator.
    #[serde(default = "seven")]
    pub escalate_after_days: u16,
    /// Days before aftercare ends to warn when nobody on the adult side owns the case.
    #[serde(default = "sixty")]
    pub aftercare_warning_days: u16,
}

fn sixty() -> u16 {
    60
}

fn seven() -> u16 {
    7
}

impl TeamCadence {
    /// Sønderborg's practice: team 1 about every 3 weeks, teams 2 and 3 about every 2 weeks.
    pub const USUAL: TeamCadence = TeamCadence {
        team_1_days: 21,
        team_2_days: 14,
        team_3_days: 14,
    };
}

impl AlarmSettings {
    /// The thresholds the seeds and the law give: warn 6 months before 18 (Barnets lov
    /// § 111), a plan untouched 90 days, a referral untabled 30 days, contact within 5 and
    /// an offer within 30 days of a dropout.
    pub const USUAL: AlarmSettings = AlarmSettings {
        eighteen_warning_months: 6,
        plan_stale_days: 90,
        referral_untabled_days: 30,
        dropout_contact_days: 5,
        dropout_offer_days: 30,
        departed_grace_days: 0,
        follow_up_grace_days: 0,
        escalate_after_days: 7,
        aftercare_warning_days: 60,
    };
}

/// The municipality's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MunicipalityConfigured {
    /// The municipality.
    pub municipality: MunicipalityCode,
    /// Its name.
    pub name: String,
    /// The ages covered.
    pub age_band: AgeBand,
    /// Team cadence.
    pub cadence: TeamCadence,
    /// Default coordinator capacity.
    pub coordinator_capacity: u16,
    /// Alarm thresholds.
    pub alarms: AlarmSettings,
    /// How long a closed case is kept before its personal data is erased (absent in
    /// settings recorded before retention existed: the documented default).
    #[serde(default)]
    pub retention: RetentionSettings,
    /// What analysts are shown (absent in settings recorded before: the defaults).
    #[serde(default)]
    pub privacy: PrivacySettings,
    /// Which administration is responsible for a case by age and need (absent: the
    /// documented default, Hjørring's practice).
    #[serde(default)]
    pub responsibility: Vec<ResponsibilityRule>,
}

/// One rule of who is responsible: the first rule that matches a case decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResponsibilityRule {
    /// From this age.
    pub from_age: u8,
    /// Until (not including) this age.
    pub until_age: u8,
    /// Only for cases with this need level (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need: Option<NeedLevel>,
    /// The administration (`children`, `health_and_disability`, `labour_market`, ...).
    pub administration: String,
}

impl ResponsibilityRule {
    /// Hjørring's practice (the municipality's seed document): the children's
    /// administration until 18; from 18 the health and disability administration for
    /// C-need cases and the labour-market administration for the others. Aftercare cases
    /// stay with the children's administration while the aftercare runs (at most to 23).
    pub fn hjorring() -> Vec<ResponsibilityRule> {
        let rule = |from_age, until_age, need, administration: &str| ResponsibilityRule {
            from_age,
            until_age,
            need,
            administration: administration.to_owned(),
        };
        vec![
            rule(0, 18, None, "children"),
            rule(18, 100, Some(NeedLevel::C), "health_and_disability"),
            rule(18, 100, None, "labour_market"),
        ]
    }

    /// The administration responsible, by `rules` (the default when empty), for a case of
    /// someone aged `age` with `need`, in aftercare or not.
    pub fn responsible(rules: &[ResponsibilityRule], age: u32, need: Option<NeedLevel>, aftercare: bool) -> String {
        if aftercare {
            return "children".to_owned();
        }
        let defaults;
        let rules = if rules.is_empty() {
            defaults = ResponsibilityRule::hjorring();
            &defaults
        } else {
            rules
        };
        rules
            .iter()
            .find(|rule| {
                (u32::from(rule.from_age)..u32::from(rule.until_age)).contains(&age)
                    && rule.need.is_none_or(|wanted| need == Some(wanted))
            })
            .map_or_else(|| "unassigned".to_owned(), |rule| rule.administration.clone())
    }
}

/// What the municipality shows analysts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PrivacySettings {
    /// The smallest count statistics show analysts (smaller non-zero counts are withheld,
    /// as the ministry's databank does below 5); 0 shows every count.
    pub min_cell: u16,
    /// Whether analysts may read pseudonymised records of single young people (`youth`,
    /// `youngPeople`, the teams' members) at all; statistics are always allowed.
    pub pseudonymised_records: bool,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            min_cell: 5,
            pseudonymised_records: true,
        }
    }
}

/// How long a closed case is kept before the scheduler erases its personal data.
///
/// The age of a case counts from its closure. The default, 5 years, is the disposal rule
/// the municipal classification (KL's KLE, disposal code "K5": kassation 5 years after the
/// case is closed) gives most municipal case files about children and young people that
/// are not kept for the public archive; a municipality sets its own per close reason where
/// its archive's rules say otherwise (`docs/data-protection.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RetentionSettings {
    /// Years after closure, for every case without a rule of its own.
    pub years: u16,
    /// Years after closure by the reason the case was closed.
    #[serde(default)]
    pub by_close_reason: Vec<RetentionRule>,
}

/// Years after closure for cases closed for one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RetentionRule {
    /// The close reason.
    pub reason: CloseReason,
    /// Years after closure.
    pub years: u16,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            years: 5,
            by_close_reason: Vec::new(),
        }
    }
}

impl RetentionSettings {
    /// The years a case closed for `reason` is kept.
    pub fn years_for(&self, reason: CloseReason) -> u16 {
        self.by_close_reason
            .iter()
            .find(|rule| rule.reason == reason)
            .map_or(self.years, |rule| rule.years)
    }
}

/// Someone read a young person's case. Recorded in the access log (a second log, stream
/// `access-<youth id>`), never in the case log, so that reading never changes a case's
/// history or its hash chain.
///
/// The reader is written as their token named them, in text, so the record reads the
/// same whatever later becomes of the staff member, their role or their department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseRead {
    /// The young person whose case was read.
    pub youth_id: YouthId,
    /// The reader's staff id.
    pub staff_id: String,
    /// The role they read in (`caseworker`, `auditor`, ...).
    pub role: String,
    /// Their department.
    pub department: String,
    /// The municipality they work for; none for national roles.
    pub municipality: Option<u16>,
    /// The operation that showed the case: `youth`, `history`, `meeting`, `youngPeople`,
    /// `events` or `subjectAccessReport`.
    pub operation: String,
    /// When, by the server's clock.
    pub at: DateTime<Utc>,
    /// Why: `casework`, `meeting_preparation`, `coordination`, `supervision`, `audit`,
    /// `subject_access`, `statistics` or `emergency` (`unstated` in reads recorded before
    /// purposes were).
    #[serde(default = "unstated")]
    pub purpose: String,
    /// The reason of an emergency read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The sensitivity classes of the case shown.
    #[serde(default)]
    pub shown: Vec<String>,
    /// The classes withheld.
    #[serde(default)]
    pub withheld: Vec<String>,
    /// Set when the read was refused (the error code); nothing was shown then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

fn unstated() -> String {
    "unstated".to_owned()
}

/// A young person's personal data was erased: their key and their CPR lookup were
/// destroyed, so every personal field of their events reads as erased from now on. The
/// events themselves stay, so the log and its hash chain are unchanged.
///
/// Holds no personal data; `reason` and `authority` are written by the data protection
/// officer or the retention schedule and must not name the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PersonalDataErased {
    /// The young person.
    pub youth_id: YouthId,
    /// Who erased: the staff id of the person who asked, or `retention` for the schedule.
    pub erased_by: String,
    /// Why.
    pub reason: String,
    /// Under which authority (a decision, a rule of the archive).
    pub authority: String,
    /// Every stream holding personal data sealed under the destroyed key.
    pub streams: Vec<String>,
}

/// A legal hold stops retention erasing a case (a complaint, an audit, a court case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LegalHoldPlaced {
    /// The young person.
    pub youth_id: YouthId,
    /// Who placed it.
    pub placed_by: StaffId,
    /// Why (must not name the person).
    pub reason: String,
}

/// A legal hold was lifted; retention applies again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LegalHoldLifted {
    /// The young person.
    pub youth_id: YouthId,
    /// Who lifted it.
    pub lifted_by: StaffId,
    /// Why.
    pub reason: String,
}

/// Someone answered an open transition alarm: acknowledged it, assigned it to a staff
/// member, or snoozed it until a date. The alarm is named by its rule and due date (the
/// read model computes alarms; this records the answer). Holds no personal data; a snooze
/// reason must not name the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlarmAnswered {
    /// The young person.
    pub youth_id: YouthId,
    /// The alarm's rule (`referral_not_tabled`, ...).
    pub rule: String,
    /// The alarm's due date.
    pub due: NaiveDate,
    /// The answer.
    pub answer: AlarmAnswer,
    /// Who answered.
    pub by: StaffId,
}

/// An answer to an alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlarmAnswer {
    /// Seen and being handled by whoever should act.
    Acknowledged,
    /// Handed to a named staff member, who acts from now on.
    Assigned {
        /// The staff member.
        to: StaffId,
    },
    /// Put aside until a date, for a reason.
    Snoozed {
        /// The first day it counts again.
        until: NaiveDate,
        /// Why.
        reason: String,
    },
}

/// Aftercare (efterværn) was decided: the children's administration keeps the case after
/// 18, until a date at the latest the 23rd birthday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AftercareDecided {
    /// The young person.
    pub youth_id: YouthId,
    /// The last day of the aftercare.
    pub until: NaiveDate,
    /// Who decided.
    pub decided_by: StaffId,
}

/// Aftercare ended before its date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AftercareEnded {
    /// The young person.
    pub youth_id: YouthId,
    /// The day it ended.
    pub on: NaiveDate,
}

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal v $version:literal ),+ $(,)?) => {
        /// Every event kui records.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Event {
            $( $(#[$doc])* $variant($variant), )+
        }

        $(
            impl From<$variant> for Event {
                fn from(event: $variant) -> Self {
                    Event::$variant(event)
                }
            }
        )+

        /// Every event type: stored name and current schema version.
        pub const CATALOGUE: &[(&str, u16)] = &[ $( ($name, $version), )+ ];

        fn current_version(event_type: &str) -> Result<u16, DecodeError> {
            match event_type {
                $( $name => Ok($version), )+
                other => Err(DecodeError::UnknownType { event_type: other.to_owned() }),
            }
        }

        impl Event {
            /// The stored name of the event type.
            pub fn event_type(&self) -> &'static str {
                match self { $( Event::$variant(_) => $name, )+ }
            }

            /// The schema version written with new events of this type.
            pub fn schema_version(&self) -> u16 {
                match self { $( Event::$variant(_) => $version, )+ }
            }

            /// The payload as JSON bytes.
            pub fn to_payload(&self) -> Vec<u8> {
                let bytes = match self { $( Event::$variant(e) => serde_json::to_vec(e), )+ };
                // Serialising these plain structs cannot fail: no maps with non-string keys, no custom errors.
                bytes.expect("event payloads always serialise")
            }

            /// The payload as a JSON value.
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self { $( Event::$variant(e) => serde_json::to_value(e), )+ };
                value.expect("event payloads always serialise")
            }

            /// Turns a stored event back into a domain event, upcasting old schema versions.
            pub fn decode(event_type: &str, schema_version: u16, payload: &[u8]) -> Result<Event, DecodeError> {
                let current = current_version(event_type)?;
                if schema_version > current {
                    return Err(DecodeError::FutureVersion { event_type: event_type.to_owned(), version: schema_version, known: current });
                }
                let payload_error = |source| DecodeError::Payload { event_type: event_type.to_owned(), version: schema_version, source };
                if schema_version < current {
                    let old: serde_json::Value = serde_json::from_slice(payload).map_err(payload_error)?;
                    let upcast = crate::upcast::upcast(event_type, schema_version, old);
                    return match event_type {
                        $( $name => serde_json::from_value(upcast).map(Event::$variant).map_err(payload_error), )+
                        other => Err(DecodeError::UnknownType { event_type: other.to_owned() }),
                    };
                }
                match event_type {
                    $( $name => serde_json::from_slice(payload).map(Event::$variant).map_err(payload_error), )+
                    other => Err(DecodeError::UnknownType { event_type: other.to_owned() }),
                }
            }

            /// A JSON Schema for each event type, keyed by stored name.
            pub fn json_schemas() -> Vec<(&'static str, schemars::schema::RootSchema)> {
                vec![ $( ($name, schemars::schema_for!($variant)), )+ ]
            }
        }
    };
}

catalogue! {
    /// See [`YouthReferred`].
    YouthReferred = "YouthReferred" v 2,
    /// See [`NeedAssessed`].
    NeedAssessed = "NeedAssessed" v 1,
    /// See [`ReadinessAssessed`].
    ReadinessAssessed = "ReadinessAssessed" v 1,
    /// See [`SchoolStatusChanged`].
    SchoolStatusChanged = "SchoolStatusChanged" v 1,
    /// See [`ContactRecorded`].
    ContactRecorded = "ContactRecorded" v 1,
    /// See [`ConsentGiven`].
    ConsentGiven = "ConsentGiven" v 1,
    /// See [`ConsentWithdrawn`].
    ConsentWithdrawn = "ConsentWithdrawn" v 1,
    /// See [`CoordinatorOffered`].
    CoordinatorOffered = "CoordinatorOffered" v 1,
    /// See [`CoordinatorAssigned`].
    CoordinatorAssigned = "CoordinatorAssigned" v 1,
    /// See [`CoordinatorDeclined`].
    CoordinatorDeclined = "CoordinatorDeclined" v 1,
    /// See [`CoordinatorJudgedNotRelevant`].
    CoordinatorJudgedNotRelevant = "CoordinatorJudgedNotRelevant" v 1,
    /// See [`CoordinatorReleased`].
    CoordinatorReleased = "CoordinatorReleased" v 1,
    /// See [`CoordinatingCaseworkerAssigned`].
    CoordinatingCaseworkerAssigned = "CoordinatingCaseworkerAssigned" v 1,
    /// See [`TeamAssigned`].
    TeamAssigned = "TeamAssigned" v 1,
    /// See [`TeamHandedOver`].
    TeamHandedOver = "TeamHandedOver" v 1,
    /// See [`PlanUpdated`].
    PlanUpdated = "PlanUpdated" v 1,
    /// See [`TransitionFormRecorded`].
    TransitionFormRecorded = "TransitionFormRecorded" v 1,
    /// See [`TurnedEighteen`].
    TurnedEighteen = "TurnedEighteen" v 1,
    /// See [`AgedOut`].
    AgedOut = "AgedOut" v 1,
    /// See [`DestinationReached`].
    DestinationReached = "DestinationReached" v 1,
    /// See [`CaseClosed`].
    CaseClosed = "CaseClosed" v 1,
    /// See [`MeetingScheduled`].
    MeetingScheduled = "MeetingScheduled" v 1,
    /// See [`CaseTabled`].
    CaseTabled = "CaseTabled" v 1,
    /// See [`DecisionRecorded`].
    DecisionRecorded = "DecisionRecorded" v 1,
    /// See [`MeetingHeld`].
    MeetingHeld = "MeetingHeld" v 1,
    /// See [`MeetingEvaluated`].
    MeetingEvaluated = "MeetingEvaluated" v 1,
    /// See [`MeetingCancelled`].
    MeetingCancelled = "MeetingCancelled" v 1,
    /// See [`StaffRegistered`].
    StaffRegistered = "StaffRegistered" v 2,
    /// See [`StaffCapacityChanged`].
    StaffCapacityChanged = "StaffCapacityChanged" v 1,
    /// See [`StaffDeparted`].
    StaffDeparted = "StaffDeparted" v 1,
    /// See [`MunicipalityConfigured`].
    MunicipalityConfigured = "MunicipalityConfigured" v 1,
    /// See [`CaseRead`].
    CaseRead = "CaseRead" v 2,
    /// See [`PersonalDataErased`].
    PersonalDataErased = "PersonalDataErased" v 1,
    /// See [`LegalHoldPlaced`].
    LegalHoldPlaced = "LegalHoldPlaced" v 1,
    /// See [`LegalHoldLifted`].
    LegalHoldLifted = "LegalHoldLifted" v 1,
    /// See [`AlarmAnswered`].
    AlarmAnswered = "AlarmAnswered" v 1,
    /// See [`AftercareDecided`].
    AftercareDecided = "AftercareDecided" v 1,
    /// See [`AftercareEnded`].
    AftercareEnded = "AftercareEnded" v 1,
}

impl Event {
    /// The young person this event is about, if any.
    pub fn youth_id(&self) -> Option<YouthId> {
        use Event::*;
        Some(match self {
            YouthReferred(e) => e.youth_id,
            NeedAssessed(e) => e.youth_id,
            ReadinessAssessed(e) => e.youth_id,
            SchoolStatusChanged(e) => e.youth_id,
            ContactRecorded(e) => e.youth_id,
            ConsentGiven(e) => e.youth_id,
            ConsentWithdrawn(e) => e.youth_id,
            CoordinatorOffered(e) => e.youth_id,
            CoordinatorAssigned(e) => e.youth_id,
            CoordinatorDeclined(e) => e.youth_id,
            CoordinatorJudgedNotRelevant(e) => e.youth_id,
            CoordinatorReleased(e) => e.youth_id,
            CoordinatingCaseworkerAssigned(e) => e.youth_id,
            TeamAssigned(e) => e.youth_id,
            TeamHandedOver(e) => e.youth_id,
            PlanUpdated(e) => e.youth_id,
            TransitionFormRecorded(e) => e.youth_id,
            TurnedEighteen(e) => e.youth_id,
            AgedOut(e) => e.youth_id,
            DestinationReached(e) => e.youth_id,
            CaseClosed(e) => e.youth_id,
            CaseTabled(e) => e.youth_id,
            DecisionRecorded(e) => e.youth_id,
            CaseRead(e) => e.youth_id,
            PersonalDataErased(e) => e.youth_id,
            LegalHoldPlaced(e) => e.youth_id,
            LegalHoldLifted(e) => e.youth_id,
            AlarmAnswered(e) => e.youth_id,
            AftercareDecided(e) => e.youth_id,
            AftercareEnded(e) => e.youth_id,
            MeetingScheduled(_)
            | MeetingHeld(_)
            | MeetingEvaluated(_)
            | MeetingCancelled(_)
            | StaffRegistered(_)
            | StaffCapacityChanged(_)
            | StaffDeparted(_)
            | MunicipalityConfigured(_) => return None,
        })
    }

    /// A one-line readable summary for histories and logs. Never contains a personal field.
    pub fn summary(&self) -> String {
        use Event::*;
        let opt = |s: &Option<StaffId>| s.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        match self {
            YouthReferred(e) => format!(
                "referred by {} ({}) on {}; school: {}; indicators: {}",
                e.referred_by,
                e.department,
                e.referred_on,
                e.school_status,
                e.indicators.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", ")
            ),
            NeedAssessed(e) => format!("need assessed as {} by {}", e.level, e.assessed_by),
            ReadinessAssessed(e) => format!(
                "readiness in grade {}: {}",
                e.grade,
                if e.education_ready {
                    "education-ready"
                } else {
                    "not education-ready"
                }
            ),
            SchoolStatusChanged(e) => format!("school status {} on {}", e.status, e.on),
            ContactRecorded(e) => format!(
                "contact by {} on {}{}",
                e.by,
                e.on,
                if e.offer_made { " with an offer" } else { "" }
            ),
            ConsentGiven(e) => format!(
                "consent given by {} for {}",
                e.given_by,
                e.departments.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
            ),
            ConsentWithdrawn(e) => format!("consent withdrawn by {}", e.withdrawn_by),
            CoordinatorOffered(e) => format!("coordinator offered by {}", e.offered_by),
            CoordinatorAssigned(e) => format!(
                "coordinator {} ({}) assigned by {}{}",
                e.coordinator,
                e.department,
                e.assigned_by,
                e.meeting.map(|m| format!(" at meeting {m}")).unwrap_or_default()
            ),
            CoordinatorDeclined(e) => format!("coordinator declined by {}", e.declined_by),
            CoordinatorJudgedNotRelevant(e) => {
                format!("coordinator judged not relevant by {}: {}", e.judged_by, e.reason)
            }
            CoordinatorReleased(e) => format!("coordinator {} released ({})", e.coordinator, e.reason),
            CoordinatingCaseworkerAssigned(e) => format!("coordinating caseworker {} ({})", e.caseworker, e.department),
            TeamAssigned(e) => format!("placed in {} ({})", e.team, e.reason),
            TeamHandedOver(e) => format!("handed over from {} to {}", e.from, e.to),
            PlanUpdated(e) => format!(
                "{} revision {}: {} goals, {} actions, by {}",
                e.kind,
                e.revision,
                e.plan.goals.len(),
                e.plan.actions.len(),
                e.updated_by
            ),
            TransitionFormRecorded(e) => {
                format!("transition form: {} h/week expected after 18", e.expected_weekly_hours)
            }
            TurnedEighteen(e) => format!("turned 18 on {}", e.birthday),
            AgedOut(e) => format!("aged out of the band (under {}) on {}", e.band_until, e.on),
            DestinationReached(e) => format!("destination {} on {}", e.destination, e.on),
            CaseClosed(e) => format!("case closed ({})", e.reason),
            MeetingScheduled(e) => format!("{} scheduled for {} ({} min)", e.forum, e.date, e.slot_minutes),
            CaseTabled(e) => format!("case of {} tabled by {} ({} min)", e.youth_id, e.presenter, e.minutes),
            DecisionRecorded(e) => format!(
                "decision for {}: coordinator {}, coordinating caseworker {}, lead {}, {} actions{}",
                e.youth_id,
                opt(&e.coordinator),
                opt(&e.coordinating_caseworker),
                opt(&e.lead),
                e.actions.len(),
                e.follow_up.map(|d| format!(", follow-up {d}")).unwrap_or_default()
            ),
            MeetingHeld(e) => format!("meeting held on {} with {} attendees", e.held_on, e.attendees.len()),
            MeetingEvaluated(e) => format!("meeting evaluated {}/5", e.score),
            MeetingCancelled(e) => format!("meeting cancelled: {}", e.reason),
            StaffRegistered(e) => format!(
                "staff {} registered in {} (capacity {})",
                e.name, e.department, e.capacity
            ),
            StaffCapacityChanged(e) => format!("capacity set to {}", e.capacity),
            StaffDeparted(e) => format!("staff left on {}", e.on),
            MunicipalityConfigured(e) => format!(
                "{} configured: ages {}-{}, coordinator capacity {}",
                e.name, e.age_band.from, e.age_band.until, e.coordinator_capacity
            ),
            CaseRead(e) => format!(
                "case {} by {} ({}) through {} for {}",
                if e.refused.is_some() { "read refused" } else { "read" },
                e.staff_id,
                e.role,
                e.operation,
                e.purpose
            ),
            PersonalDataErased(e) => format!(
                "personal data erased by {} ({}; authority: {}); {} streams",
                e.erased_by,
                e.reason,
                e.authority,
                e.streams.len()
            ),
            LegalHoldPlaced(e) => format!("legal hold placed by {}: {}", e.placed_by, e.reason),
            LegalHoldLifted(e) => format!("legal hold lifted by {}: {}", e.lifted_by, e.reason),
            AftercareDecided(e) => format!("aftercare decided by {} until {}", e.decided_by, e.until),
            AftercareEnded(e) => format!("aftercare ended on {}", e.on),
            AlarmAnswered(e) => format!(
                "alarm {} due {} {} by {}",
                e.rule,
                e.due,
                match &e.answer {
                    AlarmAnswer::Acknowledged => "acknowledged".to_owned(),
                    AlarmAnswer::Assigned { to } => format!("assigned to {to}"),
                    AlarmAnswer::Snoozed { until, reason } => format!("snoozed until {until} ({reason})"),
                },
                e.by
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn stored_names_are_unique() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
        for required in ["YouthReferred", "CoordinatorAssigned", "PlanUpdated", "TurnedEighteen"] {
            assert!(names.contains(&required), "{required} missing");
        }
    }

    #[test]
    fn events_round_trip_through_json() {
        let event = Event::TurnedEighteen(TurnedEighteen {
            youth_id: YouthId(Uuid::from_u128(1)),
            birthday: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
        });
        let bytes = event.to_payload();
        let back = Event::decode(event.event_type(), event.schema_version(), &bytes);
        assert_eq!(back.ok(), Some(event));
    }

    #[test]
    fn a_case_read_stored_before_purposes_decodes_as_unstated_and_a_new_one_round_trips() {
        // As the access log wrote it before reads had purposes (v1).
        let stored = br#"{"youth_id":"01900000-0000-7000-9000-000000000001","staff_id":"01900000-0000-7000-8000-000000000002","role":"auditor","department":"uu","municipality":null,"operation":"history","at":"2026-03-02T09:00:00Z"}"#;
        let event = Event::decode("CaseRead", 1, stored).expect("a catalogued type");
        let Event::CaseRead(read) = &event else {
            panic!("decoded as {}", event.event_type());
        };
        assert_eq!(read.operation, "history");
        assert_eq!(read.purpose, "unstated");
        assert!(read.shown.is_empty() && read.withheld.is_empty() && read.refused.is_none());
        assert_eq!((event.event_type(), event.schema_version()), ("CaseRead", 2));
        assert_eq!(event.youth_id(), Some(read.youth_id));
        // As it is written now (v2): the same bytes back.
        let now = br#"{"youth_id":"01900000-0000-7000-9000-000000000001","staff_id":"01900000-0000-7000-8000-000000000002","role":"caseworker","department":"job_centre","municipality":540,"operation":"youth","at":"2026-03-02T09:00:00Z","purpose":"emergency","reason":"risk of harm","shown":["coordination","education","social"],"withheld":[]}"#;
        let event = Event::decode("CaseRead", 2, now).expect("a catalogued type");
        assert_eq!(event.to_payload(), now.to_vec());
    }

    #[test]
    fn unknown_and_future_types_are_errors() {
        assert!(matches!(
            Event::decode("Nope", 1, b"{}"),
            Err(DecodeError::UnknownType { .. })
        ));
        assert!(matches!(
            Event::decode("TurnedEighteen", 9, b"{}"),
            Err(DecodeError::FutureVersion { .. })
        ));
        assert!(matches!(
            Event::decode("TurnedEighteen", 1, b"{}"),
            Err(DecodeError::Payload { .. })
        ));
    }
}
