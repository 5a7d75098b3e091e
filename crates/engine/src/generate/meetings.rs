//! Team meetings, K-meetings and youth coordination meetings: scheduled ahead, cases tabled,
//! held with decisions on who does what, evaluated, now and then cancelled.

use chrono::{Datelike, NaiveDate};
use kui_domain::meeting::{minutes_for, Meeting};
use kui_domain::values::{age_on, birthday_at, DecisionAction, Department, Forum, NeedLevel, Team};
use kui_domain::youth::CoordinatorState;
use kui_domain::{CaseCommand, CoordinatorChoice, Decision, MeetingCommand, MeetingId, YouthInput};

use super::sim::{add_days, chair_department, departments_in, role, CoordPath, Kind, Purpose, Sim, Task};
use super::text;

/// A run of meetings of one forum on a fixed grid of dates. Larger presets run several
/// series per forum. A busy series is scheduled five weeks ahead; a quiet one (fewer than six
/// cases over its last three meetings) only gets a meeting on a grid date when a case needs one.
pub(crate) struct Series {
    forum: Forum,
    /// The first grid date; the others follow every `cadence` days.
    anchor: NaiveDate,
    /// The next grid date the regular scheduler looks at.
    next_date: NaiveDate,
    cadence: i64,
    slot_minutes: u32,
    /// Cases on the agendas of the last three meetings.
    recent: [u8; 3],
    recent_idx: usize,
}

impl Series {
    fn quiet(&self) -> bool {
        self.recent.iter().map(|n| u32::from(*n)).sum::<u32>() < 6
    }

    fn remember(&mut self, agenda_len: usize) {
        self.recent[self.recent_idx] = agenda_len.min(255) as u8;
        self.recent_idx = (self.recent_idx + 1) % self.recent.len();
    }
}

/// A meeting that is scheduled and not yet held or cancelled.
pub(crate) struct MeetingSim {
    pub(super) key: u32,
    pub(super) id: MeetingId,
    pub(super) agg: Meeting,
    pub(super) version: u64,
    forum: Forum,
    series: usize,
    pub(super) date: NaiveDate,
    tabled: Vec<Tabled>,
}

/// A case on the agenda and why it is there.
#[derive(Debug, Clone, Copy)]
struct Tabled {
    youth: u32,
    gen: u16,
    purpose: Purpose,
    presenter: u32,
}

/// How many young people per parallel series of each forum; at least one series each.
const YOUTH_PER_SERIES: [(Forum, i64, u32); 5] = [
    (Forum::Team1, 21, 9_000),
    (Forum::Team2, 14, 5_000),
    (Forum::Team3, 14, 3_500),
    (Forum::KMeeting, 14, 9_000),
    (Forum::YouthCoordination, 14, 12_000),
];

/// Summer and Christmas: few meetings are planned, and those often fall through.
fn holiday(date: NaiveDate) -> bool {
    match date.month() {
        7 => true,
        8 => date.day() < 8,
        12 => date.day() >= 22,
        1 => date.day() <= 2,
        _ => false,
    }
}

