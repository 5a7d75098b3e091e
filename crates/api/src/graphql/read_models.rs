//! Queries and the alarm feed answered from the read models: young people with filters
//! and cursors, teams, meetings, caseload, transition alarms and statistics.
//!
//! Lists that name young people follow the `read case` row of the permission matrix:
//! municipal roles see their own municipality (asking for another is `FORBIDDEN`),
//! analysts get pseudonyms instead of names and ids. Statistics are aggregates: every
//! role may read them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, Enum, Object, SimpleObject, Subscription, ID};
use chrono::NaiveDate;
use futures_util::Stream;
use kui_domain::{MunicipalityCode, YouthId};
use kui_engine::read_models::models::alarms::{Alarm, Rule};
use kui_engine::read_models::models::caseload::CoordinatorLoad;
use kui_engine::read_models::queries::YouthFilter;
use kui_engine::read_models::{Projections, ReadModels};
use tokio::sync::mpsc;

use super::caller;
use super::enums::{Department, Forum, NeedLevel, Team};
use crate::access::{authorize, Operation, Scope};
use crate::access_log::Read;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::privacy::Disclosure;
use crate::state::{blocking, ApiState, HeapSize};

/// Largest page of `youngPeople`.
const MAX_PAGE: usize = 200;

/// The transition-alarm rules.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kui_engine::read_models::models::alarms::Rule")]
pub enum AlarmRule {
    /// Turning 18 soon without a job-centre or adult-services owner.
    EighteenWithoutAdultOwner,
    /// The coordinating team has not met by its first meeting / the 17th birthday.
    CoordinatingTeamNotMet,
    /// No transition form for a C-need young person of 14-17.
    TransitionFormMissing,
    /// The transition form was not updated in January or June/July.
    TransitionFormStale,
    /// The plan was untouched too long.
    PlanStale,
    /// The referral was never discussed at a meeting that was held.
    ReferralNotTabled,
    /// No contact after a dropout.
    DropoutNoContact,
    /// No offer after a dropout.
    DropoutNoOffer,
    /// The coordinator, coordinating caseworker, team lead or plan owner left.
    OwnerDeparted,
    /// A meeting decision's follow-up date passed without a follow-up meeting.
    FollowUpOverdue,
    /// Aftercare ends (or ended) with nobody on the adult side.
    AftercareEndsWithoutAdultOwner,
}

/// Where the (voluntary) coordinator scheme stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kui_engine::read_models::models::caseload::Scheme")]
pub enum SchemeState {
    /// Nothing offered or decided.
    None,
    /// Offered, no answer yet.
    Offered,
    /// A coordinator is assigned.
    Assigned,
    /// Declined.
    Declined,
    /// Judged not relevant.
    NotRelevant,
    /// The coordinator course was completed.
    Completed,
    /// Released for another reason.
    Released,
}

/// A young person as a list shows them: id and name, or only a pseudonym for analysts.
#[derive(SimpleObject, Debug, Clone)]
pub struct PersonRef {
    /// The young person's id (null when pseudonymised).
    pub id: Option<ID>,
    /// A stable keyed pseudonym, the same as the case's `pseudonym`.
    pub pseudonym: String,
    /// Name (null when pseudonymised).
    pub name: Option<String>,
}

/// The read models hold no names (they never see personal fields); a name is opened by
/// the engine, under the young person's key, for readers who may see it.
fn person(state: &ApiState, scope: Scope, youth: YouthId) -> PersonRef {
    let disclosure = Disclosure::new(state, scope);
    let name = if disclosure.personal(Some(())).is_some() {
        state.engine.youth_name(youth).ok().flatten()
    } else {
        None
    };
    PersonRef {
        id: disclosure.personal(Some(ID(youth.to_string()))),
        pseudonym: disclosure.youth_pseudonym(youth),
        name,
    }
}

/// One young person in the listing.
#[derive(SimpleObject, Debug, Clone)]
pub struct YouthRowView {
    /// Who.
    pub person: PersonRef,
    /// Age on the report date.
    pub age: u32,
    /// Municipality code.
    pub municipality: u16,
    /// Open case.
    pub open: bool,
    /// Team.
    pub team: Option<Team>,
    /// Need level (null when the `SOCIAL` class is withheld from the reader).
    pub need_level: Option<NeedLevel>,
    /// The coordinator scheme.
    pub scheme: SchemeState,
    /// The coordinator's staff id (for analysts their staff pseudonym).
    pub coordinator: Option<ID>,
    /// The coordinator's department.
    pub coordinator_department: Option<Department>,
    /// The coordinating caseworker's staff id (for analysts their staff pseudonym).
    pub coordinating_caseworker: Option<ID>,
    /// Open transition alarms on the report date.
    pub open_alarms: u32,
}

/// One edge of a page.
#[derive(SimpleObject, Debug, Clone)]
pub struct YouthEdge {
    /// Pass as `after` to continue after this row.
    pub cursor: String,
    /// The row.
    pub node: YouthRowView,
}

/// Paging information (Relay style).
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// More rows follow.
    pub has_next_page: bool,
    /// The last edge's cursor.
    pub end_cursor: Option<String>,
}

/// A page of young people.
#[derive(SimpleObject, Debug, Clone)]
pub struct YouthConnection {
    /// The rows of this page, by id (for analysts by pseudonym).
    pub edges: Vec<YouthEdge>,
    /// Paging.
    pub page_info: PageInfo,
    /// Rows matching the filter in all.
    pub total_count: u32,
    /// The sensitivity classes the rows show (`docs/api.md`, "Need to know").
    pub shown: Vec<crate::need_to_know::Class>,
    /// The classes withheld: their fields are null in every row.
    pub withheld: Vec<crate::need_to_know::Class>,
}

