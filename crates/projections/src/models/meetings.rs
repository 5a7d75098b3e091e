//! Meetings: upcoming and past per forum, agendas against their time slot, decisions and
//! the follow-ups they set.

use chrono::{Days, NaiveDate};
use kui_domain::event::DecisionRecorded;
use kui_domain::values::Forum;
use kui_domain::{Event, MeetingId, MunicipalityCode, StaffId, YouthId};
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Stamp};
use crate::models::{FastMap, Projector};

/// How many days ahead a follow-up counts as due.
pub const FOLLOW_UP_DUE_DAYS: u64 = 14;

/// Where a meeting stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Planned.
    Scheduled,
    /// Took place.
    Held,
    /// Called off.
    Cancelled,
}

/// One case on an agenda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    /// The young person.
    pub youth_id: YouthId,
    /// Who presents.
    pub presenter: StaffId,
    /// Minutes set aside.
    pub minutes: u32,
    /// Complex case or several professionals.
    pub complex: bool,
}

/// One meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingRow {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// Forum.
    pub forum: Forum,
    /// Planned day.
    pub date: NaiveDate,
    /// Minutes available for cases.
    pub slot_minutes: u32,
    /// Who scheduled it.
    pub scheduled_by: StaffId,
    /// Status.
    pub status: MeetingStatus,
    /// The day it was held.
    pub held_on: Option<NaiveDate>,
    /// How many took part.
    pub attendees: usize,
    /// Self-evaluation, 1-5.
    pub evaluation: Option<u8>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The agenda, in tabling order.
    pub agenda: Vec<AgendaItem>,
    /// Decisions, in order, as recorded.
    pub decisions: Vec<DecisionRecorded>,
}

impl MeetingRow {
    /// Minutes booked by the agenda.
    pub fn booked_minutes(&self) -> u32 {
        self.agenda.iter().map(|item| item.minutes).sum()
    }
}

/// Every meeting, and where each young person was tabled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meetings {
    /// By meeting.
    pub meetings: FastMap<MeetingId, MeetingRow>,
    /// For each young person, the meetings their case was tabled at.
    pub tabled: FastMap<YouthId, Vec<MeetingId>>,
}

impl Projector for Meetings {
    const NAME: &'static str = "meetings";
    // 2: decisions are kept as the recorded events.
    const VERSION: u32 = 2;

    fn apply(&mut self, _stamp: Stamp, fact: &Fact) {
        let Fact::Event(event) = fact else { return };
        match event {
            Event::MeetingScheduled(e) => {
                self.meetings.insert(
                    e.meeting_id,
                    MeetingRow {
                        meeting_id: e.meeting_id,
                        municipality: e.municipality,
                        forum: e.forum,
                        date: e.date,
                        slot_minutes: e.slot_minutes,
                        scheduled_by: e.scheduled_by,
                        status: MeetingStatus::Scheduled,
                        held_on: None,
                        attendees: 0,
                        evaluation: None,
                        cancel_reason: None,
                        agenda: Vec::new(),
                        decisions: Vec::new(),
                    },
                );
            }
            Event::CaseTabled(e) => {
                if let Some(meeting) = self.meetings.get_mut(&e.meeting_id) {
                    meeting.agenda.push(AgendaItem {
                        youth_id: e.youth_id,
                        presenter: e.presenter,
                        minutes: e.minutes,
                        complex: e.complex,
                    });
                    self.tabled.entry(e.youth_id).or_default().push(e.meeting_id);
                }
            }
            Event::DecisionRecorded(e) => {
                if let Some(meeting) = self.meetings.get_mut(&e.meeting_id) {
                    meeting.decisions.push(e.clone());
                }
            }
            Event::MeetingHeld(e) => {
                if let Some(meeting) = self.meetings.get_mut(&e.meeting_id) {
                    meeting.status = MeetingStatus::Held;
                    meeting.held_on = Some(e.held_on);
                    meeting.attendees = e.attendees.len();
                }
            }
            Event::MeetingEvaluated(e) => {
                if let Some(meeting) = self.meetings.get_mut(&e.meeting_id) {
                    meeting.evaluation = Some(e.score);
                }
            }
            Event::MeetingCancelled(e) => {
                if let Some(meeting) = self.meetings.get_mut(&e.meeting_id) {
                    meeting.status = MeetingStatus::Cancelled;
                    meeting.cancel_reason = Some(e.reason.clone());
                }
            }
            _ => {}
        }
    }
}

/// One meeting in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingSummary {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// Forum.
    pub forum: Forum,
    /// Day.
    pub date: NaiveDate,
    /// Status.
    pub status: MeetingStatus,
    /// Cases on the agenda.
    pub cases: usize,
    /// Minutes booked by the agenda.
    pub booked_minutes: u32,
    /// Minutes available.
    pub slot_minutes: u32,
    /// The agenda needs more time than the slot has.
    pub over_slot: bool,
    /// Decisions recorded.
    pub decisions: usize,
}

