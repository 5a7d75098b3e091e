//! The transition alarms: the "between two chairs" rules, evaluated on a date.
//!
//! The model keeps, per young person, only the facts the rules read (birth date, owners,
//! the last plan change, the transition form, a dropout and the contact after it...).
//! [`Alarms::alarms`] evaluates every rule on a given day, so an alarm opens on the
//! day its deadline passes and disappears as soon as the fact that satisfies it is folded
//! in: nothing is stored about the alarm itself, and "as of date D" is the same function
//! with D.
//!
//! | rule | opens | due | satisfied by |
//! |---|---|---|---|
//! | `eighteen_without_adult_owner` | N months (municipal setting, 6) before the 18th birthday, until the 19th | the birthday | a coordinator or coordinating caseworker from the job centre or adult disability, or team 3 |
//! | `coordinating_team_not_met` | the day after the team's first meeting was due (teams composed before the 17th birthday) | the planned first meeting, at the latest the 17th birthday | a held meeting with the case on the agenda after the decision |
//! | `transition_form_missing` | 30 days after a C-need young person of 14-17 has no form | 14th birthday or the C assessment, plus 30 days | a recorded form |
//! | `transition_form_stale` | 1 February and 1 August, when a form expecting more than 10 hours a week was not updated in January / June-July | 31 January, 31 July | a form recorded in the window or later |
//! | `plan_stale` | the day after the plan was untouched N days (90) | last change + N days | a plan update |
//! | `referral_not_tabled` | the day after N days (30) without the case discussed at a meeting, unless the need was assessed as A or B (no team needed) | referral + N days | a meeting held with the case on its agenda (a cancelled meeting, or one whose day passes without being held, does not count) |
//! | `owner_departed` | the day the coordinator, the coordinating caseworker, the coordinating team's lead or (without a coordinator) the plan's owner leaves, plus N days (0) | the last day | someone else in that place (a new assignment, the team led by another) |
//! | `aftercare_ends_without_adult_owner` | N days (60) before the aftercare's last day (or the day it ended early), while nobody on the adult side owns the case | the last day | the coordinator / caseworker / referrer | a coordinator or coordinating caseworker from the job centre or adult disability, or team 3 |
//! | `follow_up_overdue` | the day after a meeting decision's follow-up date plus N days (0) without the case discussed at a meeting held after the decision | the follow-up date | a meeting held with the case on its agenda after the decision |
//! | `dropout_no_contact` | 15-17 year old dropped out, no contact after N days (5) | dropout + N days | a recorded contact |
//! | `dropout_no_offer` | as above, no offer after N days (30) | dropout + N days | a contact with an offer, or back in education/work |
//!
//! Every alarm closes when the case closes.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use kui_domain::event::AlarmSettings;
use kui_domain::values::{age_on, birthday_at, Department, NeedLevel, SchoolStatus, Team};
use kui_domain::{Event, MeetingId, MunicipalityCode, StaffId, YouthId};
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Stamp};
use crate::models::{FastMap, FastSet, Projector};

/// Weekly hours of expected support after 18 above which a transition form is kept.
pub const FORM_HOURS_THRESHOLD: u16 = 10;
/// Days after the form became due before it counts as missing.
pub const FORM_GRACE_DAYS: u64 = 30;

/// The rule behind an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Turning 18 soon without an adult-side owner.
    EighteenWithoutAdultOwner,
    /// The coordinating team has not met by its first meeting date / the 17th birthday.
    CoordinatingTeamNotMet,
    /// No transition form for a young person expected to need it.
    TransitionFormMissing,
    /// The transition form was not updated in January or in June/July.
    TransitionFormStale,
    /// The plan was not touched for too long.
    PlanStale,
    /// The referral never came to a meeting.
    ReferralNotTabled,
    /// No contact after a dropout.
    DropoutNoContact,
    /// No offer after a dropout.
    DropoutNoOffer,
    /// Someone the case depends on has left.
    OwnerDeparted,
    /// A meeting decision's follow-up date passed without a follow-up.
    FollowUpOverdue,
    /// Aftercare ends (or ended) with nobody on the adult side.
    AftercareEndsWithoutAdultOwner,
}