/// A team now.
#[derive(SimpleObject, Debug, Clone)]
pub struct TeamView {
    /// The team.
    pub team: Team,
    /// Members with an open case.
    pub member_count: u32,
    /// Days between meetings.
    pub cadence_days: u16,
    /// The last meeting held.
    pub last_meeting: Option<NaiveDate>,
    /// The next scheduled meeting.
    pub next_meeting: Option<NaiveDate>,
    /// Members (at most `membersLimit`, by id; for analysts by pseudonym).
    pub members: Vec<TeamMemberView>,
}

/// A member of a team.
#[derive(SimpleObject, Debug, Clone)]
pub struct TeamMemberView {
    /// Who.
    pub person: PersonRef,
    /// Age.
    pub age: u32,
    /// Why this team: `age`, `school_status` or `explicit`.
    pub reason: Option<String>,
    /// Member since (for analysts the first day of that month).
    pub since: Option<NaiveDate>,
}

/// Someone about to change team.
#[derive(SimpleObject, Debug, Clone)]
pub struct TeamMoveView {
    /// Who.
    pub person: PersonRef,
    /// From.
    pub from: Team,
    /// To.
    pub to: Team,
    /// The day (the 18th birthday; for analysts the first day of that month).
    pub on: NaiveDate,
}

/// The teams.
#[derive(SimpleObject, Debug, Clone)]
pub struct TeamsView {
    /// The report date.
    pub as_of: NaiveDate,
    /// Teams 1, 2 and 3.
    pub teams: Vec<TeamView>,
    /// Who moves team within `withinDays`, by day (for analysts by month, then pseudonym).
    pub moving: Vec<TeamMoveView>,
}

/// A meeting in a listing.
#[derive(SimpleObject, Debug, Clone)]
pub struct MeetingSummaryView {
    /// The meeting.
    pub id: ID,
    /// Forum.
    pub forum: Forum,
    /// Day.
    pub date: NaiveDate,
    /// `scheduled`, `held` or `cancelled`.
    pub status: String,
    /// Cases on the agenda.
    pub cases: u32,
    /// Minutes booked by the agenda.
    pub booked_minutes: u32,
    /// Minutes available.
    pub slot_minutes: u32,
    /// The agenda needs more than the slot.
    pub over_slot: bool,
    /// Decisions recorded.
    pub decisions: u32,
}

/// A follow-up due or overdue.
#[derive(SimpleObject, Debug, Clone)]
pub struct FollowUpView {
    /// Who.
    pub person: PersonRef,
    /// The deciding meeting.
    pub meeting: ID,
    /// Its forum.
    pub forum: Forum,
    /// The deciding meeting's day.
    pub decided_at: NaiveDate,
    /// The follow-up date.
    pub follow_up: NaiveDate,
    /// The date passed.
    pub overdue: bool,
}

/// Meetings.
#[derive(SimpleObject, Debug, Clone)]
pub struct MeetingsView {
    /// The report date.
    pub as_of: NaiveDate,
    /// Scheduled from the report date on.
    pub upcoming: Vec<MeetingSummaryView>,
    /// The most recent before it, newest first.
    pub past: Vec<MeetingSummaryView>,
    /// Follow-ups due within 14 days or overdue.
    pub follow_ups: Vec<FollowUpView>,
}

/// A coordinator's load.
#[derive(SimpleObject, Debug, Clone)]
pub struct CoordinatorLoadView {
    /// Staff id (for analysts the staff pseudonym, which `coordinatorLoad` and the
    /// `coordinator` filter of `youngPeople` accept from them).
    pub staff: ID,
    /// Name (null for analysts, who may not read staff).
    pub name: Option<String>,
    /// Department.
    pub department: Option<Department>,
    /// Open cases coordinated.
    pub active: u32,
    /// Capacity.
    pub capacity: u32,
    /// More than capacity.
    pub over_capacity: bool,
}

fn coordinator_load_view(disclosure: Disclosure<'_>, load: &CoordinatorLoad) -> CoordinatorLoadView {
    CoordinatorLoadView {
        staff: disclosure.staff(load.staff_id),
        name: disclosure.personal(Some(load.name.clone())),
        department: load.department.map(Into::into),
        active: count(load.active),
        capacity: u32::from(load.capacity),
        over_capacity: load.over_capacity,
    }
}

/// A department's load.
#[derive(SimpleObject, Debug, Clone)]
pub struct DepartmentLoadView {
    /// Department.
    pub department: Department,
    /// Coordinators with cases.
    pub coordinators: u32,
    /// Open cases coordinated from it.
    pub coordinated: u32,
    /// Open cases with a coordinating caseworker from it.
    pub caseworker_cases: u32,
}

/// A C-need young person without a coordinator.
#[derive(SimpleObject, Debug, Clone)]
pub struct UnassignedView {
    /// Who.
    pub person: PersonRef,
    /// Where the scheme stands.
    pub scheme: SchemeState,
}

/// The caseload.
#[derive(SimpleObject, Debug, Clone)]
pub struct CaseloadView {
    /// Per coordinator, most loaded first (for analysts named by staff pseudonym, in
    /// pseudonym order among equals).
    pub coordinators: Vec<CoordinatorLoadView>,
    /// Per department.
    pub departments: Vec<DepartmentLoadView>,
    /// C-need young people with an open case and no coordinator, by id (for analysts
    /// by pseudonym).
    pub unassigned_c_need: Vec<UnassignedView>,
}

