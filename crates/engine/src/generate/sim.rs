//! The day-by-day loop, the simulated clock, staff, and the wrappers that run commands
//! through the aggregates and hand the result to the sink.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use kui_domain::event::{AlarmSettings, MunicipalityConfigured, TeamCadence};
use kui_domain::meeting::Meeting;
use kui_domain::values::{AgeBand, CloseReason, Department, Forum, NeedLevel};
use kui_domain::youth::CaseStatus;
use kui_domain::{
    Aggregate, CaseCommand, Event, MeetingCommand, MeetingId, Municipality, MunicipalityCode, MunicipalityCommand,
    Rejection, Staff, StaffCommand, StaffId, Youth, YouthId, YouthInput,
};
use uuid::{Builder, Uuid};

use super::rng::Rng;
use super::text;
use super::{GenerateStats, Planned, PlannedActor, PlannedAppend, Preset};

pub(super) const HOUR_MS: i64 = 3_600_000;
/// Staff work from 07:00 UTC (08:00 in Copenhagen in winter)...
const WORK_START_MS: i64 = 7 * HOUR_MS;
/// ...for eight hours.
const WORK_SPAN_MS: i64 = 8 * HOUR_MS;

/// Actor roles, as `PlannedActor::role`.
pub(super) mod role {
    pub(crate) const CASEWORKER: &str = "caseworker";
    pub(crate) const COORDINATOR: &str = "coordinator";
    pub(crate) const TEAM_LEAD: &str = "team_lead";
    pub(crate) const YOUTH_COORDINATOR: &str = "youth_coordinator";
    pub(crate) const ADMIN: &str = "admin";
    pub(crate) const SYSTEM: &str = "system";
}

/// What a staff member does in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StaffRole {
    Caseworker,
    TeamLead,
    YouthCoordinator,
}

/// A staff member: the aggregate plus what the simulation needs to choose people.
pub(super) struct StaffSim {
    pub(super) id: StaffId,
    pub(super) department: Department,
    pub(super) role: StaffRole,
    pub(super) capacity: u16,
    /// Young people this person currently coordinates.
    pub(super) load: u16,
    pub(super) active: bool,
    agg: Staff,
    version: u64,
    /// Young people this person was ever coordinator for; checked against the case on use.
    pub(super) coordinating: Vec<u32>,
    /// Young people this person was ever coordinating caseworker for; checked on use.
    pub(super) casework: Vec<u32>,
}

/// How the coordinator question is settled for a case that goes to a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CoordPath {
    /// Not decided yet (or not a meeting case).
    Undecided,
    /// The meeting judges a coordinator not relevant.
    NotRelevant,
    /// Offered while preparing the case; the meeting appoints the coordinator.
    MeetingAssign,
    /// The meeting asks for an offer afterwards; a team lead assigns on acceptance.
    OfferAfter,
}

/// Why a case is on a meeting's agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    Initial,
    FollowUp,
    Handover18,
}

/// One young person: the aggregate and the simulation's plans for them.
pub(super) struct YouthSim {
    pub(super) agg: Youth,
    pub(super) version: u64,
    pub(super) id: YouthId,
    pub(super) birth: NaiveDate,
    /// Bumped when the case closes, so the old case's pending tasks lapse.
    pub(super) gen: u16,
    pub(super) need: NeedLevel,
    /// The primary caseworker: UU under 18, job centre from 18.
    pub(super) responsible: u32,
    pub(super) coordinator: Option<u32>,
    pub(super) caseworker: Option<u32>,
    /// Departments involved, one bit per `Department::ALL` index.
    pub(super) departments: u16,
    pub(super) school_delay: u8,
    pub(super) path: CoordPath,
    pub(super) extensions: u8,
    pub(super) follow_ups: u8,
    pub(super) offers: u8,
    pub(super) transition_hours: u8,
    pub(super) neglected: bool,
    pub(super) guardian_consent: bool,
    pub(super) transition: bool,
    pub(super) k_meeting: bool,
    pub(super) complex: bool,
    pub(super) initial_done: bool,
}

/// What a task does when its day comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Refer,
    ReRefer,
    AssessNeed,
    Consent,
    ConsentWithdraw,
    ConsentRenewal,
    Contact,
    PlanUpdate,
    SchoolStep,
    SchoolLeave,
    Readiness,
    DropoutContact,
    DropoutOffer,
    TransitionForm,
    Table(Purpose),
    Offer,
    Answer,
    CoordinatorWithdraw,
    Handover18Coordinator,
    MoveAway,
    Close,
    Eighteen,
    AgedOut,
    Hire(Department, StaffRole),
    Depart,
    ChangeCapacity,
    ScheduleMeetings,
    HoldMeeting,
}

/// A task: `target` is a youth, staff or meeting index by kind; `gen` the case generation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Task {
    pub(super) target: u32,
    pub(super) gen: u16,
    pub(super) kind: Kind,
}