impl Rule {
    /// Every rule.
    pub const ALL: &'static [Rule] = &[
        Rule::EighteenWithoutAdultOwner,
        Rule::CoordinatingTeamNotMet,
        Rule::TransitionFormMissing,
        Rule::TransitionFormStale,
        Rule::PlanStale,
        Rule::ReferralNotTabled,
        Rule::DropoutNoContact,
        Rule::DropoutNoOffer,
        Rule::OwnerDeparted,
        Rule::FollowUpOverdue,
        Rule::AftercareEndsWithoutAdultOwner,
    ];

    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::EighteenWithoutAdultOwner => "eighteen_without_adult_owner",
            Rule::CoordinatingTeamNotMet => "coordinating_team_not_met",
            Rule::TransitionFormMissing => "transition_form_missing",
            Rule::TransitionFormStale => "transition_form_stale",
            Rule::PlanStale => "plan_stale",
            Rule::ReferralNotTabled => "referral_not_tabled",
            Rule::DropoutNoContact => "dropout_no_contact",
            Rule::DropoutNoOffer => "dropout_no_offer",
            Rule::OwnerDeparted => "owner_departed",
            Rule::FollowUpOverdue => "follow_up_overdue",
            Rule::AftercareEndsWithoutAdultOwner => "aftercare_ends_without_adult_owner",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Rule {
    type Err = String;

    fn from_str(text: &str) -> Result<Rule, String> {
        Rule::ALL
            .iter()
            .copied()
            .find(|rule| rule.as_str() == text.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Rule::ALL.iter().map(|rule| rule.as_str()).collect();
                format!("{text:?} is not one of {}", names.join(", "))
            })
    }
}

/// An open alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarm {
    /// The rule that fired.
    pub rule: Rule,
    /// The young person.
    pub youth_id: YouthId,
    /// Their municipality.
    pub municipality: MunicipalityCode,
    /// The deadline the rule watches.
    pub due: NaiveDate,
    /// The day the alarm opened.
    pub opened_on: NaiveDate,
    /// Who should act, when a person is known.
    pub act: Option<StaffId>,
    /// In which capacity (coordinator, lead, referrer, ...).
    pub act_as: &'static str,
    /// What is missing, in words.
    pub detail: String,
    /// Acknowledged by whoever should act.
    pub acknowledged: bool,
    /// Put aside until this day (it counts again from then).
    pub snoozed_until: Option<NaiveDate>,
    /// 0 while within the municipality's answer time; 1 when it went to the team lead;
    /// 2 when it went on to the municipal youth coordinator. Answered or snoozed alarms do
    /// not escalate.
    pub escalation: u8,
}

/// The answers recorded for one alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answers {
    /// Acknowledged.
    pub acknowledged: bool,
    /// Assigned to.
    pub assigned: Option<StaffId>,
    /// Snoozed until.
    pub snoozed_until: Option<NaiveDate>,
}

/// A coordinating team composed by a meeting decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatingTeam {
    /// The lead (tovholder).
    pub lead: StaffId,
    /// The day of the decision.
    pub decided_on: NaiveDate,
    /// The planned first meeting.
    pub first_meeting: Option<NaiveDate>,
    /// The first held meeting with the case on the agenda after the decision.
    pub met_on: Option<NaiveDate>,
}

/// The latest transition form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// When it was recorded.
    pub recorded_on: NaiveDate,
    /// Expected weekly hours of support after 18.
    pub hours: u16,
    /// Who recorded it.
    pub by: StaffId,
}

/// A dropout and what followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropout {
    /// The day of the dropout.
    pub on: NaiveDate,
    /// The first contact on or after it.
    pub contact_on: Option<NaiveDate>,
    /// The first offer on or after it.
    pub offer_on: Option<NaiveDate>,
}

/// What the rules read about one young person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Whether the case is open.
    pub open: bool,
    /// The latest referral's date.
    pub referred_on: NaiveDate,
    /// The latest referrer.
    pub referred_by: StaffId,
    /// Need level.
    pub need: Option<NeedLevel>,
    /// When the need was last assessed as C.
    pub need_c_since: Option<NaiveDate>,
    /// Team.
    pub team: Option<Team>,
    /// Coordinator and department, while assigned.
    pub coordinator: Option<(StaffId, Department)>,
    /// Coordinating caseworker and department.
    pub caseworker: Option<(StaffId, Department)>,
    /// The last day the case was tabled at a meeting.
    pub tabled_on: Option<NaiveDate>,
    /// The coordinating team, if a meeting composed one.
    pub coordinating_team: Option<CoordinatingTeam>,
    /// The latest transition form.
    pub form: Option<Form>,
    /// The latest dropout, while not back in education or work.
    pub dropout: Option<Dropout>,
    /// The latest decision's follow-up: the date, the day of the decision, and its lead.
    pub follow_up: Option<(NaiveDate, NaiveDate, Option<StaffId>)>,
    /// The last day of the aftercare, once decided (the day it ended, if it ended early).
    pub aftercare_until: Option<NaiveDate>,
}