/// An open transition alarm.
#[derive(SimpleObject, Debug, Clone)]
pub struct AlarmView {
    /// The rule.
    pub rule: AlarmRule,
    /// Who.
    pub person: PersonRef,
    /// Municipality code.
    pub municipality: u16,
    /// The deadline (for analysts the first day of that month).
    pub due: NaiveDate,
    /// The day it opened (for analysts the first day of that month, or of the month it
    /// fell due if that is earlier).
    pub opened_on: NaiveDate,
    /// Who should act (staff id; for analysts the staff pseudonym), when known.
    pub act: Option<ID>,
    /// In which capacity.
    pub act_as: String,
    /// What is missing (null when pseudonymised).
    pub detail: Option<String>,
    /// Acknowledged by whoever should act.
    pub acknowledged: bool,
    /// Snoozed until this day.
    pub snoozed_until: Option<NaiveDate>,
    /// 0 within the answer time; 1 with the team lead; 2 with the municipal youth
    /// coordinator (`docs/read-models.md`, "Answering alarms").
    pub escalation: u8,
}

fn alarm_view(state: &ApiState, scope: Scope, alarm: &Alarm) -> AlarmView {
    let disclosure = Disclosure::new(state, scope);
    AlarmView {
        rule: alarm.rule.into(),
        person: person(state, scope, alarm.youth_id),
        municipality: alarm.municipality.get(),
        due: disclosure.date(alarm.due),
        opened_on: disclosure.date_not_after(alarm.opened_on, alarm.due),
        act: alarm.act.map(|staff| disclosure.staff(staff)),
        act_as: alarm.act_as.to_owned(),
        detail: (scope != Scope::Pseudonymised).then(|| alarm.detail.clone()),
        acknowledged: alarm.acknowledged,
        snoozed_until: alarm.snoozed_until.map(|until| disclosure.date(until)),
        escalation: alarm.escalation,
    }
}

/// `alarms` (by due date) in the order the reader may see them: for analysts by the
/// month they are due, then by pseudonym and rule.
fn in_order(state: &ApiState, scope: Scope, mut alarms: Vec<Alarm>) -> Vec<Alarm> {
    Disclosure::new(state, scope).order(&mut alarms, |alarm| (Some(alarm.due), alarm.youth_id, alarm.rule));
    alarms
}

/// The alarms open today for one young person (none without read models).
pub(crate) fn open_alarms_of(state: &ApiState, scope: Scope, youth: YouthId) -> Vec<AlarmView> {
    let Some(read_models) = state.engine.read_models() else {
        return Vec::new();
    };
    let today = state.engine.now().date_naive();
    let alarms = read_models.read().alarms.alarms_of(youth, today);
    in_order(state, scope, alarms)
        .iter()
        .map(|alarm| alarm_view(state, scope, alarm))
        .collect()
}

/// The Viborg table.
#[derive(SimpleObject, Debug, Clone)]
pub struct ViborgView {
    /// The date.
    pub as_of: Option<NaiveDate>,
    /// With an assigned coordinator.
    pub assigned: Option<u32>,
    /// Declined.
    pub declined: Option<u32>,
    /// Judged not relevant.
    pub not_relevant: Option<u32>,
    /// Course completed.
    pub completed: Option<u32>,
    /// The four rows together.
    pub total: Option<u32>,
    /// Distinct coordinators.
    pub coordinators: Option<u32>,
    /// Referred by then.
    pub referred: Option<u32>,
}

/// One month's flows.
#[derive(SimpleObject, Debug, Clone)]
pub struct MonthView {
    /// `YYYY-MM`.
    pub month: String,
    /// Referrals.
    pub referrals: Option<u32>,
    /// Meetings held.
    pub meetings_held: Option<u32>,
    /// Destinations reached.
    pub destinations: Option<u32>,
    /// Of those positive.
    pub positive_destinations: Option<u32>,
    /// Cases closed.
    pub closed: Option<u32>,
    /// 18th birthdays.
    pub eighteenth_birthdays: Option<u32>,
    /// With the adult side in place beforehand.
    pub handed_over_on_time: Option<u32>,
    /// The Viborg table at the end of the month.
    pub viborg: Option<ViborgView>,
}

/// Statistics. For analysts every count from 1 to the server's smallest cell less one
/// (4 by default) is null, and so is any cell it could be recovered from (another row of a
/// table whose total is shown; a share computed from it): `docs/api.md`, "Small cells".
#[derive(SimpleObject, Debug, Clone)]
pub struct StatisticsView {
    /// The date.
    pub as_of: NaiveDate,
    /// The Viborg table on it.
    pub viborg: ViborgView,
    /// 18th birthdays up to it.
    pub eighteenth_birthdays: Option<u32>,
    /// With the adult side in place beforehand.
    pub handed_over_on_time: Option<u32>,
    /// Their share, 0-1.
    pub share_on_time: Option<f64>,
    /// Per month.
    pub months: Vec<MonthView>,
}

/// What the cached reports hold below themselves: their strings and lists.
macro_rules! heap_size_of_fields {
    ($($ty:ty: $($field:ident),*;)*) => {
        $(impl HeapSize for $ty {
            fn heap_size(&self) -> usize {
                0 $(+ self.$field.heap_size())*
            }
        })*
    };
}

heap_size_of_fields! {
    PersonRef: id, pseudonym, name;
    TeamMemberView: person, reason;
    TeamView: members;
    TeamMoveView: person;
    TeamsView: teams, moving;
    MeetingSummaryView: id, status;
    FollowUpView: person, meeting;
    MeetingsView: upcoming, past, follow_ups;
    CoordinatorLoadView: staff, name;
    DepartmentLoadView: ;
    UnassignedView: person;
    CaseloadView: coordinators, departments, unassigned_c_need;
    AlarmView: person, act, act_as, detail;
    CoordinatorLoad: name;
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn viborg_view(table: &kui_engine::read_models::models::statistics::ViborgTable, cells: Cells) -> ViborgView {
    let mut rows = [
        cells.of(table.assigned),
        cells.of(table.declined),
        cells.of(table.not_relevant),
        cells.of(table.completed),
    ];
    let total = cells.of(table.total);
    cells.protect(&mut rows, total.is_some());
    let [assigned, declined, not_relevant, completed] = rows;
    ViborgView {
        as_of: table.as_of,
        assigned,
        declined,
        not_relevant,
        completed,
        total,
        coordinators: cells.of(table.coordinators),
        referred: cells.of(table.referred),
    }
}

/// Small-cell suppression: counts from 1 to `min - 1` are withheld (`min` 0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cells {
    min: u32,
}