/// The whole simulated municipality.
pub(crate) struct Sim<'s> {
    pub(super) rng: Rng,
    sink: &'s mut dyn FnMut(Planned),
    pub(super) stats: GenerateStats,
    rejections: BTreeMap<String, u64>,
    pub(super) municipality: MunicipalityCode,
    municipality_name: &'static str,
    pub(super) band: AgeBand,
    n_staff: u32,
    n_youth: u32,
    pub(super) start: NaiveDate,
    pub(super) n_days: i64,
    /// Index of the simulated day, from 0 at `start`.
    pub(super) day: i64,
    pub(super) today: NaiveDate,
    slot_ms: i64,
    last_ms: i64,
    municipality_agg: Municipality,
    municipality_version: u64,
    pub(super) staff: Vec<StaffSim>,
    pub(super) staff_by_id: HashMap<StaffId, u32>,
    /// Active caseworkers per department (`Department::ALL` order).
    caseworkers: [Vec<u32>; 9],
    /// Active team leads per department.
    leads: [Vec<u32>; 9],
    youth_coordinators: Vec<u32>,
    pub(super) youth: Vec<Option<Box<YouthSim>>>,
    pub(super) used_cpr: HashSet<u64>,
    referrals: Vec<u32>,
    buckets: Vec<Vec<Task>>,
    system_buckets: Vec<Vec<Task>>,
    closed: Vec<(u32, CloseReason)>,
    pub(super) series: Vec<super::meetings::Series>,
    pub(super) meetings: Vec<super::meetings::MeetingSim>,
    pub(super) next_meeting_key: u32,
}

/// The index of a department in `Department::ALL`.
pub(super) fn dept_index(department: Department) -> usize {
    match department {
        Department::Uu => 0,
        Department::JobCentre => 1,
        Department::ChildrenAndFamily => 2,
        Department::AdultDisability => 3,
        Department::Ppr => 4,
        Department::Health => 5,
        Department::SubstanceAbuse => 6,
        Department::YouthSchool => 7,
        Department::Other => 8,
    }
}

/// The departments in a bitmask, in `Department::ALL` order.
pub(super) fn departments_in(mask: u16) -> Vec<Department> {
    Department::ALL
        .iter()
        .copied()
        .filter(|d| mask & (1 << dept_index(*d)) != 0)
        .collect()
}

pub(super) fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    date + TimeDelta::days(days)
}

/// Caseworkers by department, after the one of each that every municipality has.
const CASEWORKER_MIX: &[(Department, u32)] = &[
    (Department::Uu, 28),
    (Department::JobCentre, 28),
    (Department::ChildrenAndFamily, 16),
    (Department::AdultDisability, 9),
    (Department::Ppr, 6),
    (Department::Health, 5),
    (Department::SubstanceAbuse, 4),
    (Department::YouthSchool, 3),
    (Department::Other, 1),
];

const LEAD_DEPARTMENTS: [Department; 5] = [
    Department::Uu,
    Department::JobCentre,
    Department::ChildrenAndFamily,
    Department::AdultDisability,
    Department::Health,
];

impl<'s> Sim<'s> {
    pub(crate) fn new(preset: &Preset, sink: &'s mut dyn FnMut(Planned)) -> Self {
        let n_days = (preset.end - preset.start).num_days().max(1);
        let mut rng = Rng::new(preset.seed);
        let referrals = referral_calendar(&mut rng, preset.start, n_days, preset.n_youth);
        let n_buckets = usize::try_from(n_days).unwrap_or(0);
        Sim {
            rng,
            sink,
            stats: GenerateStats::default(),
            rejections: BTreeMap::new(),
            municipality: preset.municipality,
            municipality_name: preset.municipality_name,
            band: preset.age_band,
            n_staff: preset.n_staff,
            n_youth: preset.n_youth,
            start: preset.start,
            n_days,
            day: 0,
            today: preset.start,
            slot_ms: 0,
            last_ms: i64::MIN / 2,
            municipality_agg: Municipality::default(),
            municipality_version: 0,
            staff: Vec::new(),
            staff_by_id: HashMap::new(),
            caseworkers: Default::default(),
            leads: Default::default(),
            youth_coordinators: Vec::new(),
            youth: Vec::new(),
            used_cpr: HashSet::new(),
            referrals,
            buckets: vec![Vec::new(); n_buckets],
            system_buckets: vec![Vec::new(); n_buckets],
            closed: Vec::new(),
            series: Vec::new(),
            meetings: Vec::new(),
            next_meeting_key: 0,
        }
    }