impl Watch {
    /// Whether someone on the adult side owns the case.
    pub fn has_adult_owner(&self) -> bool {
        self.coordinator.is_some_and(|(_, d)| d.is_adult_side())
            || self.caseworker.is_some_and(|(_, d)| d.is_adult_side())
            || self.team == Some(Team::Team3)
    }

    /// The person who should act on most alarms: the coordinator, else the coordinating
    /// caseworker, else the referrer.
    fn owner(&self) -> (Option<StaffId>, &'static str) {
        if let Some((staff, _)) = self.coordinator {
            (Some(staff), "coordinator")
        } else if let Some((staff, _)) = self.caseworker {
            (Some(staff), "coordinating caseworker")
        } else {
            (Some(self.referred_by), "referrer")
        }
    }
}

/// The alarm rules' facts for every young person, and each municipality's thresholds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alarms {
    /// By young person.
    pub watches: FastMap<YouthId, Watch>,
    /// The young people on each meeting's agenda, until the meeting is held or cancelled.
    pub agendas: FastMap<MeetingId, Vec<YouthId>>,
    /// Thresholds by municipality code.
    pub settings: BTreeMap<u16, AlarmSettings>,
    /// Young people whose dropout still waits for a contact or an offer.
    pub awaiting_contact: FastSet<YouthId>,
    /// The last plan change of each young person, and by whom.
    pub plans: FastMap<YouthId, (NaiveDate, StaffId)>,
    /// Staff members who left, with their last day, and their department.
    pub departed: FastMap<StaffId, (NaiveDate, Department)>,
    /// Every staff member's department (for who acts when one of them leaves).
    pub departments: FastMap<StaffId, Department>,
    /// The answers to alarms, by young person, rule and due date.
    pub answers: FastMap<(YouthId, Rule, NaiveDate), Answers>,
}

impl Projector for Alarms {
    const NAME: &'static str = "alarms";
    const VERSION: u32 = 2;

    fn apply(&mut self, stamp: Stamp, fact: &Fact) {
        match fact {
            Fact::Contact(contact) => {
                // Contacts are the most frequent fact; only a dropout still waiting for
                // contact or an offer reads them, and those are few.
                if !self.awaiting_contact.contains(&contact.youth_id) {
                    return;
                }
                if let Some(dropout) = self.watches.get_mut(&contact.youth_id).and_then(|w| w.dropout.as_mut()) {
                    if contact.on >= dropout.on {
                        dropout.contact_on.get_or_insert(contact.on);
                        if contact.offer_made {
                            dropout.offer_on.get_or_insert(contact.on);
                        }
                    }
                    if dropout.contact_on.is_some() && dropout.offer_on.is_some() {
                        self.awaiting_contact.remove(&contact.youth_id);
                    }
                }
            }
            Fact::PlanChange(change) => {
                // Kept apart from the watches: a small entry, updated on every plan change.
                self.plans.insert(change.youth_id, (stamp.on, change.updated_by));
            }
            Fact::SchoolChange(change) => {
                if let Some(watch) = self.watches.get_mut(&change.youth_id) {
                    match change.status {
                        SchoolStatus::DroppedOut => {
                            watch.dropout = Some(Dropout {
                                on: change.on,
                                contact_on: None,
                                offer_on: None,
                            });
                            self.awaiting_contact.insert(change.youth_id);
                        }
                        SchoolStatus::InEducation | SchoolStatus::Working | SchoolStatus::Completed => {
                            watch.dropout = None;
                            self.awaiting_contact.remove(&change.youth_id);
                        }
                        _ => {}
                    }
                }
            }
            Fact::Event(event) => self.apply_event(stamp, event),
        }
    }
}