impl Cells {
    /// Suppression for `principal` reading statistics of `municipality` (all when
    /// `None`): analysts only, at the municipality's smallest cell (across every
    /// municipality, the largest of their settings).
    pub(crate) fn for_reader(
        models: &kui_engine::read_models::models::ReadModels,
        principal: &Principal,
        municipality: Option<MunicipalityCode>,
    ) -> Cells {
        let analyst = crate::access::grant(principal.role, Operation::ReadCase) == crate::access::Grant::Pseudo;
        Cells {
            min: if analyst {
                u32::from(models.directory.min_cell(municipality))
            } else {
                0
            },
        }
    }

    /// A count as shown.
    pub(crate) fn of(self, n: usize) -> Option<u32> {
        let n = count(n);
        (n == 0 || n >= self.min).then_some(n)
    }

    /// Secondary suppression for the rows of a table whose total is shown: one withheld
    /// row would follow from the total and the others, so the smallest other non-zero row
    /// is withheld too.
    pub(crate) fn protect(self, rows: &mut [Option<u32>], total_shown: bool) {
        if !total_shown || rows.iter().filter(|row| row.is_none()).count() != 1 {
            return;
        }
        let smallest = rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| row.filter(|n| *n > 0).map(|n| (n, i)))
            .min();
        if let Some((_, i)) = smallest {
            rows[i] = None;
        }
    }
}

/// The read models behind the engine, or why there are none.
fn read_models(state: &ApiState) -> Result<Arc<Projections>, ApiError> {
    state
        .engine
        .read_models()
        .cloned()
        .ok_or_else(|| ApiError::internal(&NoReadModels))
}

/// The server was started without read models.
#[derive(Debug, thiserror::Error)]
#[error("the server runs without read models")]
struct NoReadModels;

/// The municipality a caller may list: their own for municipal roles (asking for another
/// is forbidden), the one asked for (or all) otherwise.
fn municipality_for(scope: Scope, asked: Option<u16>) -> Result<Option<MunicipalityCode>, ApiError> {
    let asked = asked.map(MunicipalityCode::new).transpose().map_err(ApiError::from)?;
    match (scope, asked) {
        (Scope::Municipality(own), Some(other)) if other != own => {
            Err(ApiError::forbidden(format!("you may list municipality {own} only")))
        }
        (Scope::Municipality(own), _) => Ok(Some(own)),
        (_, asked) => Ok(asked),
    }
}

/// Runs `work` on the live models for `on` (today unless given: a date today or later;
/// a past date is [`as_of_past`]'s).
fn with_models<T>(
    state: &ApiState,
    on: Option<NaiveDate>,
    work: impl FnOnce(&ReadModels, NaiveDate) -> T,
) -> Result<T, ApiError> {
    let projections = read_models(state)?;
    let day = on.unwrap_or_else(|| state.engine.now().date_naive());
    let answer = work(&projections.read(), day);
    Ok(answer)
}

/// [`with_models`], with the result cached under `key` until the models move on or the
/// day changes.
fn cached_with_models<T: Clone + HeapSize + Send + Sync + 'static>(
    state: &ApiState,
    key: String,
    on: Option<NaiveDate>,
    work: impl FnOnce(&ReadModels, NaiveDate) -> T,
) -> Result<T, ApiError> {
    let projections = read_models(state)?;
    let day = on.unwrap_or_else(|| state.engine.now().date_naive());
    // The position is read first: a report computed while the models move on is labelled
    // with the older position and simply computed again next time.
    let position = projections.position();
    Ok(state
        .reports
        .get_or(key, position, day, || work(&projections.read(), day)))
}

/// Runs `work` on the models as they stood at the end of `date`, a past day: the read
/// models' kept fold of that day brought up to date, or a fold of the whole log when the
/// day is not kept (`kui_projections::past`).
/// A fold with more than `Limits::fold_in_place` events to read (a day not kept, on any
/// but a small log) is admitted by the fold gate (a few at once, `BUSY` beyond its line);
/// bringing a kept day up to date with what was written since takes milliseconds and
/// waits for no turn.
/// Every fold stops as soon as the request is dropped (its deadline passed or its client
/// left), so that none keeps a core busy for a result nobody reads; what it folded is
/// kept for the next request about the day.
async fn as_of_past<T: Send + 'static>(
    state: &ApiState,
    date: NaiveDate,
    work: impl FnOnce(&ReadModels) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let projections = read_models(state)?;
    let past = projections.past_day(date);
    let permit = if past.behind(projections.log().as_ref())? > state.limits.fold_in_place {
        Some(state.folds.enter().await?)
    } else {
        None
    };
    let stop = StopOnDrop::default();
    let stopped = Arc::clone(&stop.0);
    let answer = blocking(move || {
        // Held until the fold has ended, even when nobody waits for it any more.
        let _permit = permit;
        Ok(projections.answer_as_of(&past, 2, &mut |_, _| {}, &stopped, work)?)
    })
    .await;
    drop(stop);
    answer
}

/// Sets its flag when dropped: the request's side of a fold's stop flag, dropped with
/// the request's future, whether it finished or was given up.
#[derive(Default)]
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The report cached under `key`, if the models have not moved since it was computed
/// (and the day has not changed): a lookup, answered without a blocking thread.
fn cached_report<T: Clone + Send + Sync + 'static>(state: &ApiState, key: &str) -> Result<Option<T>, ApiError> {
    let position = read_models(state)?.position();
    Ok(state.reports.get(key, position, state.engine.now().date_naive()))
}