    /// Runs every day and returns the statistics and the refused commands.
    pub(crate) fn run(mut self) -> (GenerateStats, BTreeMap<String, u64>) {
        self.begin_day(0);
        self.slot_ms = self.day_start_ms() + 6 * HOUR_MS;
        self.configure_municipality();
        self.register_initial_staff();
        self.init_series();
        for day in 0..self.n_days {
            self.begin_day(day);
            self.run_system_tick();
            if is_weekday(self.today) {
                self.run_working_day();
            }
        }
        (self.stats, self.rejections)
    }

    fn begin_day(&mut self, day: i64) {
        self.day = day;
        self.today = add_days(self.start, day);
    }

    fn day_start_ms(&self) -> i64 {
        self.today
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
            .unwrap_or(0)
    }

    fn run_system_tick(&mut self) {
        let Some(bucket) = self.system_buckets.get_mut(self.day as usize) else {
            return;
        };
        let tasks = std::mem::take(bucket);
        // The engine's tick dates milestones at midnight UTC; each gets its own millisecond.
        self.slot_ms = self.day_start_ms();
        for task in tasks {
            match task.kind {
                Kind::Eighteen => self.mark_eighteen(task),
                Kind::AgedOut => self.mark_aged_out(task),
                _ => {}
            }
            self.settle_closed();
        }
    }

    fn run_working_day(&mut self) {
        let Some(bucket) = self.buckets.get_mut(self.day as usize) else {
            return;
        };
        let mut tasks = std::mem::take(bucket);
        let new_referrals = self.referrals.get(self.day as usize).copied().unwrap_or(0);
        tasks.extend((0..new_referrals).map(|_| Task {
            target: 0,
            gen: 0,
            kind: Kind::Refer,
        }));
        tasks.push(Task {
            target: 0,
            gen: 0,
            kind: Kind::ScheduleMeetings,
        });
        for meeting in &self.meetings {
            if meeting.date == self.today {
                tasks.push(Task {
                    target: meeting.key,
                    gen: 0,
                    kind: Kind::HoldMeeting,
                });
            }
        }
        self.rng.shuffle(&mut tasks);
        let n_tasks = tasks.len() as i64;
        let day_start = self.day_start_ms();
        for (task_idx, task) in tasks.into_iter().enumerate() {
            self.slot_ms = day_start + WORK_START_MS + task_idx as i64 * WORK_SPAN_MS / n_tasks.max(1);
            self.run_task(task);
            self.settle_closed();
        }
    }

    fn run_task(&mut self, task: Task) {
        match task.kind {
            Kind::Refer => self.refer_new(),
            Kind::ReRefer => self.re_refer(task),
            Kind::AssessNeed => self.assess_need(task),
            Kind::Consent | Kind::ConsentRenewal => self.give_consent(task),
            Kind::ConsentWithdraw => self.withdraw_consent(task),
            Kind::Contact => self.contact(task),
            Kind::PlanUpdate => self.update_plan(task),
            Kind::SchoolStep => self.school_step(task),
            Kind::SchoolLeave => self.school_leave(task),
            Kind::Readiness => self.assess_readiness(task),
            Kind::DropoutContact => self.dropout_contact(task, false),
            Kind::DropoutOffer => self.dropout_contact(task, true),
            Kind::TransitionForm => self.transition_form(task),
            Kind::Table(purpose) => self.table_case(task, purpose),
            Kind::Offer => self.offer_coordinator(task),
            Kind::Answer => self.answer_offer(task),
            Kind::CoordinatorWithdraw => self.withdraw_coordinator(task),
            Kind::Handover18Coordinator => self.hand_over_coordinator(task),
            Kind::MoveAway => self.move_away(task),
            Kind::Close => self.close_case(task),
            Kind::Eighteen => self.mark_eighteen(task),
            Kind::AgedOut => self.mark_aged_out(task),
            Kind::Hire(department, staff_role) => {
                self.hire(department, staff_role);
            }
            Kind::Depart => self.depart(task.target),
            Kind::ChangeCapacity => self.change_capacity(task.target),
            Kind::ScheduleMeetings => self.schedule_meetings(),
            Kind::HoldMeeting => self.hold_meeting(task.target),
        }
    }

    // ---- time and scheduling ----

    /// The business time of the next command: the current task's slot, or one millisecond
    /// after the previous command, whichever is later.
    pub(super) fn next_at(&mut self) -> DateTime<Utc> {
        let ms = (self.last_ms + 1).max(self.slot_ms);
        self.last_ms = ms;
        DateTime::from_timestamp_millis(ms).expect("simulated times lie within chrono's range")
    }

    /// A version-7 uuid stamped with the current business time, random part from the PRNG.
    pub(super) fn new_uuid(&mut self) -> Uuid {
        let millis = u64::try_from(self.last_ms.max(self.slot_ms)).unwrap_or(0);
        Builder::from_unix_timestamp_millis(millis, &self.rng.bytes10()).into_uuid()
    }