impl Alarms {
    fn apply_event(&mut self, stamp: Stamp, event: &Event) {
        match event {
            Event::MunicipalityConfigured(e) => {
                self.settings.insert(e.municipality.get(), e.alarms);
                return;
            }
            Event::StaffRegistered(e) => {
                self.departments.insert(e.staff_id, e.department);
                self.departed.remove(&e.staff_id);
                return;
            }
            Event::StaffDeparted(e) => {
                let department = self.departments.get(&e.staff_id).copied().unwrap_or(Department::Other);
                self.departed.insert(e.staff_id, (e.on, department));
                return;
            }
            Event::AlarmAnswered(e) => {
                if let Ok(rule) = e.rule.parse::<Rule>() {
                    let answers = self.answers.entry((e.youth_id, rule, e.due)).or_default();
                    match &e.answer {
                        kui_domain::event::AlarmAnswer::Acknowledged => answers.acknowledged = true,
                        kui_domain::event::AlarmAnswer::Assigned { to } => answers.assigned = Some(*to),
                        kui_domain::event::AlarmAnswer::Snoozed { until, .. } => answers.snoozed_until = Some(*until),
                    }
                }
                return;
            }
            Event::YouthReferred(e) => {
                let watch = self.watches.entry(e.youth_id).or_insert_with(|| Watch {
                    municipality: e.municipality,
                    birth_date: e.birth_date,
                    open: true,
                    referred_on: e.referred_on,
                    referred_by: e.referred_by,
                    need: None,
                    need_c_since: None,
                    team: None,
                    coordinator: None,
                    caseworker: None,
                    tabled_on: None,
                    coordinating_team: None,
                    form: None,
                    dropout: None,
                    follow_up: None,
                    aftercare_until: None,
                });
                watch.municipality = e.municipality;
                watch.open = true;
                watch.referred_on = e.referred_on;
                watch.referred_by = e.referred_by;
                watch.coordinator = None;
                watch.team = None;
                if e.school_status == SchoolStatus::DroppedOut {
                    watch.dropout = Some(Dropout {
                        on: e.referred_on,
                        contact_on: None,
                        offer_on: None,
                    });
                    self.awaiting_contact.insert(e.youth_id);
                }
                return;
            }
            Event::CaseTabled(e) => {
                self.agendas.entry(e.meeting_id).or_default().push(e.youth_id);
            }
            Event::MeetingHeld(e) => {
                for youth in self.agendas.remove(&e.meeting_id).unwrap_or_default() {
                    let Some(watch) = self.watches.get_mut(&youth) else {
                        continue;
                    };
                    // The case was discussed: only a held meeting counts.
                    if watch.tabled_on.is_none_or(|day| day < e.held_on) {
                        watch.tabled_on = Some(e.held_on);
                    }
                    if let Some(team) = watch.coordinating_team.as_mut() {
                        if team.met_on.is_none() && e.held_on > team.decided_on {
                            team.met_on = Some(e.held_on);
                        }
                    }
                }
                return;
            }
            Event::MeetingCancelled(e) => {
                self.agendas.remove(&e.meeting_id);
                return;
            }
            Event::NeedAssessed(_)
            | Event::CoordinatorAssigned(_)
            | Event::CoordinatorReleased(_)
            | Event::CoordinatingCaseworkerAssigned(_)
            | Event::TeamAssigned(_)
            | Event::TeamHandedOver(_)
            | Event::DecisionRecorded(_)
            | Event::TransitionFormRecorded(_)
            | Event::AftercareDecided(_)
            | Event::AftercareEnded(_)
            | Event::CaseClosed(_) => {}
            // Nothing else changes what the rules read.
            _ => return,
        }
        let Some(watch) = event.youth_id().and_then(|id| self.watches.get_mut(&id)) else {
            return;
        };
        match event {
            Event::NeedAssessed(e) => {
                watch.need = Some(e.level);
                if e.level == NeedLevel::C {
                    watch.need_c_since.get_or_insert(stamp.on);
                } else {
                    watch.need_c_since = None;
                }
            }
            Event::CoordinatorAssigned(e) => watch.coordinator = Some((e.coordinator, e.department)),
            Event::CoordinatorReleased(_) => watch.coordinator = None,
            Event::CoordinatingCaseworkerAssigned(e) => watch.caseworker = Some((e.caseworker, e.department)),
            Event::TeamAssigned(e) => watch.team = Some(e.team),
            Event::TeamHandedOver(e) => watch.team = Some(e.to),
            Event::DecisionRecorded(e) => {
                watch.follow_up = e.follow_up.map(|day| (day, stamp.on, e.lead));
                if let Some(lead) = e.lead {
                    watch.coordinating_team = Some(CoordinatingTeam {
                        lead,
                        decided_on: stamp.on,
                        first_meeting: e.first_team_meeting,
                        met_on: None,
                    });
                }
            }
            Event::TransitionFormRecorded(e) => {
                watch.form = Some(Form {
                    recorded_on: stamp.on,
                    hours: e.expected_weekly_hours,
                    by: e.recorded_by,
                });
            }
            Event::AftercareDecided(e) => watch.aftercare_until = Some(e.until),
            Event::AftercareEnded(e) => watch.aftercare_until = Some(e.on),
            Event::CaseClosed(_) => watch.open = false,
            _ => {}
        }
    }