/// Where a follow-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpState {
    /// Due within the next days.
    Due,
    /// The date passed without the case coming back to a meeting.
    Overdue,
}

/// A follow-up a decision set that has not happened yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// The young person.
    pub youth_id: YouthId,
    /// The meeting that decided.
    pub meeting_id: MeetingId,
    /// Its forum.
    pub forum: Forum,
    /// The day of the decision's meeting.
    pub decided_at: NaiveDate,
    /// The follow-up date.
    pub follow_up: NaiveDate,
    /// Due or overdue.
    pub state: FollowUpState,
}

/// The meetings report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingsReport {
    /// The report date.
    pub as_of: NaiveDate,
    /// Scheduled meetings from the report date on, by date.
    pub upcoming: Vec<MeetingSummary>,
    /// The most recent meetings before the report date, newest first.
    pub past: Vec<MeetingSummary>,
    /// Follow-ups due within 14 days or overdue, by date.
    pub follow_ups: Vec<FollowUp>,
}

impl Meetings {
    /// The day of the last meeting held and of the next scheduled one for a forum.
    pub fn last_and_next(
        &self,
        forum: Forum,
        municipality: Option<MunicipalityCode>,
        today: NaiveDate,
    ) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let mut last = None;
        let mut next = None;
        for meeting in self.meetings.values() {
            if meeting.forum != forum || municipality.is_some_and(|m| m != meeting.municipality) {
                continue;
            }
            match meeting.status {
                MeetingStatus::Held => {
                    let day = meeting.held_on.unwrap_or(meeting.date);
                    if day <= today && last.is_none_or(|l| day > l) {
                        last = Some(day);
                    }
                }
                MeetingStatus::Scheduled if meeting.date >= today && next.is_none_or(|n| meeting.date < n) => {
                    next = Some(meeting.date);
                }
                _ => {}
            }
        }
        (last, next)
    }

    /// Whether the young person's case came back to a meeting later than `after`.
    fn tabled_after(&self, youth: YouthId, after: NaiveDate) -> bool {
        self.tabled.get(&youth).is_some_and(|ids| {
            ids.iter()
                .filter_map(|id| self.meetings.get(id))
                .any(|meeting| meeting.date > after && meeting.status != MeetingStatus::Cancelled)
        })
    }

    /// Upcoming and recent meetings (at most `past_limit` of these), optionally of one
    /// forum, and the follow-ups due or overdue.
    pub fn report(
        &self,
        municipality: Option<MunicipalityCode>,
        forum: Option<Forum>,
        today: NaiveDate,
        past_limit: usize,
    ) -> MeetingsReport {
        let mut upcoming = Vec::new();
        let mut past = Vec::new();
        let mut follow_ups = Vec::new();
        let due_until = today.checked_add_days(Days::new(FOLLOW_UP_DUE_DAYS)).unwrap_or(today);
        for meeting in self.meetings.values() {
            if municipality.is_some_and(|m| m != meeting.municipality) || forum.is_some_and(|f| f != meeting.forum) {
                continue;
            }
            let summary = MeetingSummary {
                meeting_id: meeting.meeting_id,
                forum: meeting.forum,
                date: meeting.date,
                status: meeting.status,
                cases: meeting.agenda.len(),
                booked_minutes: meeting.booked_minutes(),
                slot_minutes: meeting.slot_minutes,
                over_slot: meeting.booked_minutes() > meeting.slot_minutes,
                decisions: meeting.decisions.len(),
            };
            if meeting.date >= today && meeting.status == MeetingStatus::Scheduled {
                upcoming.push(summary);
            } else if meeting.date < today {
                past.push(summary);
            }
            for decision in &meeting.decisions {
                let Some(date) = decision.follow_up else { continue };
                if date > due_until || self.tabled_after(decision.youth_id, meeting.date) {
                    continue;
                }
                follow_ups.push(FollowUp {
                    youth_id: decision.youth_id,
                    meeting_id: meeting.meeting_id,
                    forum: meeting.forum,
                    decided_at: meeting.date,
                    follow_up: date,
                    state: if date < today {
                        FollowUpState::Overdue
                    } else {
                        FollowUpState::Due
                    },
                });
            }
        }
        upcoming.sort_by(|a, b| a.date.cmp(&b.date).then(a.meeting_id.cmp(&b.meeting_id)));
        past.sort_by(|a, b| b.date.cmp(&a.date).then(a.meeting_id.cmp(&b.meeting_id)));
        past.truncate(past_limit);
        follow_ups.sort_by(|a, b| {
            a.follow_up
                .cmp(&b.follow_up)
                .then(a.youth_id.cmp(&b.youth_id))
                .then(a.meeting_id.cmp(&b.meeting_id))
        });
        MeetingsReport {
            as_of: today,
            upcoming,
            past,
            follow_ups,
        }
    }

    /// One meeting with its agenda and decisions.
    pub fn meeting(&self, id: MeetingId) -> Option<&MeetingRow> {
        self.meetings.get(&id)
    }
}