    pub(super) fn day_of(&self, date: NaiveDate) -> i64 {
        (date - self.start).num_days()
    }

    /// Schedules staff work on `day` (an index), moved to the next weekday and never earlier
    /// than tomorrow; work after the end of the simulation is dropped.
    pub(super) fn schedule(&mut self, day: i64, target: u32, gen: u16, kind: Kind) {
        let mut day = day.max(self.day + 1);
        match add_days(self.start, day).weekday() {
            chrono::Weekday::Sat => day += 2,
            chrono::Weekday::Sun => day += 1,
            _ => {}
        }
        if let Some(bucket) = usize::try_from(day).ok().and_then(|d| self.buckets.get_mut(d)) {
            bucket.push(Task { target, gen, kind });
        }
    }

    /// Schedules staff work `days` from today.
    pub(super) fn schedule_in(&mut self, days: i64, target: u32, gen: u16, kind: Kind) {
        self.schedule(self.day + days, target, gen, kind);
    }

    /// Schedules a milestone for the daily tick on `day`, never earlier than tomorrow.
    pub(super) fn schedule_system(&mut self, day: i64, target: u32, gen: u16, kind: Kind) {
        let day = day.max(self.day + 1);
        if let Some(bucket) = usize::try_from(day).ok().and_then(|d| self.system_buckets.get_mut(d)) {
            bucket.push(Task { target, gen, kind });
        }
    }

    // ---- emitting ----

    /// Hands a planned command to the sink, dropping empty appends.
    pub(super) fn emit(&mut self, at: DateTime<Utc>, actor: PlannedActor, appends: Vec<PlannedAppend>) {
        let appends: Vec<PlannedAppend> = appends.into_iter().filter(|a| !a.events.is_empty()).collect();
        if appends.is_empty() {
            return;
        }
        self.stats.commands += 1;
        for append in &appends {
            for event in &append.events {
                self.stats.events += 1;
                *self.stats.by_type.entry(event.event_type()).or_insert(0) += 1;
            }
        }
        (self.sink)(Planned { at, actor, appends });
    }

    fn reject(&mut self, command: &str, rejection: &Rejection) {
        *self
            .rejections
            .entry(format!("{command}: {}", rejection.rule()))
            .or_insert(0) += 1;
    }

    pub(super) fn admin() -> PlannedActor {
        PlannedActor {
            staff: None,
            role: role::ADMIN,
            department: None,
        }
    }

    pub(super) fn system() -> PlannedActor {
        PlannedActor {
            staff: None,
            role: role::SYSTEM,
            department: None,
        }
    }

    pub(super) fn actor(&self, staff: u32, role: &'static str) -> PlannedActor {
        let member = &self.staff[staff as usize];
        PlannedActor {
            staff: Some(member.id),
            role,
            department: Some(member.department),
        }
    }

    /// A lead or the youth coordinator acting in their own role.
    pub(super) fn lead_actor(&self, staff: u32) -> PlannedActor {
        let role = match self.staff[staff as usize].role {
            StaffRole::TeamLead => role::TEAM_LEAD,
            StaffRole::YouthCoordinator => role::YOUTH_COORDINATOR,
            StaffRole::Caseworker => role::CASEWORKER,
        };
        self.actor(staff, role)
    }

    // ---- aggregates ----