/// Today's report under `key`: in place from the cache while the models have not moved,
/// else built on a blocking thread (and cached). Shared, not copied, with every caller.
async fn live_report<T: HeapSize + Send + Sync + 'static>(
    state: &ApiState,
    key: String,
    build: impl FnOnce(&ApiState, &ReadModels, NaiveDate) -> T + Send + 'static,
) -> Result<Arc<T>, ApiError> {
    if let Some(report) = cached_report(state, &key)? {
        return Ok(report);
    }
    let state = state.clone();
    blocking(move || {
        cached_with_models(&state, key, None, |models, today| {
            Arc::new(build(&state, models, today))
        })
    })
    .await
}

impl From<kui_engine::read_models::ProjectionError> for ApiError {
    fn from(error: kui_engine::read_models::ProjectionError) -> Self {
        match error {
            // Only a request that has gone stops a fold: nobody sees this, nothing to log.
            kui_engine::read_models::ProjectionError::Stopped => ApiError::Abandoned,
            other => kui_engine::EngineError::from(other).into(),
        }
    }
}

/// The read-model queries.
#[derive(Default)]
pub struct ReadModelQuery;

#[Object]
impl ReadModelQuery {
    /// Young people matching every filter given, by id (for analysts by pseudonym), a
    /// page at a time (`first` at most 200; pass the last `cursor` as `after`). Reads are
    /// recorded in the access log.
    #[allow(clippy::too_many_arguments)]
    async fn young_people(
        &self,
        ctx: &Context<'_>,
        municipality: Option<u16>,
        open: Option<bool>,
        team: Option<Team>,
        need_level: Option<NeedLevel>,
        coordinator: Option<ID>,
        department: Option<Department>,
        min_age: Option<u32>,
        max_age: Option<u32>,
        has_alarm: Option<bool>,
        #[graphql(default = 50)] first: usize,
        after: Option<String>,
        purpose: Option<crate::need_to_know::Purpose>,
        reason: Option<String>,
    ) -> async_graphql::Result<YouthConnection> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadCase)?;
        let stated = crate::need_to_know::purpose(principal, purpose, reason.as_deref())?;
        // A list answers from the read models, which know neither consent nor who
        // coordinates whom: its rows show what the reader's role and department reach.
        let sight = if scope == Scope::Pseudonymised {
            crate::need_to_know::Sight::everything()
        } else {
            crate::need_to_know::sight(principal, &stated, &kui_domain::Youth::default())
        };
        let social = sight.sees(crate::need_to_know::Class::Social);
        if need_level.is_some() && !social {
            return Err(ApiError::forbidden(
                "filtering by need level needs the social class, which your need to know does not reach",
            )
            .into());
        }
        let coordinator = coordinator
            .map(|id| Disclosure::new(state, scope).staff_argument(&id, "coordinator"))
            .transpose()?;
        let mut filter = YouthFilter {
            municipality: municipality_for(scope, municipality)?,
            open,
            team: team.map(Into::into),
            need: need_level.map(Into::into),
            coordinator: None,
            department: department.map(Into::into),
            min_age,
            max_age,
            has_alarm,
        };
        if first == 0 || first > MAX_PAGE {
            return Err(ApiError::invalid("first", format!("must be 1 to {MAX_PAGE}")).into());
        }
        let offset = match after.as_deref() {
            None => 0,
            Some(cursor) => cursor
                .strip_prefix("o:")
                .and_then(|n| n.parse::<usize>().ok())
                .map(|n| n + 1)
                .ok_or_else(|| ApiError::invalid("after", "not a cursor this query returned"))?,
        };
        let (state, principal) = (state.clone(), principal.clone());
        Ok(blocking(move || {
            let disclosure = Disclosure::new(&state, scope);
            let (rows, total) = with_models(&state, None, |models, today| {
                let known = || models.directory.staff.keys().copied();
                filter.coordinator = match &coordinator {
                    None => None,
                    Some(wanted) => match wanted.resolve(disclosure, known()) {
                        Some(staff) => Some(staff),
                        // A pseudonym nobody has coordinates nobody.
                        None => return (Vec::new(), 0),
                    },
                };
                let mut rows = models.young_people(&filter, today);
                if scope == Scope::Pseudonymised {
                    // Municipalities that show analysts statistics only list nobody.
                    rows.retain(|row| models.directory.privacy(row.municipality).pseudonymised_records);
                }
                disclosure.order(&mut rows, |row| (None, row.youth_id, ()));
                let total = rows.len();
                (
                    rows.into_iter()
                        .enumerate()
                        .skip(offset)
                        .take(first + 1)
                        .collect::<Vec<_>>(),
                    total,
                )
            })?;
            let has_next_page = rows.len() > first;
            let page: Vec<_> = rows.into_iter().take(first).collect();
            let read: Vec<YouthId> = page.iter().map(|(_, row)| row.youth_id).collect();
            let record = Read::of("youngPeople", &stated, &sight.shown, &sight.withheld);
            state.access_log.record(&principal, &record, &read)?;
            let edges: Vec<YouthEdge> = page
                .into_iter()
                .map(|(index, row)| YouthEdge {
                    cursor: format!("o:{index}"),
                    node: YouthRowView {
                        person: person(&state, scope, row.youth_id),
                        age: row.age,
                        municipality: row.municipality.get(),
                        open: row.open,
                        team: row.team.map(Into::into),
                        need_level: row.need.filter(|_| social).map(Into::into),
                        scheme: row.scheme.into(),
                        coordinator: row.coordinator.map(|(staff, _)| disclosure.staff(staff)),
                        coordinator_department: row.coordinator.map(|(_, d)| d.into()),
                        coordinating_caseworker: row.caseworker.map(|(staff, _)| disclosure.staff(staff)),
                        open_alarms: count(row.open_alarms),
                    },
                })
                .collect();
            Ok(YouthConnection {
                page_info: PageInfo {
                    has_next_page,
                    end_cursor: edges.last().map(|edge| edge.cursor.clone()),
                },
                edges,
                total_count: count(total),
                shown: sight.shown.clone(),
                withheld: sight.withheld.clone(),
            })
        })
        .await?)
    }

    /// Teams 1-3 now: members (by id, for analysts by pseudonym; at most `membersLimit`
    /// each), cadence, last and next meeting, and who moves team within `withinDays` (for
    /// analysts to the end of the month that window ends in).
    async fn teams(
        &self,
        ctx: &Context<'_>,
        municipality: Option<u16>,
        #[graphql(default = 90)] within_days: u32,
        #[graphql(default = 50)] members_limit: usize,
    ) -> async_graphql::Result<Arc<TeamsView>> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadCase)?;
        let municipality = municipality_for(scope, municipality)?;
        let key = format!("teams:{municipality:?}:{scope:?}:{within_days}:{members_limit}");
        Ok(live_report(state, key, move |state, models, today| {
            let disclosure = Disclosure::new(state, scope);
            let within_days = disclosure.window_days(today, within_days);
            let report = models
                .teams
                .report(&models.directory, &models.meetings, municipality, today, within_days);
            TeamsView {
                as_of: report.as_of,
                teams: report
                    .teams
                    .iter()
                    .map(|team| TeamView {
                        team: team.team.into(),
                        member_count: count(team.count),
                        cadence_days: team.cadence_days,
                        last_meeting: team.last_meeting,
                        next_meeting: team.next_meeting,
                        members: disclosure
                            .ordered(&team.members, |m| (None, m.youth_id, ()))
                            .into_iter()
                            .take(members_limit)
                            .map(|m| TeamMemberView {
                                person: person(state, scope, m.youth_id),
                                age: m.age,
                                reason: m.reason.map(|r| r.to_string()),
                                since: disclosure.date_opt(m.since),
                            })
                            .collect(),
                    })
                    .collect(),
                moving: disclosure
                    .ordered(&report.moving, |m| (Some(m.on), m.youth_id, ()))
                    .into_iter()
                    .map(|m| TeamMoveView {
                        person: person(state, scope, m.youth_id),
                        from: m.from.into(),
                        to: m.to.into(),
                        on: disclosure.date(m.on),
                    })
                    .collect(),
            }
        })
        .await?)
    }

    /// Upcoming and recent meetings (optionally of one forum) and follow-ups due.
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        municipality: Option<u16>,
        forum: Option<Forum>,
        #[graphql(default = 20)] past_limit: usize,
    ) -> async_graphql::Result<Arc<MeetingsView>> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadMeeting)?;
        let municipality = municipality_for(scope, municipality)?;
        let key = format!("meetings:{municipality:?}:{scope:?}:{forum:?}:{past_limit}");
        Ok(live_report(state, key, move |state, models, today| {
            let report = models
                .meetings
                .report(municipality, forum.map(Into::into), today, past_limit);
            let summary = |m: &kui_engine::read_models::models::meetings::MeetingSummary| MeetingSummaryView {
                id: ID(m.meeting_id.to_string()),
                forum: m.forum.into(),
                date: m.date,
                status: format!("{:?}", m.status).to_lowercase(),
                cases: count(m.cases),
                booked_minutes: m.booked_minutes,
                slot_minutes: m.slot_minutes,
                over_slot: m.over_slot,
                decisions: count(m.decisions),
            };
            MeetingsView {
                as_of: report.as_of,
                upcoming: report.upcoming.iter().map(summary).collect(),
                past: report.past.iter().map(summary).collect(),
                follow_ups: report
                    .follow_ups
                    .iter()
                    .map(|f| FollowUpView {
                        person: person(state, scope, f.youth_id),
                        meeting: ID(f.meeting_id.to_string()),
                        forum: f.forum.into(),
                        decided_at: f.decided_at,
                        follow_up: f.follow_up,
                        overdue: f.follow_up < report.as_of,
                    })
                    .collect(),
            }
        })
        .await?)
    }

    /// Caseload per coordinator and department, and the C-need young people nobody
    /// coordinates.
    async fn caseload(&self, ctx: &Context<'_>, municipality: Option<u16>) -> async_graphql::Result<Arc<CaseloadView>> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadCase)?;
        let municipality = municipality_for(scope, municipality)?;
        let key = format!("caseload:{municipality:?}:{scope:?}");
        Ok(live_report(state, key, move |state, models, _| {
            let report = models.caseload.report(&models.directory, municipality);
            let disclosure = Disclosure::new(state, scope);
            CaseloadView {
                coordinators: disclosure
                    .staff_ordered(&report.coordinators, |load| (Reverse(load.active), load.staff_id))
                    .into_iter()
                    .map(|load| coordinator_load_view(disclosure, load))
                    .collect(),
                departments: report
                    .departments
                    .iter()
                    .map(|d| DepartmentLoadView {
                        department: d.department.into(),
                        coordinators: count(d.coordinators),
                        coordinated: count(d.coordinated),
                        caseworker_cases: count(d.caseworker_cases),
                    })
                    .collect(),
                unassigned_c_need: disclosure
                    .ordered(&report.unassigned_c_need, |u| (None, u.youth_id, ()))
                    .into_iter()
                    .map(|u| UnassignedView {
                        person: person(state, scope, u.youth_id),
                        scheme: u.scheme.into(),
                    })
                    .collect(),
            }
        })
        .await?)
    }

    /// One coordinator's caseload: the open cases they coordinate against their capacity.
    /// Analysts name the coordinator by staff pseudonym and get no name back.
    /// `NOT_FOUND` for staff not registered (or, for municipal roles, registered in
    /// another municipality).
    async fn coordinator_load(&self, ctx: &Context<'_>, staff: ID) -> async_graphql::Result<CoordinatorLoadView> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadCase)?;
        let disclosure = Disclosure::new(state, scope);
        let wanted = disclosure.staff_argument(&staff, "staff")?;
        // An in-memory lookup, cached until the models move on: answered in place.
        let found = cached_with_models(
            state,
            format!("coordinator-load:{}", wanted.label()),
            None,
            |models, _| {
                let staff_id = wanted.resolve(disclosure, models.directory.staff.keys().copied())?;
                let municipality = models.directory.staff.get(&staff_id).map(|row| row.municipality);
                models
                    .caseload
                    .coordinator_load(&models.directory, staff_id)
                    .zip(municipality)
            },
        )?;
        let not_found = || format!("staff member {}", wanted.label());
        let (load, municipality) = found.ok_or_else(|| ApiError::not_found(not_found()))?;
        scope.require(Some(municipality), not_found)?;
        Ok(coordinator_load_view(disclosure, &load))
    }

    /// Open transition alarms on `asOf` (default today; for analysts the last day of the
    /// month of `asOf`), by due date (for analysts by month due, then pseudonym),
    /// optionally of one rule, escalated at least `minEscalation`, or only the caller's to
    /// act on (`mine`); at most `limit`.
    #[allow(clippy::too_many_arguments)]
    async fn alarms(
        &self,
        ctx: &Context<'_>,
        municipality: Option<u16>,
        rule: Option<AlarmRule>,
        as_of: Option<NaiveDate>,
        #[graphql(default = 100)] limit: usize,
        min_escalation: Option<u8>,
        mine: Option<bool>,
    ) -> async_graphql::Result<Vec<AlarmView>> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadCase)?;
        let municipality = municipality_for(scope, municipality)?;
        let as_of = as_of.map(|date| Disclosure::new(state, scope).as_of(date));
        // `mine`: the alarms the caller is asked to act on (as the named person, or
        // escalated to them as team lead or youth coordinator).
        let me = mine.unwrap_or(false).then_some((principal.staff, principal.role));
        let state = state.clone();
        let report = move |state: &ApiState, models: &ReadModels, day: NaiveDate| -> Vec<AlarmView> {
            let report = models.alarms.report(municipality, rule.map(Into::into), day);
            let wanted = |alarm: &Alarm| {
                min_escalation.is_none_or(|level| alarm.escalation >= level)
                    && me.is_none_or(|(staff, role)| {
                        alarm.act == Some(staff)
                            || (role == kui_engine::Role::TeamLead
                                && (alarm.escalation >= 1 || alarm.act_as == "team lead"))
                            || (role == kui_engine::Role::YouthCoordinator && alarm.escalation >= 2)
                    })
            };
            in_order(
                state,
                scope,
                report.alarms.into_iter().filter(|alarm| wanted(alarm)).collect(),
            )
            .iter()
            .take(limit)
            .map(|alarm| alarm_view(state, scope, alarm))
            .collect()
        };
        match as_of {
            Some(date) if date < state.engine.now().date_naive() => {
                let for_views = state.clone();
                Ok(as_of_past(&state, date, move |models| report(&for_views, models, date)).await?)
            }
            on => {
                let key = format!("alarms:{municipality:?}:{scope:?}:{rule:?}:{limit}:{min_escalation:?}:{me:?}");
                Ok(
                    blocking(move || cached_with_models(&state, key, on, |models, day| report(&state, models, day)))
                        .await?,
                )
            }
        }
    }

    /// The Viborg table, hand-over timeliness and monthly flows as of `asOf` (default
    /// today; for analysts the last day of the month of `asOf`). Aggregates only: every
    /// role may ask.
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        municipality: Option<u16>,
        as_of: Option<NaiveDate>,
    ) -> async_graphql::Result<StatisticsView> {
        let (state, principal) = caller(ctx)?;
        let municipality = match principal.municipality {
            Some(own) if crate::access::is_municipal(principal.role) => {
                municipality_for(Scope::Municipality(own), municipality)?
            }
            _ => municipality_for(Scope::Everywhere, municipality)?,
        };
        let as_of = as_of.map(|date| Disclosure::for_principal(state, principal).as_of(date));
        let principal = principal.clone();
        let state = state.clone();
        Ok(blocking(move || {
            let projections = read_models(&state)?;
            let day = as_of.unwrap_or_else(|| state.engine.now().date_naive());
            let (report, cells) = {
                let models = projections.read();
                (
                    models.statistics.report(municipality, day),
                    Cells::for_reader(&models, &principal, municipality),
                )
            };
            let by_month: BTreeMap<String, ViborgView> = report
                .viborg_by_month
                .iter()
                .filter_map(|t| t.as_of.map(|d| (d.format("%Y-%m").to_string(), viborg_view(t, cells))))
                .collect();
            let share = |on_time: Option<u32>, birthdays: Option<u32>, share: f64| {
                // A share computed from a withheld count would give it away.
                on_time.and(birthdays).map(|_| share)
            };
            let birthdays = cells.of(report.handover.birthdays);
            let on_time = cells.of(report.handover.on_time);
            Ok(StatisticsView {
                as_of: report.as_of,
                viborg: viborg_view(&report.viborg, cells),
                eighteenth_birthdays: birthdays,
                handed_over_on_time: on_time,
                share_on_time: share(on_time, birthdays, report.handover.share_on_time),
                months: report
                    .months
                    .iter()
                    .map(|m| MonthView {
                        month: m.month.clone(),
                        referrals: cells.of(m.referrals),
                        meetings_held: cells.of(m.meetings_held),
                        destinations: cells.of(m.destinations.values().sum()),
                        positive_destinations: cells.of(m.positive_destinations),
                        closed: cells.of(m.closed),
                        eighteenth_birthdays: cells.of(m.eighteenth_birthdays),
                        handed_over_on_time: cells.of(m.handed_over_on_time),
                        viborg: by_month.get(&m.month).cloned(),
                    })
                    .collect(),
            })
        })
        .await?)
    }
}