impl Sim<'_> {
    /// Sets up the meeting series: the first meetings fall on weekdays from mid-August 2019,
    /// each series on its own weekday.
    pub(super) fn init_series(&mut self) {
        let n_youth = self.n_youth();
        // The Monday at least ten days after the start.
        let mut first_monday = add_days(self.start, 10);
        while first_monday.weekday() != chrono::Weekday::Mon {
            first_monday = add_days(first_monday, 1);
        }
        for (forum_idx, (forum, cadence, per_series)) in YOUTH_PER_SERIES.iter().enumerate() {
            let n_series = n_youth.div_ceil(*per_series).max(1) as usize;
            for series_idx in 0..n_series {
                let weekday = ((forum_idx + series_idx) % 5) as i64;
                let week = (series_idx as i64 / 5) % (cadence / 7);
                let slot_minutes = *self.rng.pick(&[120u32, 150, 180]);
                let anchor = add_days(first_monday, weekday + 7 * week);
                self.series.push(Series {
                    forum: *forum,
                    anchor,
                    next_date: anchor,
                    cadence: *cadence,
                    slot_minutes,
                    recent: [3, 3, 3],
                    recent_idx: 0,
                });
            }
        }
    }

    /// Schedules the busy series' meetings due within the next five weeks; quiet series keep
    /// a fixed date now and then and otherwise wait for a case.
    pub(super) fn schedule_meetings(&mut self) {
        let horizon = add_days(self.today, 35);
        for series_idx in 0..self.series.len() {
            while self.series[series_idx].next_date <= horizon {
                let series = &mut self.series[series_idx];
                let date = series.next_date;
                series.next_date = add_days(date, series.cadence);
                let quiet = series.quiet();
                if date <= self.today || (holiday(date) && self.rng.chance(0.85)) {
                    continue;
                }
                if (quiet && !self.rng.chance(0.04)) || self.has_meeting(series_idx, date) {
                    continue;
                }
                self.schedule_meeting(series_idx, date);
            }
        }
    }

    fn has_meeting(&self, series_idx: usize, date: NaiveDate) -> bool {
        self.meetings.iter().any(|m| m.series == series_idx && m.date == date)
    }

    /// Schedules a meeting on the first free grid date at least a week ahead, for a case that
    /// found no room; returns its index.
    fn schedule_on_demand(&mut self, forum: Forum) -> Option<usize> {
        let earliest = add_days(self.today, 7);
        let mut best: Option<(NaiveDate, usize)> = None;
        for (series_idx, series) in self.series.iter().enumerate() {
            if series.forum != forum {
                continue;
            }
            let behind = (earliest - series.anchor).num_days().max(0);
            let first_step = (behind + series.cadence - 1) / series.cadence;
            for step in first_step..first_step + 8 {
                let date = add_days(series.anchor, step * series.cadence);
                if holiday(date) || self.has_meeting(series_idx, date) {
                    continue;
                }
                let earlier = match best {
                    None => true,
                    Some((best_date, _)) => date < best_date,
                };
                if earlier {
                    best = Some((date, series_idx));
                }
                break;
            }
        }
        let (date, series_idx) = best?;
        self.schedule_meeting(series_idx, date);
        self.meetings
            .iter()
            .position(|m| m.series == series_idx && m.date == date)
    }

    fn schedule_meeting(&mut self, series_idx: usize, date: NaiveDate) {
        let (forum, slot) = (self.series[series_idx].forum, self.series[series_idx].slot_minutes);
        let slot_minutes = if self.rng.chance(0.1) { slot + 30 } else { slot };
        let chair = self.chair(forum);
        let at = self.next_at();
        let meeting_id = self.new_meeting_id();
        let key = self.next_meeting_key;
        self.next_meeting_key += 1;
        self.meetings.push(MeetingSim {
            key,
            id: meeting_id,
            agg: Self::new_meeting_agg(),
            version: 0,
            forum,
            series: series_idx,
            date,
            tabled: Vec::new(),
        });
        let mi = self.meetings.len() - 1;
        let command = MeetingCommand::Schedule {
            meeting_id,
            municipality: self.municipality,
            forum,
            date,
            slot_minutes,
            scheduled_by: self.staff[chair as usize].id,
        };
        match self.meeting_append(mi, command, at) {
            Some(append) => {
                self.stats.meetings += 1;
                let actor = self.lead_actor(chair);
                self.emit(at, actor, vec![append]);
            }
            None => {
                self.meetings.pop();
            }
        }
    }

    /// The chair of a forum today (leads who left are no longer in the pools).
    fn chair(&mut self, forum: Forum) -> u32 {
        match chair_department(forum) {
            Some(department) => self.pick_lead(department),
            None => self.youth_coordinator(),
        }
    }

    /// Where a case goes: the youth coordination meeting for under-17s with a transition
    /// form, the K-meeting for complex 18+ cases, otherwise the young person's team.
    fn forum_for(&self, yi: u32, purpose: Purpose) -> Option<Forum> {
        let y = self.youth_ref(yi)?;
        let age = age_on(y.birth, self.today);
        Some(if y.transition && age < 17 {
            Forum::YouthCoordination
        } else if purpose != Purpose::Handover18 && age >= 18 && y.k_meeting {
            Forum::KMeeting
        } else {
            match y.agg.team {
                Some(Team::Team1) => Forum::Team1,
                Some(Team::Team2) => Forum::Team2,
                Some(Team::Team3) => Forum::Team3,
                None if age >= 18 => Forum::Team3,
                None => Forum::Team2,
            }
        })
    }

    /// Puts a case on the agenda of the first meeting of its forum, at least two days ahead,
    /// that has room; tries again in a week if none has.
    pub(super) fn table_case(&mut self, task: Task, purpose: Purpose) {
        let Some(y) = self.open_youth(task) else { return };
        let (yi, gen, complex, path, initial_done) = (task.target, task.gen, y.complex, y.path, y.initial_done);
        let purpose = if purpose == Purpose::Initial && initial_done {
            Purpose::FollowUp
        } else {
            purpose
        };
        let Some(forum) = self.forum_for(yi, purpose) else {
            return;
        };
        let needed = minutes_for(complex);
        let earliest = add_days(self.today, 2);
        let found = self
            .meetings
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.forum == forum
                    && m.date >= earliest
                    && m.agg.agenda_minutes() + needed <= m.agg.slot_minutes
                    && !m.tabled.iter().any(|t| t.youth == yi)
            })
            .min_by_key(|(_, m)| (m.date, m.key))
            .map(|(mi, _)| mi);
        let Some(mi) = found.or_else(|| self.schedule_on_demand(forum)) else {
            self.schedule_in(7, yi, gen, Kind::Table(purpose));
            return;
        };
        let presenter = if forum == Forum::YouthCoordination {
            self.pick_staff(Department::ChildrenAndFamily)
        } else {
            self.responsible(yi)
        };
        // The case is prepared with the young person's own wishes: for a meeting that is to
        // appoint a coordinator, the offer is made now.
        let coordinator_state = self.youth_ref(yi).map(|y| y.agg.coordinator);
        let can_offer = !matches!(
            coordinator_state,
            Some(CoordinatorState::Assigned(_) | CoordinatorState::Offered)
        );
        if purpose == Purpose::Initial && path == CoordPath::MeetingAssign && can_offer {
            let command = CaseCommand::OfferCoordinator {
                offered_by: self.staff[presenter as usize].id,
            };
            let actor = self.actor(presenter, role::CASEWORKER);
            if self.youth_command(yi, actor, command) {
                if let Some(y) = self.youth_mut(yi) {
                    y.offers = y.offers.saturating_add(1);
                }
            }
        }
        let transition = self.youth_ref(yi).is_some_and(|y| y.transition);
        if forum == Forum::YouthCoordination && transition && self.rng.chance(0.7) {
            self.record_transition_form(yi);
        }
        let Some(youth_id) = self.youth_ref(yi).map(|y| y.id) else {
            return;
        };
        let at = self.next_at();
        let command = MeetingCommand::TableCase {
            youth_id,
            presenter: self.staff[presenter as usize].id,
            complex,
        };
        if let Some(append) = self.meeting_append(mi, command, at) {
            self.meetings[mi].tabled.push(Tabled {
                youth: yi,
                gen,
                purpose,
                presenter,
            });
            let actor = self.actor(presenter, role::CASEWORKER);
            self.emit(at, actor, vec![append]);
        }
    }

    /// The meeting day: cancelled if nothing is on the agenda (or, rarely, for other reasons,
    /// when its cases go to the next meeting); otherwise held, decided case by case, evaluated.
    pub(super) fn hold_meeting(&mut self, key: u32) {
        let Some(mi) = self.meetings.iter().position(|m| m.key == key) else {
            return;
        };
        let (forum, date, series_idx) = (
            self.meetings[mi].forum,
            self.meetings[mi].date,
            self.meetings[mi].series,
        );
        let chair = self.chair(forum);
        let chair_actor = self.lead_actor(chair);
        let tabled = self.meetings[mi].tabled.clone();
        if let Some(series) = self.series.get_mut(series_idx) {
            series.remember(tabled.len());
        }
        let cancel_reason = if tabled.is_empty() {
            Some("No cases on the agenda".to_owned())
        } else if holiday(date) && self.rng.chance(0.7) {
            Some("Holiday: too few participants".to_owned())
        } else if self.rng.chance(0.03) {
            Some((*self.rng.pick(text::CANCEL_REASONS)).to_owned())
        } else {
            None
        };
        if let Some(reason) = cancel_reason {
            let at = self.next_at();
            if let Some(append) = self.meeting_append(mi, MeetingCommand::Cancel { reason }, at) {
                self.emit(at, chair_actor, vec![append]);
            }
            for case in tabled {
                let again_in = self.rng.range(1, 3);
                self.schedule_in(again_in, case.youth, case.gen, Kind::Table(case.purpose));
            }
            self.meetings.remove(mi);
            return;
        }
        let mut attendees = vec![self.staff[chair as usize].id];
        for department in members(forum) {
            if self.rng.chance(0.8) {
                let member = self.pick_staff(*department);
                attendees.push(self.staff[member as usize].id);
            }
        }
        for case in &tabled {
            attendees.push(self.staff[case.presenter as usize].id);
        }
        let mut seen = Vec::with_capacity(attendees.len());
        attendees.retain(|a| {
            let keep = self.is_active(*a) && !seen.contains(a);
            seen.push(*a);
            keep
        });
        let at = self.next_at();
        if let Some(append) = self.meeting_append(
            mi,
            MeetingCommand::Hold {
                held_on: self.today,
                attendees,
            },
            at,
        ) {
            self.emit(at, chair_actor.clone(), vec![append]);
        }
        for case in tabled {
            self.decide_case(mi, case, chair);
        }
        if self.rng.chance(0.8) {
            let score = self.rng.weighted(&[(1u8, 2), (2, 8), (3, 30), (4, 40), (5, 20)]);
            let note = (*self.rng.pick(text::EVALUATION_NOTES)).to_owned();
            let at = self.next_at();
            if let Some(append) = self.meeting_append(mi, MeetingCommand::Evaluate { score, note }, at) {
                self.emit(at, chair_actor, vec![append]);
            }
        }
        self.meetings.remove(mi);
    }

    /// One decision: who does what, follow-up, and the appointments it makes, recorded on the
    /// meeting and the young person's case in one planned command.
    fn decide_case(&mut self, mi: usize, case: Tabled, chair: u32) {
        let Some(y) = self
            .youth_ref(case.youth)
            .filter(|y| y.gen == case.gen && y.agg.status == kui_domain::youth::CaseStatus::Open)
        else {
            return;
        };
        let yi = case.youth;
        // The case's record, not the simulation's mirror: it outlives a closure and re-referral.
        let (gen, birth, path, state, current_caseworker) =
            (y.gen, y.birth, y.path, y.agg.coordinator, y.agg.coordinating_caseworker);
        let (need, transition, initial_done, follow_ups) = (y.need, y.transition, y.initial_done, y.follow_ups);
        let involved = departments_in(y.departments);
        let youth_id = y.id;
        let age = age_on(birth, self.today);
        let (meeting_id, forum, date) = (self.meetings[mi].id, self.meetings[mi].forum, self.meetings[mi].date);
        let purpose = if case.purpose == Purpose::Initial && initial_done {
            Purpose::FollowUp
        } else {
            case.purpose
        };
        let chair_id = self.staff[chair as usize].id;
        let presenter = if self.staff[case.presenter as usize].active {
            case.presenter
        } else {
            self.responsible(yi)
        };

        let mut commands: Vec<YouthInput> = Vec::new();
        let mut actions: Vec<DecisionAction> = Vec::new();
        let mut coordinator = None;
        let mut coordinating_caseworker = None;
        let mut lead = None;
        let mut assigned = false;
        let caseworker_p;
        let mut caseworker_departments: &[(Department, u32)] = &[
            (Department::ChildrenAndFamily, 40),
            (Department::JobCentre, 30),
            (Department::AdultDisability, 30),
        ];
        match purpose {
            Purpose::Initial => {
                match path {
                    CoordPath::NotRelevant if !matches!(state, CoordinatorState::Assigned(_)) => {
                        let reason = (*self.rng.pick(text::NOT_RELEVANT_REASONS)).to_owned();
                        commands.push(
                            CaseCommand::JudgeCoordinatorNotRelevant {
                                judged_by: chair_id,
                                reason,
                            }
                            .into(),
                        );
                    }
                    CoordPath::MeetingAssign => match state {
                        CoordinatorState::Offered if self.rng.chance(0.15) => {
                            let declined_by = if age < 18 && self.rng.chance(0.4) {
                                kui_domain::values::ConsentGiver::Guardian
                            } else {
                                kui_domain::values::ConsentGiver::Youth
                            };
                            let note = (*self.rng.pick(text::DECLINE_NOTES)).to_owned();
                            commands.push(CaseCommand::DeclineCoordinator { declined_by, note }.into());
                            actions.push(self.action(
                                "Respect the young person's wish; keep ordinary guidance contact",
                                Department::Uu,
                                date,
                            ));
                        }
                        CoordinatorState::Declined | CoordinatorState::Assigned(_) => {}
                        _ => {
                            let current = self.youth_ref(yi).and_then(|y| y.coordinator);
                            let chosen = self.pick_coordinator(age >= 18, current);
                            coordinator = Some(self.staff[chosen as usize].id);
                            commands.push(YouthInput::AssignCoordinator {
                                coordinator: self.staff[chosen as usize].id,
                                department: self.staff[chosen as usize].department,
                                chosen_by: CoordinatorChoice::Meeting(meeting_id, chair_id),
                            });
                            assigned = true;
                            let who = self.staff[chosen as usize].department;
                            actions.push(self.action(
                                "The coordinator (ungeguide) contacts the young person",
                                who,
                                date,
                            ));
                        }
                    },
                    CoordPath::OfferAfter => {
                        let offer_in = self.rng.range(1, 10);
                        self.schedule_in(offer_in, yi, gen, Kind::Offer);
                        let department = if age >= 18 {
                            Department::JobCentre
                        } else {
                            Department::Uu
                        };
                        actions.push(self.action("Offer the young person a coordinator (ungeguide)", department, date));
                    }
                    _ => {}
                }
                caseworker_p = match forum {
                    Forum::KMeeting => 0.8,
                    Forum::YouthCoordination => 0.5,
                    _ => 0.2,
                };
                if forum == Forum::YouthCoordination || self.rng.chance(0.25) {
                    lead = Some(self.staff[presenter as usize].id);
                }
                if let Some(y) = self.youth_mut(yi) {
                    y.initial_done = true;
                }
            }
            Purpose::FollowUp => {
                caseworker_p = 0.1;
                if state == CoordinatorState::NotRelevant && self.rng.chance(0.1) {
                    let offer_in = self.rng.range(1, 10);
                    self.schedule_in(offer_in, yi, gen, Kind::Offer);
                    actions.push(self.action("Offer the young person a coordinator (ungeguide)", Department::Uu, date));
                }
            }
            Purpose::Handover18 => {
                caseworker_p = 0.85;
                caseworker_departments = &[(Department::JobCentre, 65), (Department::AdultDisability, 35)];
                actions.push(self.action("Clarify income basis after 18", Department::JobCentre, date));
                if need == NeedLevel::C || transition {
                    actions.push(self.action("Assess housing support after 18", Department::AdultDisability, date));
                }
            }
        }
        if self.rng.chance(caseworker_p) {
            let department = if age < 18 && purpose != Purpose::Handover18 && forum != Forum::KMeeting {
                Department::ChildrenAndFamily
            } else {
                self.rng.weighted(caseworker_departments)
            };
            let chosen = self.pick_staff(department);
            if current_caseworker != Some(self.staff[chosen as usize].id) {
                coordinating_caseworker = Some(self.staff[chosen as usize].id);
                commands.push(YouthInput::AssignCoordinatingCaseworker {
                    caseworker: self.staff[chosen as usize].id,
                    department: self.staff[chosen as usize].department,
                    meeting: Some(meeting_id),
                });
            }
        }
        let n_actions = self.rng.range(1, 3) as usize;
        for action_idx in 0..n_actions {
            let department = involved.get(action_idx).copied().unwrap_or(Department::Uu);
            let what = *self.rng.pick(text::actions_of(department));
            actions.push(self.action(what, department, date));
        }
        let documentation_needed: Vec<String> = if self.rng.chance(0.25) {
            let first = (*self.rng.pick(text::DOCUMENTATION)).to_owned();
            let mut docs = vec![first];
            let second = *self.rng.pick(text::DOCUMENTATION);
            if self.rng.chance(0.3) && docs[0] != second {
                docs.push(second.to_owned());
            }
            docs
        } else {
            Vec::new()
        };
        let p_follow_up = match purpose {
            Purpose::Initial => 0.9,
            Purpose::FollowUp => 0.7,
            Purpose::Handover18 => 0.8,
        };
        let follow_up = self
            .rng
            .chance(p_follow_up)
            .then(|| add_days(date, self.rng.range(42, 120)));
        if let Some(follow_up) = follow_up {
            let p_table = match purpose {
                Purpose::Initial => 0.65,
                _ => 0.45,
            };
            if follow_ups < 4 && purpose != Purpose::Handover18 && self.rng.chance(p_table) {
                let table_on = self.day_of(follow_up) - self.rng.range(7, 10);
                self.schedule(table_on, yi, gen, Kind::Table(Purpose::FollowUp));
                if let Some(y) = self.youth_mut(yi) {
                    y.follow_ups += 1;
                }
            }
        }
        let first_team_meeting = if forum == Forum::YouthCoordination {
            let seventeen = birthday_at(birth, 17);
            let planned = add_days(date, self.rng.range(14, 28));
            (seventeen > add_days(date, 7)).then(|| planned.min(add_days(seventeen, -1)))
        } else {
            None
        };
        let decision = Decision {
            youth_id,
            coordinator,
            coordinating_caseworker,
            lead,
            actions,
            documentation_needed,
            follow_up,
            first_team_meeting,
        };
        let at = self.next_at();
        let Some(meeting_append) = self.meeting_append(mi, MeetingCommand::RecordDecision(decision), at) else {
            return;
        };
        let youth_append = if commands.is_empty() {
            None
        } else {
            self.youth_append(yi, commands, at)
        };
        let mut appends = vec![meeting_append];
        appends.extend(youth_append);
        let actor = self.lead_actor(chair);
        self.emit(at, actor, appends);
        if assigned {
            self.after_assignment(yi, gen);
        }
    }

    /// A decided action with a named person from the department most of the time.
    fn action(&mut self, what: &str, department: Department, meeting_date: NaiveDate) -> DecisionAction {
        let who = if self.rng.chance(0.75) {
            let staff = self.pick_staff(department);
            Some(self.staff[staff as usize].id)
        } else {
            None
        };
        let due = Some(add_days(meeting_date, self.rng.range(14, 90)));
        DecisionAction {
            what: what.to_owned(),
            department,
            who,
            due,
        }
    }
}

/// The departments that sit on a forum besides the chair.
fn members(forum: Forum) -> &'static [Department] {
    match forum {
        Forum::Team1 => &[
            Department::YouthSchool,
            Department::Ppr,
            Department::Uu,
            Department::Health,
        ],
        Forum::Team2 => &[Department::Uu, Department::YouthSchool, Department::JobCentre],
        Forum::Team3 => &[Department::JobCentre, Department::Uu, Department::AdultDisability],
        Forum::KMeeting => &[
            Department::ChildrenAndFamily,
            Department::AdultDisability,
            Department::Health,
            Department::JobCentre,
        ],
        Forum::YouthCoordination => &[
            Department::ChildrenAndFamily,
            Department::AdultDisability,
            Department::JobCentre,
        ],
    }
}
