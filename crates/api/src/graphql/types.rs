//! Output types, built from aggregates, histories and envelopes.

use async_graphql::{ComplexObject, Context, Json, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use kui_domain::event::Event;
use kui_domain::meeting::MeetingStatus as DomainMeetingStatus;
use kui_domain::values::{age_on, birthday_at};
use kui_domain::youth::{CaseStatus as DomainCaseStatus, CoordinatorState};
use kui_domain::{Meeting, Staff, StaffId, Youth, YouthId};
use kui_engine::history::{hex, CaseState, HistoryEntry};
use kui_log::Envelope;

use super::enums::{
    ActionStatus, CaseStatus, CoordinatorStatus, Department, Destination, Forum, MeetingStatus, NeedLevel, PlanKind,
    ReleaseReason, SchoolStatus, Team,
};
use crate::access::Scope;
use crate::access_log::AccessRecord;
use crate::error::ApiError;
use crate::privacy::Disclosure;

/// A young person's case as it stands now (folded from the `youth-<id>` stream).
///
/// For analysts the record is pseudonymised: `id`, `name`, `cpr`, `birthDate`,
/// `eighteenthBirthday`, the plan's goals and action descriptions are null, `pseudonym`
/// is the only handle, staff are named by staff pseudonym, and the remaining dates
/// (`firstReferredOn`, plan action `due`, `openAlarms`) are the first day of their month
/// (`api::privacy`).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct YouthCase {
    /// The young person's id (null when pseudonymised).
    pub id: Option<ID>,
    /// Full name (null when pseudonymised).
    pub name: Option<String>,
    /// CPR number, DDMMYY-SSSS (null when pseudonymised).
    pub cpr: Option<String>,
    /// Birth date (null when pseudonymised).
    pub birth_date: Option<NaiveDate>,
    /// Age today.
    pub age: u32,
    /// The 18th birthday (null when pseudonymised).
    pub eighteenth_birthday: Option<NaiveDate>,
    /// Municipality code.
    pub municipality: Option<u16>,
    /// Open or closed.
    pub status: CaseStatus,
    /// Need level, once assessed.
    pub need_level: Option<NeedLevel>,
    /// School status.
    pub school_status: Option<SchoolStatus>,
    /// Team.
    pub team: Option<Team>,
    /// Consent on record.
    pub consent: bool,
    /// The coordinator scheme.
    pub coordinator: CoordinatorView,
    /// The coordinating caseworker (staff id; for analysts the staff pseudonym).
    pub coordinating_caseworker: Option<ID>,
    /// The current plan.
    pub plan: Option<PlanView>,
    /// The 18th birthday is recorded.
    pub turned_eighteen: bool,
    /// Destination reached.
    pub destination: Option<Destination>,
    /// Referrals, re-openings included.
    pub referrals: u32,
    /// The first referral's day (for analysts the first day of that month).
    pub first_referred_on: Option<NaiveDate>,
    /// The stream's version: send it as `expectedVersion` to write on what you read.
    pub version: u64,
    /// The indicators of the last referral the reader may see (by class).
    pub indicators: Vec<super::enums::Indicator>,
    /// The last referral's note (null when the `SOCIAL` class is withheld).
    pub referral_note: Option<String>,
    /// The last need assessment's note (null when the `SOCIAL` class is withheld).
    pub need_note: Option<String>,
    /// The purpose this read was recorded with.
    pub purpose: crate::need_to_know::Purpose,
    /// The sensitivity classes shown (`docs/api.md`, "Need to know").
    pub shown: Vec<crate::need_to_know::Class>,
    /// The classes withheld: their fields are null.
    pub withheld: Vec<crate::need_to_know::Class>,
    /// The last day of the aftercare decided (efterværn), while it runs.
    pub aftercare_until: Option<NaiveDate>,
    /// Who, for the fields worked out only when asked for.
    #[graphql(skip)]
    pub youth_id: YouthId,
    /// What the responsible administration is worked out from.
    #[graphql(skip)]
    pub responsibility: (
        Option<NaiveDate>,
        Option<kui_domain::values::NeedLevel>,
        Option<kui_domain::MunicipalityCode>,
    ),
    /// What the reader may see.
    #[graphql(skip)]
    pub scope: Scope,
}