    /// Decides `commands` in order on a young person's case, folding each result in before
    /// the next; refused commands are counted and skipped.
    pub(super) fn youth_append(
        &mut self,
        yi: u32,
        commands: Vec<YouthInput>,
        at: DateTime<Utc>,
    ) -> Option<PlannedAppend> {
        let y = self.youth.get_mut(yi as usize)?.as_deref_mut()?;
        let expected_version = y.version;
        let mut events: Vec<Event> = Vec::new();
        let mut refused: Vec<(&'static str, Rejection)> = Vec::new();
        for command in commands {
            let label = youth_label(&command);
            match y.agg.decide(command, at) {
                Ok(new_events) => {
                    for event in &new_events {
                        y.agg.apply(event);
                    }
                    events.extend(new_events);
                }
                Err(rejection) => refused.push((label, rejection)),
            }
        }
        y.version += events.len() as u64;
        let stream = y.id.stream_name();
        for (label, rejection) in refused {
            self.reject(label, &rejection);
        }
        if events.is_empty() {
            return None;
        }
        self.observe_youth(yi, &events);
        Some(PlannedAppend {
            stream,
            expected_version,
            events,
        })
    }

    /// One youth command as one planned command; true if it was recorded.
    pub(super) fn youth_command(&mut self, yi: u32, actor: PlannedActor, command: impl Into<YouthInput>) -> bool {
        let at = self.next_at();
        match self.youth_append(yi, vec![command.into()], at) {
            Some(append) => {
                self.emit(at, actor, vec![append]);
                true
            }
            None => false,
        }
    }

    /// Keeps the simulation's mirrors (coordinator load, who coordinates whom) in step with
    /// what was recorded.
    fn observe_youth(&mut self, yi: u32, events: &[Event]) {
        for event in events {
            match event {
                Event::CoordinatorAssigned(e) => {
                    let staff = self.staff_by_id.get(&e.coordinator).copied();
                    if let Some(s) = staff {
                        let member = &mut self.staff[s as usize];
                        member.load = member.load.saturating_add(1);
                        member.coordinating.push(yi);
                    }
                    if let Some(y) = self.youth_mut(yi) {
                        y.coordinator = staff;
                    }
                }
                Event::CoordinatorReleased(e) => {
                    if let Some(&s) = self.staff_by_id.get(&e.coordinator) {
                        let member = &mut self.staff[s as usize];
                        member.load = member.load.saturating_sub(1);
                    }
                    if let Some(y) = self.youth_mut(yi) {
                        y.coordinator = None;
                    }
                }
                Event::CoordinatingCaseworkerAssigned(e) => {
                    let staff = self.staff_by_id.get(&e.caseworker).copied();
                    if let Some(s) = staff {
                        self.staff[s as usize].casework.push(yi);
                    }
                    if let Some(y) = self.youth_mut(yi) {
                        y.caseworker = staff;
                    }
                }
                Event::CaseClosed(e) => self.closed.push((yi, e.reason)),
                _ => {}
            }
        }
    }

    /// After a case closes: the old case's tasks lapse; some young people come back later,
    /// the others are forgotten to keep memory flat.
    fn settle_closed(&mut self) {
        if self.closed.is_empty() {
            return;
        }
        for (yi, reason) in std::mem::take(&mut self.closed) {
            let until = u32::from(self.band.until);
            let Some(y) = self.youth_mut(yi) else { continue };
            y.gen = y.gen.wrapping_add(1);
            y.caseworker = None;
            y.coordinator = None;
            let (gen, birth) = (y.gen, y.birth);
            let p_return = match reason {
                CloseReason::AgedOut => 0.0,
                CloseReason::MovedAway => 0.04,
                _ => 0.12,
            };
            let back_on = self.day + self.rng.range(60, 540);
            let band_end = self.day_of(kui_domain::values::birthday_at(birth, until));
            if back_on + 30 < band_end && back_on < self.n_days && self.rng.chance(p_return) {
                self.schedule(back_on, yi, gen, Kind::ReRefer);
            } else if let Some(slot) = self.youth.get_mut(yi as usize) {
                *slot = None;
            }
        }
    }

    pub(super) fn youth_ref(&self, yi: u32) -> Option<&YouthSim> {
        self.youth.get(yi as usize)?.as_deref()
    }

    pub(super) fn youth_mut(&mut self, yi: u32) -> Option<&mut YouthSim> {
        self.youth.get_mut(yi as usize)?.as_deref_mut()
    }

    /// The young person of a task whose case is still the open one the task was made for.
    pub(super) fn open_youth(&self, task: Task) -> Option<&YouthSim> {
        self.youth_ref(task.target)
            .filter(|y| y.gen == task.gen && y.agg.status == CaseStatus::Open)
    }

    /// Decides a meeting command and folds it in; refused commands are counted.
    pub(super) fn meeting_append(
        &mut self,
        mi: usize,
        command: MeetingCommand,
        at: DateTime<Utc>,
    ) -> Option<PlannedAppend> {
        let label = meeting_label(&command);
        let meeting = self.meetings.get_mut(mi)?;
        match meeting.agg.decide(command, at) {
            Ok(events) => {
                let expected_version = meeting.version;
                for event in &events {
                    meeting.agg.apply(event);
                }
                meeting.version += events.len() as u64;
                Some(PlannedAppend {
                    stream: meeting.id.stream_name(),
                    expected_version,
                    events,
                })
            }
            Err(rejection) => {
                self.reject(label, &rejection);
                None
            }
        }
    }

    pub(super) fn new_meeting_agg() -> Meeting {
        Meeting::default()
    }

    pub(super) fn new_meeting_id(&mut self) -> MeetingId {
        MeetingId(self.new_uuid())
    }

    fn staff_command(&mut self, staff: u32, command: StaffCommand) {
        let at = self.next_at();
        let label = match &command {
            StaffCommand::Register { .. } => "Register",
            StaffCommand::ChangeCapacity { .. } => "ChangeCapacity",
            StaffCommand::Depart { .. } => "Depart",
        };
        let Some(member) = self.staff.get_mut(staff as usize) else {
            return;
        };
        match member.agg.decide(command, at) {
            Ok(events) => {
                let expected_version = member.version;
                for event in &events {
                    member.agg.apply(event);
                }
                member.version += events.len() as u64;
                let append = PlannedAppend {
                    stream: member.id.stream_name(),
                    expected_version,
                    events,
                };
                self.emit(at, Self::admin(), vec![append]);
            }
            Err(rejection) => self.reject(label, &rejection),
        }
    }

    // ---- the municipality and its staff ----

    fn configure_municipality(&mut self) {
        let settings = MunicipalityConfigured {
            municipality: self.municipality,
            name: self.municipality_name.to_owned(),
            age_band: self.band,
            cadence: TeamCadence::USUAL,
            coordinator_capacity: 25,
            alarms: AlarmSettings::USUAL,
        };
        let at = self.next_at();
        match self.municipality_agg.decide(MunicipalityCommand(settings), at) {
            Ok(events) => {
                for event in &events {
                    self.municipality_agg.apply(event);
                }
                let expected_version = self.municipality_version;
                self.municipality_version += events.len() as u64;
                let append = PlannedAppend {
                    stream: self.municipality.stream_name(),
                    expected_version,
                    events,
                };
                self.emit(at, Self::admin(), vec![append]);
            }
            Err(rejection) => self.reject("Configure", &rejection),
        }
    }

    fn register_initial_staff(&mut self) {
        let n_staff = self.n_staff.max(16) as usize;
        self.hire(Department::Other, StaffRole::YouthCoordinator);
        let n_leads = (n_staff * 6 / 100).max(5);
        for lead_idx in 0..n_leads {
            self.hire(LEAD_DEPARTMENTS[lead_idx % LEAD_DEPARTMENTS.len()], StaffRole::TeamLead);
        }
        // Every municipality has at least one caseworker in each department.
        for department in Department::ALL {
            self.hire(*department, StaffRole::Caseworker);
        }
        let rest = n_staff.saturating_sub(1 + n_leads + Department::ALL.len());
        for _ in 0..rest {
            let department = self.rng.weighted(CASEWORKER_MIX);
            self.hire(department, StaffRole::Caseworker);
        }
    }

    /// Registers a staff member and plans their career: possible departure (8 % a year,
    /// replaced 1-4 weeks before) and capacity changes (10 % a year).
    fn hire(&mut self, department: Department, staff_role: StaffRole) -> u32 {
        let capacity = match staff_role {
            StaffRole::Caseworker if matches!(department, Department::Uu | Department::JobCentre) => {
                self.rng.normal_in(25.0, 4.0, 15, 35)
            }
            StaffRole::Caseworker => self.rng.normal_in(20.0, 4.0, 10, 30),
            StaffRole::TeamLead => self.rng.range(3, 8),
            StaffRole::YouthCoordinator => 10,
        } as u16;
        let id = StaffId(self.new_uuid());
        let name = text::staff_name(&mut self.rng);
        let idx = self.staff.len() as u32;
        self.staff.push(StaffSim {
            id,
            department,
            role: staff_role,
            capacity,
            load: 0,
            active: true,
            agg: Staff::default(),
            version: 0,
            coordinating: Vec::new(),
            casework: Vec::new(),
        });
        self.staff_by_id.insert(id, idx);
        self.stats.staff += 1;
        self.staff_command(
            idx,
            StaffCommand::Register {
                staff_id: id,
                name,
                department,
                municipality: self.municipality,
                capacity,
            },
        );
        match staff_role {
            StaffRole::Caseworker => self.caseworkers[dept_index(department)].push(idx),
            StaffRole::TeamLead => self.leads[dept_index(department)].push(idx),
            StaffRole::YouthCoordinator => self.youth_coordinators.push(idx),
        }
        let mut year_start = self.day;
        while year_start < self.n_days {
            if self.rng.chance(0.08) {
                let leaves_on = (year_start + self.rng.range(30, 364)).max(self.day + 30);
                let notice = self.rng.range(7, 30);
                self.schedule(leaves_on - notice, 0, 0, Kind::Hire(department, staff_role));
                self.schedule(leaves_on, idx, 0, Kind::Depart);
                break;
            }
            if staff_role == StaffRole::Caseworker && self.rng.chance(0.10) {
                let on = year_start + self.rng.range(20, 364);
                self.schedule(on, idx, 0, Kind::ChangeCapacity);
            }
            year_start += 365;
        }
        idx
    }

    fn change_capacity(&mut self, staff: u32) {
        let Some(member) = self.staff.get(staff as usize).filter(|m| m.active) else {
            return;
        };
        let current = i64::from(member.capacity);
        let step = self.rng.range(2, 6);
        let capacity = if self.rng.chance(0.5) {
            current - step
        } else {
            current + step
        }
        .clamp(8, 40);
        let capacity = if capacity == current { current + 1 } else { capacity } as u16;
        self.staff[staff as usize].capacity = capacity;
        self.staff_command(staff, StaffCommand::ChangeCapacity { capacity });
    }

    /// A staff member leaves: they stop being chosen at once, their coordinator and
    /// coordinating-caseworker roles are handed over, then the departure is recorded.
    fn depart(&mut self, staff: u32) {
        let Some(member) = self.staff.get_mut(staff as usize).filter(|m| m.active) else {
            return;
        };
        member.active = false;
        let department = member.department;
        let pool = match member.role {
            StaffRole::Caseworker => &mut self.caseworkers[dept_index(department)],
            StaffRole::TeamLead => &mut self.leads[dept_index(department)],
            StaffRole::YouthCoordinator => &mut self.youth_coordinators,
        };
        pool.retain(|s| *s != staff);
        let mut coordinating = std::mem::take(&mut self.staff[staff as usize].coordinating);
        coordinating.sort_unstable();
        coordinating.dedup();
        for yi in coordinating {
            let Some(y) = self.youth_ref(yi) else { continue };
            if y.coordinator != Some(staff) || y.agg.status != CaseStatus::Open {
                continue;
            }
            let adult = kui_domain::values::age_on(y.birth, self.today) >= 18;
            let successor = self.pick_coordinator(adult, Some(staff));
            let lead = self.pick_lead(if adult { Department::JobCentre } else { Department::Uu });
            let command = YouthInput::AssignCoordinator {
                coordinator: self.staff[successor as usize].id,
                department: self.staff[successor as usize].department,
                chosen_by: kui_domain::CoordinatorChoice::Staff(self.staff[lead as usize].id),
            };
            let actor = self.lead_actor(lead);
            self.youth_command(yi, actor, command);
        }
        let mut casework = std::mem::take(&mut self.staff[staff as usize].casework);
        casework.sort_unstable();
        casework.dedup();
        for yi in casework {
            let Some(y) = self.youth_ref(yi) else { continue };
            if y.caseworker != Some(staff) || y.agg.status != CaseStatus::Open {
                continue;
            }
            let successor = self.pick_staff(department);
            let lead = self.pick_lead(department);
            let command = YouthInput::AssignCoordinatingCaseworker {
                caseworker: self.staff[successor as usize].id,
                department: self.staff[successor as usize].department,
                meeting: None,
            };
            let actor = self.lead_actor(lead);
            self.youth_command(yi, actor, command);
        }
        self.staff_command(staff, StaffCommand::Depart { on: self.today });
    }

    /// An active caseworker of `department`, or of a neighbouring one if it has none.
    pub(super) fn pick_staff(&mut self, department: Department) -> u32 {
        let fallbacks = [
            department,
            Department::Uu,
            Department::JobCentre,
            Department::ChildrenAndFamily,
        ];
        for candidate in fallbacks {
            let pool = &self.caseworkers[dept_index(candidate)];
            if !pool.is_empty() {
                let pick = self.rng.index(pool.len());
                return pool[pick];
            }
        }
        self.pick_lead(department)
    }

    /// An active team lead of `department`, another lead, or the youth coordinator.
    pub(super) fn pick_lead(&mut self, department: Department) -> u32 {
        let mut order = vec![department];
        order.extend(LEAD_DEPARTMENTS);
        for candidate in order {
            let pool = &self.leads[dept_index(candidate)];
            if !pool.is_empty() {
                let pick = self.rng.index(pool.len());
                return pool[pick];
            }
        }
        self.youth_coordinator()
    }

    /// The municipal youth coordinator (the newest active one during a hand-over).
    pub(super) fn youth_coordinator(&self) -> u32 {
        self.youth_coordinators.last().copied().unwrap_or(0)
    }

    /// A coordinator for a young person: UU counsellors under 18, job advisers from 18, now and
    /// then someone else with a good relation; the least loaded of a few below capacity.
    pub(super) fn pick_coordinator(&mut self, adult: bool, exclude: Option<u32>) -> u32 {
        let department = if adult {
            self.rng.weighted(&[
                (Department::JobCentre, 70),
                (Department::Uu, 15),
                (Department::AdultDisability, 10),
                (Department::SubstanceAbuse, 5),
            ])
        } else {
            self.rng.weighted(&[
                (Department::Uu, 75),
                (Department::YouthSchool, 10),
                (Department::ChildrenAndFamily, 10),
                (Department::Other, 5),
            ])
        };
        let main = if adult { Department::JobCentre } else { Department::Uu };
        let mut best: Option<u32> = None;
        for candidate_dept in [department, main, Department::Uu, Department::JobCentre] {
            let pool_len = self.caseworkers[dept_index(candidate_dept)].len();
            if pool_len == 0 {
                continue;
            }
            for _ in 0..4 {
                let pick = self.rng.index(pool_len);
                let staff = self.caseworkers[dept_index(candidate_dept)][pick];
                if Some(staff) == exclude {
                    continue;
                }
                let member = &self.staff[staff as usize];
                let better = match best {
                    None => true,
                    Some(b) => member.load < self.staff[b as usize].load,
                };
                if better {
                    best = Some(staff);
                }
            }
            if let Some(b) = best {
                let member = &self.staff[b as usize];
                if member.load < member.capacity {
                    return b;
                }
            }
        }
        best.unwrap_or_else(|| self.pick_staff(main))
    }

    /// True if `staff` is registered and has not left.
    pub(super) fn is_active(&self, staff: StaffId) -> bool {
        self.staff_by_id
            .get(&staff)
            .is_some_and(|&s| self.staff[s as usize].active)
    }

    /// How many young people this preset refers, for sizing meeting series.
    pub(super) fn n_youth(&self) -> u32 {
        self.n_youth
    }
}

pub(super) fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun)
}