    /// The thresholds of a municipality (the usual ones when it is not configured).
    pub fn settings_of(&self, municipality: MunicipalityCode) -> AlarmSettings {
        self.settings
            .get(&municipality.get())
            .copied()
            .unwrap_or(AlarmSettings::USUAL)
    }

    /// Every open alarm on `today`, by due date.
    pub fn alarms(&self, today: NaiveDate) -> Vec<Alarm> {
        let mut alarms = Vec::new();
        for (&youth, watch) in &self.watches {
            alarms.extend(self.evaluate_watch(youth, watch, today));
        }
        alarms.sort_by(|a, b| {
            a.due
                .cmp(&b.due)
                .then(a.youth_id.cmp(&b.youth_id))
                .then(a.rule.cmp(&b.rule))
        });
        alarms
    }

    /// The open alarms of one young person on `today`.
    pub fn alarms_of(&self, youth: YouthId, today: NaiveDate) -> Vec<Alarm> {
        self.watches
            .get(&youth)
            .map_or_else(Vec::new, |watch| self.evaluate_watch(youth, watch, today))
    }

    /// Every rule for one watched young person on `today`, with the answers recorded and
    /// the escalation they have reached.
    fn evaluate_watch(&self, youth: YouthId, watch: &Watch, today: NaiveDate) -> Vec<Alarm> {
        let plan = self.plans.get(&youth).copied();
        let settings = self.settings_of(watch.municipality);
        let mut alarms = evaluate(youth, watch, plan, &self.departed, settings, today);
        for alarm in &mut alarms {
            let answers = self
                .answers
                .get(&(youth, alarm.rule, alarm.due))
                .copied()
                .unwrap_or_default();
            if let Some(to) = answers.assigned {
                alarm.act = Some(to);
                alarm.act_as = "assigned";
            }
            alarm.acknowledged = answers.acknowledged;
            alarm.snoozed_until = answers.snoozed_until.filter(|until| *until > today);
            let answered = answers.acknowledged || answers.assigned.is_some();
            // Time to answer counts from the day it opened, or from the end of a snooze.
            let since = answers
                .snoozed_until
                .map_or(alarm.opened_on, |until| until.max(alarm.opened_on));
            let step = i64::from(settings.escalate_after_days.max(1));
            let waited = (today - since).num_days();
            alarm.escalation = if answered || alarm.snoozed_until.is_some() || waited < step {
                0
            } else if waited < 2 * step {
                1
            } else {
                2
            };
        }
        alarms
    }
}

fn plus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days)).unwrap_or(NaiveDate::MAX)
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The latest transition-form window (1-31 January, 1 June-31 July) that ended before
/// `today`: `(start, end)`.
fn last_form_window(today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let year = today.year();
    [
        (ymd(year, 6, 1)?, ymd(year, 7, 31)?),
        (ymd(year, 1, 1)?, ymd(year, 1, 31)?),
        (ymd(year - 1, 6, 1)?, ymd(year - 1, 7, 31)?),
    ]
    .into_iter()
    .find(|&(_, end)| end < today)
}