/// The fields of a case that cost something to work out, computed only when selected.
#[ComplexObject]
impl YouthCase {
    /// A stable keyed pseudonym of the id: the same young person always has the same one.
    async fn pseudonym(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let (state, _) = super::caller(ctx)?;
        Ok(Disclosure::new(state, self.scope).youth_pseudonym(self.youth_id))
    }

    /// The administration responsible for the case on `asOf` (default today), by the
    /// municipality's rules of age and need (Hjørring's practice by default); while
    /// aftercare runs, the children's administration. A coordination fact.
    async fn responsible_administration(
        &self,
        ctx: &Context<'_>,
        as_of: Option<NaiveDate>,
    ) -> async_graphql::Result<Option<String>> {
        let (state, _) = super::caller(ctx)?;
        let (birth, need, municipality) = self.responsibility;
        let (Some(birth), Some(municipality)) = (birth, municipality) else {
            return Ok(None);
        };
        let day = as_of.unwrap_or_else(|| state.engine.now().date_naive());
        let (settings, _) = state
            .engine
            .load::<kui_domain::Municipality>(&municipality.stream_name())
            .map_err(ApiError::from)?;
        let rules = settings.settings.map(|s| s.responsibility).unwrap_or_default();
        let age = age_on(birth, day);
        let aftercare = age >= 18 && self.aftercare_until.is_some_and(|until| day <= until);
        Ok(Some(kui_domain::event::ResponsibilityRule::responsible(
            &rules, age, need, aftercare,
        )))
    }

