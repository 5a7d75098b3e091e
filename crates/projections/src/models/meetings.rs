//! Meetings: upcoming and past per forum, agendas against their time slot, decisions and
//! the follow-ups they set.

use chrono::{Days, NaiveDate};
use kui_domain::values::Forum;
use kui_domain::{Aggregate, Event, Meeting, MeetingId, MunicipalityCode, YouthId};
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Stamp};
use crate::models::{FastMap, Projector};

pub use kui_domain::meeting::MeetingStatus;

/// How many days ahead a follow-up counts as due.
pub const FOLLOW_UP_DUE_DAYS: u64 = 14;

/// Every meeting, and where each young person was tabled.
///
/// Each meeting is the domain's `Meeting` aggregate, folded by its own `apply`: the
/// model adds only what spans meetings (the index of tablings by young person), so a
/// meeting reads the same here, in the API and where the engine decides on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meetings {
    /// By meeting (only meetings that were scheduled).
    pub meetings: FastMap<MeetingId, Meeting>,
    /// For each young person, the meetings their case was tabled at.
    pub tabled: FastMap<YouthId, Vec<MeetingId>>,
}

impl Projector for Meetings {
    const NAME: &'static str = "meetings";
    // 2: decisions are kept as the recorded events.
    // 3: each meeting is the domain's aggregate.
    const VERSION: u32 = 3;

    fn apply(&mut self, _stamp: Stamp, fact: &Fact) {
        let Fact::Event(event) = fact else { return };
        let meeting_id = match event {
            Event::MeetingScheduled(e) => {
                self.meetings.insert(e.meeting_id, Meeting::default());
                e.meeting_id
            }
            Event::CaseTabled(e) => {
                if self.meetings.contains_key(&e.meeting_id) {
                    self.tabled.entry(e.youth_id).or_default().push(e.meeting_id);
                }
                e.meeting_id
            }
            Event::DecisionRecorded(e) => e.meeting_id,
            Event::MeetingHeld(e) => e.meeting_id,
            Event::MeetingEvaluated(e) => e.meeting_id,
            Event::MeetingCancelled(e) => e.meeting_id,
            _ => return,
        };
        if let Some(meeting) = self.meetings.get_mut(&meeting_id) {
            meeting.apply(event);
        }
    }
}

/// What every report reads of a meeting: id, municipality, forum and day. Every meeting
/// the model keeps was scheduled, so this is `None` for none of them.
fn scheduled(meeting: &Meeting) -> Option<(MeetingId, MunicipalityCode, Forum, NaiveDate)> {
    Some((meeting.id?, meeting.municipality?, meeting.forum?, meeting.date?))
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
            let Some((_, held_by, held_in, date)) = scheduled(meeting) else {
                continue;
            };
            if held_in != forum || municipality.is_some_and(|m| m != held_by) {
                continue;
            }
            match meeting.status {
                MeetingStatus::Held => {
                    let day = meeting.held_on.unwrap_or(date);
                    if day <= today && last.is_none_or(|l| day > l) {
                        last = Some(day);
                    }
                }
                MeetingStatus::Scheduled if date >= today && next.is_none_or(|n| date < n) => {
                    next = Some(date);
                }
                _ => {}
            }
        }
        (last, next)
    }

    /// Whether the young person's case came back to a meeting later than `after`.
    fn tabled_after(&self, youth: YouthId, after: NaiveDate) -> bool {
        self.tabled.get(&youth).is_some_and(|ids| {
            ids.iter().filter_map(|id| self.meetings.get(id)).any(|meeting| {
                meeting.date.is_some_and(|date| date > after) && meeting.status != MeetingStatus::Cancelled
            })
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
            let Some((meeting_id, held_by, held_in, day)) = scheduled(meeting) else {
                continue;
            };
            if municipality.is_some_and(|m| m != held_by) || forum.is_some_and(|f| f != held_in) {
                continue;
            }
            let booked_minutes = meeting.agenda_minutes();
            let summary = MeetingSummary {
                meeting_id,
                forum: held_in,
                date: day,
                status: meeting.status,
                cases: meeting.agenda.len(),
                booked_minutes,
                slot_minutes: meeting.slot_minutes,
                over_slot: booked_minutes > meeting.slot_minutes,
                decisions: meeting.decisions.len(),
            };
            if day >= today && meeting.status == MeetingStatus::Scheduled {
                upcoming.push(summary);
            } else if day < today {
                past.push(summary);
            }
            for decision in &meeting.decisions {
                let Some(date) = decision.follow_up else { continue };
                if date > due_until || self.tabled_after(decision.youth_id, day) {
                    continue;
                }
                follow_ups.push(FollowUp {
                    youth_id: decision.youth_id,
                    meeting_id,
                    forum: held_in,
                    decided_at: day,
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
    pub fn meeting(&self, id: MeetingId) -> Option<&Meeting> {
        self.meetings.get(&id)
    }
}