/// A change of an alarm.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmChangeKind {
    /// The alarm opened.
    Opened,
    /// The fact that satisfies it arrived (or the case closed).
    Closed,
}

/// An alarm that opened or closed.
#[derive(SimpleObject, Debug, Clone)]
pub struct AlarmChange {
    /// Opened or closed.
    pub change: AlarmChangeKind,
    /// The log position that caused it (null for alarms open when the feed started).
    pub position: Option<u64>,
    /// The alarm.
    pub alarm: AlarmView,
}

/// How often the alarm feed looks at the log.
const ALARM_POLL: Duration = Duration::from_millis(200);

/// The alarm feed.
#[derive(Default)]
pub struct AlarmSubscription;

#[Subscription]
impl AlarmSubscription {
    /// Alarms as they open and close: first every alarm open now (`OPENED`, no position),
    /// then the changes each new event causes, after the read models applied it.
    async fn alarms(
        &self,
        ctx: &Context<'_>,
        municipality: Option<u16>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<AlarmChange>>> {
        let (state, principal) = caller(ctx)?;
        let scope = authorize(principal, Operation::ReadCase)?;
        let municipality = municipality_for(scope, municipality)?;
        let projections = read_models(state)?;
        let state = state.clone();
        Ok(super::subscription::feed("kui-alarm-feed", move |sender| {
            follow_alarms(&state, &projections, scope, municipality, sender)
        })?)
    }
}

/// The alarms the feed knows to be open, by young person.
type Open = BTreeMap<YouthId, Vec<Alarm>>;

fn key(alarm: &Alarm) -> (Rule, NaiveDate) {
    (alarm.rule, alarm.due)
}

fn follow_alarms(
    state: &ApiState,
    projections: &Projections,
    scope: Scope,
    municipality: Option<MunicipalityCode>,
    sender: &mpsc::Sender<Result<AlarmChange, ApiError>>,
) {
    let mine = |alarm: &Alarm| municipality.is_none_or(|m| m == alarm.municipality);
    let send = |change: AlarmChangeKind, position: Option<u64>, alarm: &Alarm| {
        let item = AlarmChange {
            change,
            position,
            alarm: alarm_view(state, scope, alarm),
        };
        sender.blocking_send(Ok(item)).is_ok()
    };
    let (start, mut open): (u64, Open) = {
        let models = projections.read();
        let today = state.engine.now().date_naive();
        let mut open = Open::new();
        let alarms = models.alarms.alarms(today).into_iter().filter(|a| mine(a)).collect();
        for alarm in in_order(state, scope, alarms) {
            if !send(AlarmChangeKind::Opened, None, &alarm) {
                return;
            }
            open.entry(alarm.youth_id).or_default().push(alarm);
        }
        (projections.position(), open)
    };
    let mut subscription = state.engine.log().subscribe(kui_log::Position(start + 1));
    loop {
        if sender.is_closed() {
            return;
        }
        let envelope = match subscription.next_timeout(ALARM_POLL) {
            Ok(Some(envelope)) => envelope,
            Ok(None) => continue,
            Err(error) => {
                let _ = sender.blocking_send(Err(error.into()));
                return;
            }
        };
        // Undecodable events are the operators' business; `verifyLog` names them.
        let Ok(event) = kui_engine::decode(&envelope) else {
            continue;
        };
        let position = envelope.position.0;
        if !alarm_relevant(&event) {
            continue;
        }
        if !projections.wait_for(position, Duration::from_secs(10)) {
            continue;
        }
        let today = state.engine.now().date_naive();
        let models = projections.read();
        for youth in affected(&event, &models) {
            let now: Vec<Alarm> = models
                .alarms
                .alarms_of(youth, today)
                .into_iter()
                .filter(|a| mine(a))
                .collect();
            let before = open.remove(&youth).unwrap_or_default();
            let after: BTreeSet<(Rule, NaiveDate)> = now.iter().map(key).collect();
            let was: BTreeSet<(Rule, NaiveDate)> = before.iter().map(key).collect();
            for alarm in now.iter().filter(|a| !was.contains(&key(a))) {
                if !send(AlarmChangeKind::Opened, Some(position), alarm) {
                    return;
                }
            }
            for alarm in before.iter().filter(|a| !after.contains(&key(a))) {
                if !send(AlarmChangeKind::Closed, Some(position), alarm) {
                    return;
                }
            }
            if !now.is_empty() {
                open.insert(youth, now);
            }
        }
    }
}

/// Whether an event can change anyone's alarms.
fn alarm_relevant(event: &kui_domain::Event) -> bool {
    use kui_domain::Event;
    event.youth_id().is_some()
        || matches!(
            event,
            Event::MeetingHeld(_)
                | Event::MeetingCancelled(_)
                | Event::StaffDeparted(_)
                | Event::MunicipalityConfigured(_)
        )
}

/// The young people whose alarms `event` may have changed: the one it is about, those on
/// a meeting's agenda when it is held or cancelled, everyone when a staff member leaves
/// or a municipality's thresholds change.
fn affected(event: &kui_domain::Event, models: &kui_engine::read_models::models::ReadModels) -> Vec<YouthId> {
    use kui_domain::Event;
    if let Some(youth) = event.youth_id() {
        return vec![youth];
    }
    match event {
        Event::MeetingHeld(kui_domain::event::MeetingHeld { meeting_id, .. })
        | Event::MeetingCancelled(kui_domain::event::MeetingCancelled { meeting_id, .. }) => models
            .meetings
            .meetings
            .get(meeting_id)
            .map(|meeting| meeting.agenda.iter().map(|item| item.youth_id).collect())
            .unwrap_or_default(),
        _ => models.alarms.watches.keys().copied().collect(),
    }
}