    /// The transition alarms open today (empty when the server runs without read models).
    async fn open_alarms(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::read_models::AlarmView>> {
        let (state, _) = super::caller(ctx)?;
        Ok(super::read_models::open_alarms_of(state, self.scope, self.youth_id))
    }
}

/// The coordinator scheme for one young person.
#[derive(SimpleObject, Debug, Clone)]
pub struct CoordinatorView {
    /// Where it stands.
    pub status: CoordinatorStatus,
    /// The assigned coordinator (staff id; for analysts the staff pseudonym).
    pub staff_id: Option<ID>,
    /// Why the last coordinator stopped.
    pub release_reason: Option<ReleaseReason>,
}

/// The plan: goals and actions from the departments.
#[derive(SimpleObject, Debug, Clone)]
pub struct PlanView {
    /// Revision, from 1.
    pub revision: u32,
    /// Education plan or job plan.
    pub kind: PlanKind,
    /// Overall goals (null when pseudonymised).
    pub goals: Option<Vec<String>>,
    /// Number of goals.
    pub goal_count: u32,
    /// The actions.
    pub actions: Vec<PlanActionView>,
}

/// One action of the plan.
#[derive(SimpleObject, Debug, Clone)]
pub struct PlanActionView {
    /// What is to be done (null when pseudonymised).
    pub description: Option<String>,
    /// The department delivering it.
    pub department: Department,
    /// The responsible staff member (staff id; for analysts the staff pseudonym).
    pub responsible: Option<ID>,
    /// Due date (for analysts the first day of that month).
    pub due: Option<NaiveDate>,
    /// Status.
    pub status: ActionStatus,
}

impl YouthCase {
    /// The case of `youth` (`youth_id`) at `version` as seen on `today` by a reader
    /// with `disclosure` (pseudonymised for analysts) and `sight` (the classes their need
    /// to know reaches), reading for `purpose`.
    pub(crate) fn of(
        youth_id: YouthId,
        youth: &Youth,
        version: u64,
        today: NaiveDate,
        disclosure: Disclosure<'_>,
        sight: &crate::need_to_know::Sight,
        purpose: crate::need_to_know::Purpose,
    ) -> YouthCase {
        use crate::need_to_know::Class;
        let education = sight.sees(Class::Education);
        let social = sight.sees(Class::Social);
        let shown_if = |class: Class| sight.sees(class);
        let id = youth_id.0.to_string();
        let birth = youth.birth_date();
        let (coordinator_status, coordinator_id, release_reason) = match youth.coordinator {
            CoordinatorState::None => (CoordinatorStatus::None, None, None),
            CoordinatorState::Offered => (CoordinatorStatus::Offered, None, None),
            CoordinatorState::Assigned(staff) => (CoordinatorStatus::Assigned, Some(disclosure.staff(staff)), None),
            CoordinatorState::Declined => (CoordinatorStatus::Declined, None, None),
            CoordinatorState::NotRelevant => (CoordinatorStatus::NotRelevant, None, None),
            CoordinatorState::Released(reason) => (CoordinatorStatus::Released, None, Some(reason.into())),
        };
        YouthCase {
            id: disclosure.personal(Some(ID(id))),
            name: disclosure.personal(Some(youth.name.clone())),
            cpr: disclosure.personal(youth.cpr.as_ref().map(|c| c.formatted())),
            birth_date: disclosure.personal(birth),
            age: birth.map(|b| age_on(b, today)).unwrap_or(0),
            eighteenth_birthday: disclosure.personal(birth.map(|b| birthday_at(b, 18))),
            municipality: youth.municipality.map(u16::from),
            status: match youth.status {
                DomainCaseStatus::Closed => CaseStatus::Closed,
                DomainCaseStatus::Open | DomainCaseStatus::Unknown => CaseStatus::Open,
            },
            need_level: youth.need_level.filter(|_| social).map(Into::into),
            school_status: youth.school_status.filter(|_| education).map(Into::into),
            team: youth.team.map(Into::into),
            consent: youth.consent,
            coordinator: CoordinatorView {
                status: coordinator_status,
                staff_id: coordinator_id,
                release_reason,
            },
            coordinating_caseworker: youth.coordinating_caseworker.map(|staff| disclosure.staff(staff)),
            plan: youth.plan.as_ref().map(|(kind, plan)| PlanView {
                revision: youth.plan_revision,
                kind: (*kind).into(),
                goals: disclosure.personal(Some(plan.goals.clone())).filter(|_| education),
                goal_count: u32::try_from(plan.goals.len()).unwrap_or(u32::MAX),
                actions: plan
                    .actions
                    .iter()
                    .map(|action| PlanActionView {
                        description: disclosure
                            .personal(Some(action.description.clone()))
                            .filter(|_| shown_if(Class::of_department(action.department))),
                        department: action.department.into(),
                        responsible: action.responsible.map(|staff| disclosure.staff(staff)),
                        due: disclosure.date_opt(action.due),
                        status: action.status.into(),
                    })
                    .collect(),
            }),
            turned_eighteen: youth.turned_eighteen,
            destination: youth.destination.filter(|_| education).map(Into::into),
            referrals: youth.referrals,
            first_referred_on: disclosure.date_opt(youth.first_referred_on),
            version,
            indicators: youth
                .indicators
                .iter()
                .filter(|indicator| shown_if(Class::of_indicator(**indicator)))
                .map(|indicator| (*indicator).into())
                .collect(),
            referral_note: disclosure
                .personal(Some(youth.referral_note.clone()))
                .filter(|note| social && !note.is_empty()),
            need_note: disclosure
                .personal(Some(youth.need_note.clone()))
                .filter(|note| social && !note.is_empty()),
            purpose,
            shown: sight.shown.clone(),
            withheld: sight.withheld.clone(),
            aftercare_until: youth.aftercare_until,
            responsibility: (birth, youth.need_level, youth.municipality),
            youth_id,
            scope: disclosure.scope(),
        }
    }
}

/// Who wrote an event.
#[derive(SimpleObject, Debug, Clone)]
pub struct ActorView {
    /// The staff member (null for the engine itself).
    pub staff_id: Option<ID>,
    /// The role acted in (`system` for the engine).
    pub role: String,
    /// The department.
    pub department: Option<String>,
}

impl From<&kui_log::Actor> for ActorView {
    fn from(actor: &kui_log::Actor) -> Self {
        ActorView {
            staff_id: actor.staff_id.clone().map(ID),
            role: actor.role.clone(),
            department: actor.department.clone(),
        }
    }
}

/// One stored event with its envelope.
#[derive(SimpleObject, Debug, Clone)]
pub struct LoggedEvent {
    /// Global position (gap-free from 1).
    pub position: u64,
    /// The stream it belongs to.
    pub stream: String,
    /// Its version in that stream.
    pub version: u64,
    /// Event id.
    pub event_id: ID,
    /// Stored type name, e.g. `CoordinatorAssigned`.
    #[graphql(name = "type")]
    pub event_type: String,
    /// Stored schema version.
    pub schema_version: u16,
    /// Business time.
    pub occurred_at: DateTime<Utc>,
    /// When the log recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: ActorView,
    /// The command that wrote it.
    pub command_id: Option<ID>,
    /// The event or command that caused it.
    pub causation_id: Option<ID>,
    /// The wider piece of work it belongs to.
    pub correlation_id: Option<ID>,
    /// A readable one-line summary (never contains the CPR number).
    pub summary: String,
    /// The payload, upcast to the current schema.
    pub payload: Json<serde_json::Value>,
    /// The chain hash (SHA-256, hex).
    pub hash: String,
}

fn id(uuid: Option<uuid::Uuid>) -> Option<ID> {
    uuid.map(|u| ID(u.to_string()))
}

impl From<HistoryEntry> for LoggedEvent {
    fn from(entry: HistoryEntry) -> Self {
        LoggedEvent {
            position: entry.position,
            stream: entry.stream,
            version: entry.version,
            event_id: ID(entry.event_id.to_string()),
            event_type: entry.event_type,
            schema_version: entry.schema_version,
            occurred_at: entry.occurred_at,
            recorded_at: entry.recorded_at,
            actor: (&entry.actor).into(),
            command_id: id(entry.command_id),
            causation_id: id(entry.causation_id),
            correlation_id: id(entry.correlation_id),
            summary: entry.summary,
            payload: Json(entry.payload),
            hash: entry.hash,
        }
    }
}

impl LoggedEvent {
    /// An envelope with its decoded (upcast) event.
    pub fn of(envelope: &Envelope, event: &Event) -> LoggedEvent {
        LoggedEvent {
            position: envelope.position.0,
            stream: envelope.stream.to_string(),
            version: envelope.version.0,
            event_id: ID(envelope.event_id.to_string()),
            event_type: envelope.event_type.clone(),
            schema_version: envelope.schema_version,
            occurred_at: envelope.metadata.occurred_at,
            recorded_at: envelope.metadata.recorded_at,
            actor: (&envelope.metadata.actor).into(),
            command_id: id(envelope.metadata.command_id),
            causation_id: id(envelope.metadata.causation_id),
            correlation_id: id(envelope.metadata.correlation_id),
            summary: event.summary(),
            payload: Json(event.to_json()),
            hash: hex(&envelope.hash),
        }
    }
}

/// A young person's history, optionally cut at a date.
#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryView {
    /// The young person.
    pub youth_id: ID,
    /// The cut-off date, if any.
    pub as_of: Option<NaiveDate>,
    /// Every event about them, across streams, in log order.
    pub entries: Vec<LoggedEvent>,
    /// The case after the last entry.
    pub state: Option<CaseStateView>,
}