/// Spreads `n_youth` first referrals over the weekdays: more at the reform's start (cases
/// taken over), in January and after the summer, fewer in July and around Christmas.
fn referral_calendar(rng: &mut Rng, start: NaiveDate, n_days: i64, n_youth: u32) -> Vec<u32> {
    let mut cumulative: Vec<u64> = Vec::with_capacity(n_days.max(0) as usize);
    let mut total = 0u64;
    for day in 0..n_days {
        let date = add_days(start, day);
        let weight: u64 = if !is_weekday(date) {
            0
        } else {
            let month: u64 = match date.month() {
                1 => 120,
                2 => 110,
                3 | 5 => 100,
                4 => 95,
                6 => 90,
                7 => 30,
                8 => 130,
                9 => 120,
                10 | 11 => 105,
                _ if date.day() >= 20 => 15,
                _ => 80,
            };
            if day < 61 {
                month * 3
            } else {
                month
            }
        };
        total += weight;
        cumulative.push(total);
    }
    let mut counts = vec![0u32; cumulative.len()];
    if total == 0 {
        return counts;
    }
    for _ in 0..n_youth {
        let roll = rng.below(total);
        let day = cumulative.partition_point(|&c| c <= roll);
        if let Some(count) = counts.get_mut(day) {
            *count += 1;
        }
    }
    counts
}