/// Evaluates every rule for one young person on `today`.
/// `plan` is the last plan change and who made it; `departed` the staff who left.
pub fn evaluate(
    youth_id: YouthId,
    watch: &Watch,
    plan: Option<(NaiveDate, StaffId)>,
    departed: &FastMap<StaffId, (NaiveDate, Department)>,
    settings: AlarmSettings,
    today: NaiveDate,
) -> Vec<Alarm> {
    let mut alarms = Vec::new();
    if !watch.open {
        return alarms;
    }
    let birth = watch.birth_date;
    let age = age_on(birth, today);
    let mut raise =
        |rule: Rule, due: NaiveDate, opened_on: NaiveDate, act: (Option<StaffId>, &'static str), detail: String| {
            if opened_on <= today {
                alarms.push(Alarm {
                    rule,
                    youth_id,
                    municipality: watch.municipality,
                    due,
                    opened_on,
                    act: act.0,
                    act_as: act.1,
                    detail,
                    acknowledged: false,
                    snoozed_until: None,
                    escalation: 0,
                });
            }
        };

    let eighteen = birthday_at(birth, 18);
    let warn_from = eighteen
        .checked_sub_months(Months::new(u32::from(settings.eighteen_warning_months)))
        .unwrap_or(eighteen);
    if !watch.has_adult_owner() && age < 19 {
        raise(
            Rule::EighteenWithoutAdultOwner,
            eighteen,
            warn_from,
            watch.owner(),
            format!("turns 18 on {eighteen} with no job centre or adult services owner"),
        );
    }

    let seventeen = birthday_at(birth, 17);
    if let Some(team) = watch
        .coordinating_team
        .filter(|team| team.met_on.is_none() && team.decided_on < seventeen)
    {
        let due = team
            .first_meeting
            .map_or(seventeen, |d| d.min(seventeen))
            .max(team.decided_on);
        raise(
            Rule::CoordinatingTeamNotMet,
            due,
            plus_days(due, 1),
            (Some(team.lead), "lead"),
            format!("the coordinating team decided on {} has not met", team.decided_on),
        );
    }

    if (14..18).contains(&age) {
        let expects_support = watch.form.map_or(watch.need == Some(NeedLevel::C), |form| {
            form.hours > FORM_HOURS_THRESHOLD
        });
        match watch.form {
            None if expects_support => {
                let from = birthday_at(birth, 14).max(watch.need_c_since.unwrap_or(birth));
                let due = plus_days(from, FORM_GRACE_DAYS);
                raise(
                    Rule::TransitionFormMissing,
                    due,
                    plus_days(due, 1),
                    watch.owner(),
                    "C-need young person of 14-17 without a transition form".into(),
                );
            }
            Some(form) if expects_support => {
                if let Some((start, end)) = last_form_window(today) {
                    if form.recorded_on < start {
                        raise(
                            Rule::TransitionFormStale,
                            end,
                            plus_days(end, 1),
                            (Some(form.by), "form owner"),
                            format!(
                                "transition form last updated {}, not in {start}..{end}",
                                form.recorded_on
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    if let Some((changed, by)) = plan {
        let due = plus_days(changed, u64::from(settings.plan_stale_days));
        let act = match watch.coordinator {
            Some((staff, _)) => (Some(staff), "coordinator"),
            None => (Some(by), "plan owner"),
        };
        raise(
            Rule::PlanStale,
            due,
            plus_days(due, 1),
            act,
            format!("plan untouched since {changed}"),
        );
    }

    let for_the_teams = !matches!(watch.need, Some(NeedLevel::A | NeedLevel::B));
    if for_the_teams && watch.tabled_on.is_none_or(|tabled| tabled < watch.referred_on) {
        let due = plus_days(watch.referred_on, u64::from(settings.referral_untabled_days));
        raise(
            Rule::ReferralNotTabled,
            due,
            plus_days(due, 1),
            (Some(watch.referred_by), "referrer"),
            format!("referred on {} and not discussed at a meeting", watch.referred_on),
        );
    }

    if let Some(until) = watch.aftercare_until.filter(|_| !watch.has_adult_owner()) {
        let warn_from = until
            .checked_sub_days(Days::new(u64::from(settings.aftercare_warning_days)))
            .unwrap_or(until);
        raise(
            Rule::AftercareEndsWithoutAdultOwner,
            until,
            warn_from,
            watch.owner(),
            format!("aftercare ends on {until} with no job centre or adult services owner"),
        );
    }

    // Whoever the case depends on, in the order they are asked: the first who left.
    let places = [
        watch.coordinator.map(|(staff, _)| (staff, "coordinator")),
        watch.caseworker.map(|(staff, _)| (staff, "coordinating caseworker")),
        watch
            .coordinating_team
            .map(|team| (team.lead, "coordinating team's lead")),
        plan.filter(|_| watch.coordinator.is_none())
            .map(|(_, by)| (by, "plan owner")),
    ];
    for (staff, place) in places.into_iter().flatten() {
        if let Some(&(left, department)) = departed.get(&staff) {
            let due = plus_days(left, u64::from(settings.departed_grace_days));
            raise(
                Rule::OwnerDeparted,
                due,
                due,
                (None, "team lead"),
                format!("the {place} ({department}) left on {left}: the case needs a new one"),
            );
            break;
        }
    }

    if let Some((follow_up, decided_on, lead)) = watch.follow_up {
        if watch.tabled_on.is_none_or(|discussed| discussed <= decided_on) {
            let due = plus_days(follow_up, u64::from(settings.follow_up_grace_days));
            raise(
                Rule::FollowUpOverdue,
                follow_up,
                plus_days(due, 1),
                lead.map_or((None, "meeting organiser"), |lead| (Some(lead), "lead")),
                format!("decided on {decided_on} to follow up by {follow_up}; no meeting has discussed the case since"),
            );
        }
    }

    if let Some(dropout) = watch.dropout {
        if (15..18).contains(&age_on(birth, dropout.on)) {
            let act = match watch.coordinator {
                Some((staff, _)) => (Some(staff), "coordinator"),
                None => (None, "youth guidance (UU)"),
            };
            if dropout.contact_on.is_none() {
                let due = plus_days(dropout.on, u64::from(settings.dropout_contact_days));
                raise(
                    Rule::DropoutNoContact,
                    due,
                    plus_days(due, 1),
                    act,
                    format!("dropped out on {} and not contacted", dropout.on),
                );
            }
            if dropout.offer_on.is_none() {
                let due = plus_days(dropout.on, u64::from(settings.dropout_offer_days));
                raise(
                    Rule::DropoutNoOffer,
                    due,
                    plus_days(due, 1),
                    act,
                    format!("dropped out on {} and no offer made", dropout.on),
                );
            }
        }
    }
    // Nobody who has left is asked to act: their team lead is, in their place.
    for alarm in &mut alarms {
        if let Some(&(left, department)) = alarm.act.and_then(|staff| departed.get(&staff)) {
            if left <= today {
                alarm.act = None;
                alarm.act_as = "team lead";
                alarm.detail = format!(
                    "{} (the {} who should act, of {department}, left on {left})",
                    alarm.detail,
                    alarm_place(alarm.rule)
                );
            }
        }
    }
    alarms
}

/// In words, who an alarm of `rule` first asks to act.
fn alarm_place(rule: Rule) -> &'static str {
    match rule {
        Rule::CoordinatingTeamNotMet | Rule::FollowUpOverdue => "lead",
        Rule::TransitionFormStale => "form owner",
        Rule::ReferralNotTabled => "referrer",
        _ => "person",
    }
}

/// The alarms report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmsReport {
    /// The report date.
    pub as_of: NaiveDate,
    /// Open alarms per rule.
    pub counts: BTreeMap<Rule, usize>,
    /// The alarms, by due date.
    pub alarms: Vec<Alarm>,
}

impl Alarms {
    /// Open alarms on `today`, optionally of one municipality and one rule.
    pub fn report(&self, municipality: Option<MunicipalityCode>, rule: Option<Rule>, today: NaiveDate) -> AlarmsReport {
        let alarms: Vec<Alarm> = self
            .alarms(today)
            .into_iter()
            .filter(|a| municipality.is_none_or(|m| m == a.municipality) && rule.is_none_or(|r| r == a.rule))
            .collect();
        let mut counts = BTreeMap::new();
        for alarm in &alarms {
            *counts.entry(alarm.rule).or_insert(0) += 1;
        }
        AlarmsReport {
            as_of: today,
            counts,
            alarms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_windows() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(last_form_window(d(2025, 1, 31)), Some((d(2024, 6, 1), d(2024, 7, 31))));
        assert_eq!(last_form_window(d(2025, 2, 1)), Some((d(2025, 1, 1), d(2025, 1, 31))));
        assert_eq!(last_form_window(d(2025, 7, 31)), Some((d(2025, 1, 1), d(2025, 1, 31))));
        assert_eq!(last_form_window(d(2025, 8, 1)), Some((d(2025, 6, 1), d(2025, 7, 31))));
    }
}