/// A readable snapshot of a case at the end of a history.
#[derive(SimpleObject, Debug, Clone)]
pub struct CaseStateView {
    /// Name.
    pub name: String,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// open / closed.
    pub status: String,
    /// Need level.
    pub need_level: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// School status.
    pub school_status: Option<String>,
    /// Coordinator state, e.g. `assigned: <staff id>`.
    pub coordinator: String,
    /// Coordinating caseworker.
    pub coordinating_caseworker: Option<String>,
    /// Plan kind and revision.
    pub plan: Option<String>,
    /// Consent on record.
    pub consent: bool,
    /// The 18th birthday is recorded.
    pub turned_eighteen: bool,
    /// Destination.
    pub destination: Option<String>,
}

impl From<CaseState> for CaseStateView {
    fn from(state: CaseState) -> Self {
        CaseStateView {
            name: state.name,
            birth_date: state.birth_date,
            status: state.status,
            need_level: state.need_level,
            team: state.team,
            school_status: state.school_status,
            coordinator: state.coordinator,
            coordinating_caseworker: state.coordinating_caseworker,
            plan: state.plan,
            consent: state.consent,
            turned_eighteen: state.turned_eighteen,
            destination: state.destination,
        }
    }
}

// The one fold of that stream is the domain's `Meeting` aggregate; `MeetingView::of`
// translates it. The doc comment below is the type's description in the schema.
/// A meeting with its agenda and decisions (folded from the `meeting-<id>` stream).
#[derive(SimpleObject, Debug, Clone)]
pub struct MeetingView {
    /// The meeting.
    pub id: ID,
    /// Municipality code.
    pub municipality: u16,
    /// Forum.
    pub forum: Forum,
    /// The day.
    pub date: NaiveDate,
    /// Minutes available for cases.
    pub slot_minutes: u32,
    /// Minutes the agenda needs.
    pub agenda_minutes: u32,
    /// Scheduled, held or cancelled.
    pub status: MeetingStatus,
    /// Who scheduled it.
    pub scheduled_by: ID,
    /// Cases on the agenda, in tabling order.
    pub agenda: Vec<AgendaItem>,
    /// Decisions recorded.
    pub decisions: Vec<DecisionView>,
    /// The day it was held.
    pub held_on: Option<NaiveDate>,
    /// Who took part.
    pub attendees: Vec<ID>,
    /// The meeting's own evaluation, 1 to 5.
    pub evaluation_score: Option<u8>,
    /// The evaluation's note.
    pub evaluation_note: Option<String>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The stream's version.
    pub version: u64,
}