fn youth_label(input: &YouthInput) -> &'static str {
    let command = match input {
        YouthInput::Refer { .. } => return "Refer",
        YouthInput::AssignCoordinator { .. } => return "AssignCoordinator",
        YouthInput::AssignCoordinatingCaseworker { .. } => return "AssignCoordinatingCaseworker",
        YouthInput::Case(command) => command,
    };
    match command {
        CaseCommand::AssessNeed { .. } => "AssessNeed",
        CaseCommand::AssessReadiness { .. } => "AssessReadiness",
        CaseCommand::ChangeSchoolStatus { .. } => "ChangeSchoolStatus",
        CaseCommand::RecordContact { .. } => "RecordContact",
        CaseCommand::GiveConsent { .. } => "GiveConsent",
        CaseCommand::WithdrawConsent { .. } => "WithdrawConsent",
        CaseCommand::OfferCoordinator { .. } => "OfferCoordinator",
        CaseCommand::DeclineCoordinator { .. } => "DeclineCoordinator",
        CaseCommand::JudgeCoordinatorNotRelevant { .. } => "JudgeCoordinatorNotRelevant",
        CaseCommand::ReleaseCoordinator { .. } => "ReleaseCoordinator",
        CaseCommand::AssignTeam { .. } => "AssignTeam",
        CaseCommand::UpdatePlan { .. } => "UpdatePlan",
        CaseCommand::RecordTransitionForm { .. } => "RecordTransitionForm",
        CaseCommand::MarkEighteen => "MarkEighteen",
        CaseCommand::MarkAgedOut { .. } => "MarkAgedOut",
        CaseCommand::RecordDestination { .. } => "RecordDestination",
        CaseCommand::Close { .. } => "Close",
    }
}

fn meeting_label(command: &MeetingCommand) -> &'static str {
    match command {
        MeetingCommand::Schedule { .. } => "Schedule",
        MeetingCommand::TableCase { .. } => "TableCase",
        MeetingCommand::RecordDecision(_) => "RecordDecision",
        MeetingCommand::Hold { .. } => "Hold",
        MeetingCommand::Evaluate { .. } => "Evaluate",
        MeetingCommand::Cancel { .. } => "Cancel",
    }
}

/// The forum's chair: UU leads teams 1 and 2, the job centre team 3, the youth coordinator
/// the K-meeting, family services the youth coordination meeting.
pub(super) fn chair_department(forum: Forum) -> Option<Department> {
    match forum {
        Forum::Team1 | Forum::Team2 => Some(Department::Uu),
        Forum::Team3 => Some(Department::JobCentre),
        Forum::YouthCoordination => Some(Department::ChildrenAndFamily),
        Forum::KMeeting => None,
    }
}