/// One case on a meeting's agenda.
#[derive(SimpleObject, Debug, Clone)]
pub struct AgendaItem {
    /// The young person.
    pub youth_id: ID,
    /// Who presents the case.
    pub presenter: ID,
    /// Minutes set aside: 15, or 30 when complex.
    pub minutes: u32,
    /// Complex, or several professionals take part.
    pub complex: bool,
    /// A decision was recorded for this case.
    pub decided: bool,
}

/// What a meeting decided on one case.
#[derive(SimpleObject, Debug, Clone)]
pub struct DecisionView {
    /// The young person.
    pub youth_id: ID,
    /// The coordinator appointed.
    pub coordinator: Option<ID>,
    /// The coordinating caseworker appointed.
    pub coordinating_caseworker: Option<ID>,
    /// The lead of the coordinating team.
    pub lead: Option<ID>,
    /// Who does what.
    pub actions: Vec<DecisionActionView>,
    /// Documentation still needed.
    pub documentation_needed: Vec<String>,
    /// When progress is checked.
    pub follow_up: Option<NaiveDate>,
    /// The coordinating team's first meeting.
    pub first_team_meeting: Option<NaiveDate>,
}

/// One agreed action.
#[derive(SimpleObject, Debug, Clone)]
pub struct DecisionActionView {
    /// What is to be done.
    pub what: String,
    /// The department doing it.
    pub department: Department,
    /// The named person.
    pub who: Option<ID>,
    /// By when.
    pub due: Option<NaiveDate>,
}

impl MeetingView {
    /// The view of the `Meeting` aggregate at `version`; `None` when it was never
    /// scheduled. The aggregate is the one fold of a meeting's events: this only
    /// translates it.
    pub fn of(meeting: &Meeting, version: u64) -> Option<MeetingView> {
        let staff = |id: StaffId| ID(id.to_string());
        let (Some(id), Some(municipality), Some(forum), Some(date), Some(scheduled_by)) = (
            meeting.id,
            meeting.municipality,
            meeting.forum,
            meeting.date,
            meeting.scheduled_by,
        ) else {
            return None;
        };
        Some(MeetingView {
            id: ID(id.to_string()),
            municipality: municipality.get(),
            forum: forum.into(),
            date,
            slot_minutes: meeting.slot_minutes,
            agenda_minutes: meeting.agenda_minutes(),
            status: match meeting.status {
                DomainMeetingStatus::Held => MeetingStatus::Held,
                DomainMeetingStatus::Cancelled => MeetingStatus::Cancelled,
                DomainMeetingStatus::Scheduled | DomainMeetingStatus::Unknown => MeetingStatus::Scheduled,
            },
            scheduled_by: staff(scheduled_by),
            agenda: meeting
                .agenda
                .iter()
                .map(|item| AgendaItem {
                    youth_id: ID(item.youth_id.to_string()),
                    presenter: staff(item.presenter),
                    minutes: item.minutes,
                    complex: item.complex,
                    decided: meeting.is_decided(item.youth_id),
                })
                .collect(),
            decisions: meeting
                .decisions
                .iter()
                .map(|e| DecisionView {
                    youth_id: ID(e.youth_id.to_string()),
                    coordinator: e.coordinator.map(staff),
                    coordinating_caseworker: e.coordinating_caseworker.map(staff),
                    lead: e.lead.map(staff),
                    actions: e
                        .actions
                        .iter()
                        .map(|a| DecisionActionView {
                            what: a.what.clone(),
                            department: a.department.into(),
                            who: a.who.map(staff),
                            due: a.due,
                        })
                        .collect(),
                    documentation_needed: e.documentation_needed.clone(),
                    follow_up: e.follow_up,
                    first_team_meeting: e.first_team_meeting,
                })
                .collect(),
            held_on: meeting.held_on,
            attendees: meeting.attendees.iter().copied().map(staff).collect(),
            evaluation_score: meeting.evaluation.as_ref().map(|e| e.score),
            evaluation_note: meeting.evaluation.as_ref().map(|e| e.note.clone()),
            cancel_reason: meeting.cancel_reason.clone(),
            version,
        })
    }
}

/// A staff member (folded from the `staff-<id>` stream).
#[derive(SimpleObject, Debug, Clone)]
pub struct StaffView {
    /// The staff member.
    pub id: ID,
    /// Full name.
    pub name: String,
    /// Department.
    pub department: Option<Department>,
    /// Municipality code.
    pub municipality: Option<u16>,
    /// How many young people they can coordinate.
    pub capacity: u16,
    /// Still employed.
    pub active: bool,
    /// The stream's version.
    pub version: u64,
}

impl StaffView {
    /// The view of a registered staff member.
    pub fn of(staff: &Staff, version: u64) -> Result<StaffView, ApiError> {
        let id = staff.id.ok_or_else(|| ApiError::not_found("staff member"))?;
        Ok(StaffView {
            id: ID(id.to_string()),
            name: staff.name.clone(),
            department: staff.department.map(Into::into),
            municipality: staff.municipality.map(u16::from),
            capacity: staff.capacity,
            active: staff.is_active(),
            version,
        })
    }
}

/// One recorded read of a young person's case.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccessRecordView {
    /// Position in the access log.
    pub position: u64,
    /// The young person.
    pub youth_id: ID,
    /// Who read.
    pub staff_id: ID,
    /// In which role.
    pub role: String,
    /// Their department.
    pub department: String,
    /// Their municipality.
    pub municipality: Option<u16>,
    /// Through which operation: `youth`, `history`, `meeting`, `youngPeople`, `events` or
    /// `subjectAccessReport`.
    pub operation: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why (`unstated` for reads recorded before purposes were).
    pub purpose: String,
    /// The reason of an emergency read.
    pub reason: Option<String>,
    /// The sensitivity classes shown.
    pub shown: Vec<String>,
    /// The classes withheld.
    pub withheld: Vec<String>,
    /// The error code of a refused read (nothing was shown).
    pub refused: Option<String>,
}

impl From<AccessRecord> for AccessRecordView {
    fn from(record: AccessRecord) -> Self {
        AccessRecordView {
            position: record.position,
            youth_id: ID(record.read.youth_id.to_string()),
            staff_id: ID(record.read.staff_id),
            role: record.read.role,
            department: record.read.department,
            municipality: record.read.municipality,
            operation: record.read.operation,
            at: record.read.at,
            purpose: record.read.purpose,
            reason: record.read.reason,
            shown: record.read.shown,
            withheld: record.read.withheld,
            refused: record.read.refused,
        }
    }
}

/// What a full verification found.
#[derive(SimpleObject, Debug, Clone)]
pub struct VerifyView {
    /// True when the chain and every invariant hold.
    pub ok: bool,
    /// Events checked (when ok).
    pub events: u64,
    /// Streams seen (when ok).
    pub streams: u64,
    /// The last position checked.
    pub head_position: Option<u64>,
    /// The last event's hash, hex.
    pub head_hash: Option<String>,
    /// Young people replayed.
    pub youth: u64,
    /// Meetings replayed.
    pub meetings: u64,
    /// The first bad position, when not ok.
    pub first_bad_position: Option<u64>,
    /// What is wrong there, when not ok.
    pub problem: Option<String>,
}

/// What a command wrote.
#[derive(SimpleObject, Debug, Clone)]
pub struct CommandResult {
    /// The stream the command addressed, e.g. `youth-<uuid>`.
    pub stream_id: String,
    /// The addressed record's id (youth, meeting or staff uuid, or municipality code).
    pub aggregate_id: ID,
    /// The stream's new version: the next `expectedVersion`.
    pub version: u64,
    /// The log position of the last event written.
    pub position: u64,
    /// The log position of the first event written.
    pub first_position: u64,
    /// True when this `commandId` was seen before: this is the first result again and
    /// nothing new was written.
    pub replayed: bool,
    /// Every stream written, with its new version (a meeting decision may also write the
    /// young person's stream).
    pub streams: Vec<StreamVersion>,
    /// With `waitForProjections`: whether the read models caught up with `position` in
    /// time. Null when not asked.
    pub projections_caught_up: Option<bool>,
}

/// A stream and its version.
#[derive(SimpleObject, Debug, Clone)]
pub struct StreamVersion {
    /// The stream.
    pub stream_id: String,
    /// Its version after the command.
    pub version: u64,
}
