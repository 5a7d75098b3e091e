//! The `Meeting` aggregate: a team meeting, K-meeting or youth coordination meeting.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::Aggregate;
use crate::error::{InvalidInput, Rejection};
use crate::event::*;
use crate::ids::{MeetingId, MunicipalityCode, StaffId, YouthId};
use crate::values::{DecisionAction, Forum};

/// Minutes per tabled case: 15, or 30 when complex or several professionals take part.
pub fn minutes_for(complex: bool) -> u32 {
    if complex {
        30
    } else {
        15
    }
}

/// What a meeting decides on one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The young person.
    pub youth_id: YouthId,
    /// Coordinator appointed.
    pub coordinator: Option<StaffId>,
    /// Coordinating caseworker appointed.
    pub coordinating_caseworker: Option<StaffId>,
    /// Lead of the coordinating team.
    pub lead: Option<StaffId>,
    /// Who does what.
    pub actions: Vec<DecisionAction>,
    /// Documentation still needed.
    pub documentation_needed: Vec<String>,
    /// Follow-up date.
    pub follow_up: Option<NaiveDate>,
    /// The coordinating team's first meeting.
    pub first_team_meeting: Option<NaiveDate>,
}

impl Decision {
    /// The event that records this decision at `meeting_id`.
    pub fn recorded(self, meeting_id: MeetingId) -> DecisionRecorded {
        DecisionRecorded {
            meeting_id,
            youth_id: self.youth_id,
            coordinator: self.coordinator,
            coordinating_caseworker: self.coordinating_caseworker,
            lead: self.lead,
            actions: self.actions,
            documentation_needed: self.documentation_needed,
            follow_up: self.follow_up,
            first_team_meeting: self.first_team_meeting,
        }
    }
}

/// What can be asked of a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingCommand {
    /// Schedule the meeting.
    Schedule {
        /// Id.
        meeting_id: MeetingId,
        /// Municipality.
        municipality: MunicipalityCode,
        /// Forum.
        forum: Forum,
        /// Day.
        date: NaiveDate,
        /// Minutes available.
        slot_minutes: u32,
        /// By.
        scheduled_by: StaffId,
    },
    /// Put a case on the agenda.
    TableCase {
        /// The young person.
        youth_id: YouthId,
        /// Presenter.
        presenter: StaffId,
        /// Complex or several professionals: 30 minutes instead of 15.
        complex: bool,
    },
    /// Record a decision.
    RecordDecision(Decision),
    /// Record that the meeting was held.
    Hold {
        /// Day.
        held_on: NaiveDate,
        /// Who took part.
        attendees: Vec<StaffId>,
    },
    /// Evaluate the meeting.
    Evaluate {
        /// 1-5.
        score: u8,
        /// Note.
        note: String,
    },
    /// Cancel the meeting.
    Cancel {
        /// Why.
        reason: String,
    },
}

/// Where the meeting stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Not scheduled.
    #[default]
    Unknown,
    /// Scheduled.
    Scheduled,
    /// Held.
    Held,
    /// Cancelled.
    Cancelled,
}

/// One case on a meeting's agenda, as tabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    /// The young person.
    pub youth_id: YouthId,
    /// Who presents the case.
    pub presenter: StaffId,
    /// Minutes set aside: 15, or 30 when complex.
    pub minutes: u32,
    /// Complex, or several professionals take part.
    pub complex: bool,
}

/// The meeting's evaluation of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// 1 to 5.
    pub score: u8,
    /// The note that came with it.
    pub note: String,
}

/// One meeting, folded from the `meeting-<id>` stream.
///
/// This is the one fold of a meeting's events: it holds what the rules decide on (status,
/// slot, agenda) and everything a meeting shows (who scheduled it, presenters, the
/// decisions as recorded, attendance, evaluation, why it was cancelled), so that the API's
/// meeting and the meetings read model are this state, not folds of their own.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Meeting {
    /// The meeting's id, once scheduled.
    pub id: Option<MeetingId>,
    /// Where it stands; `Unknown` until scheduled.
    pub status: MeetingStatus,
    /// The municipality holding it.
    pub municipality: Option<MunicipalityCode>,
    /// Which forum.
    pub forum: Option<Forum>,
    /// The planned day.
    pub date: Option<NaiveDate>,
    /// Minutes available for cases.
    pub slot_minutes: u32,
    /// Who scheduled it.
    pub scheduled_by: Option<StaffId>,
    /// The agenda, in tabling order.
    pub agenda: Vec<AgendaItem>,
    /// The decisions, in order, as recorded.
    pub decisions: Vec<DecisionRecorded>,
    /// The day it was held.
    pub held_on: Option<NaiveDate>,
    /// Who took part.
    pub attendees: Vec<StaffId>,
    /// Its evaluation of itself, once evaluated.
    pub evaluation: Option<Evaluation>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
}

impl Meeting {
    /// Minutes the agenda needs.
    pub fn agenda_minutes(&self) -> u32 {
        self.agenda.iter().map(|item| item.minutes).sum()
    }

    /// Whether the young person's case is on the agenda.
    pub fn is_tabled(&self, youth: YouthId) -> bool {
        self.agenda.iter().any(|item| item.youth_id == youth)
    }

    /// Whether a decision was recorded for the young person's case.
    pub fn is_decided(&self, youth: YouthId) -> bool {
        self.decisions.iter().any(|decision| decision.youth_id == youth)
    }
}

impl Aggregate for Meeting {
    type Command = MeetingCommand;

    fn decide(&self, command: MeetingCommand, _now: DateTime<Utc>) -> Result<Vec<Event>, Rejection> {
        if let MeetingCommand::Schedule {
            meeting_id,
            municipality,
            forum,
            date,
            slot_minutes,
            scheduled_by,
        } = command
        {
            if self.status != MeetingStatus::Unknown {
                return Err(Rejection::AlreadyExists {
                    what: format!("meeting {meeting_id}"),
                });
            }
            if !(15..=480).contains(&slot_minutes) {
                return Err(InvalidInput::new("slot_minutes", "a meeting slot is 15 to 480 minutes").into());
            }
            return Ok(vec![MeetingScheduled {
                meeting_id,
                municipality,
                forum,
                date,
                slot_minutes,
                scheduled_by,
            }
            .into()]);
        }
        let Some(meeting_id) = self.id else {
            return Err(Rejection::NotFound { what: "meeting".into() });
        };
        let open = || match self.status {
            MeetingStatus::Held => Err(Rejection::MeetingNotOpen { state: "held" }),
            MeetingStatus::Cancelled => Err(Rejection::MeetingNotOpen { state: "cancelled" }),
            _ => Ok(()),
        };
        let events: Vec<Event> = match command {
            MeetingCommand::Schedule { .. } => unreachable!("handled above"),
            MeetingCommand::TableCase {
                youth_id,
                presenter,
                complex,
            } => {
                open()?;
                if self.is_tabled(youth_id) {
                    return Err(Rejection::CaseAlreadyTabled);
                }
                let minutes = minutes_for(complex);
                let needed = self.agenda_minutes() + minutes;
                if needed > self.slot_minutes {
                    return Err(Rejection::AgendaFull {
                        needed,
                        slot: self.slot_minutes,
                    });
                }
                vec![CaseTabled {
                    meeting_id,
                    youth_id,
                    presenter,
                    minutes,
                    complex,
                }
                .into()]
            }
            MeetingCommand::RecordDecision(decision) => {
                if self.status == MeetingStatus::Cancelled {
                    return Err(Rejection::MeetingNotOpen { state: "cancelled" });
                }
                if !self.is_tabled(decision.youth_id) {
                    return Err(Rejection::CaseNotTabled);
                }
                if decision.actions.is_empty() {
                    return Err(Rejection::DecisionWithoutActions);
                }
                if decision.actions.iter().any(|a| a.what.trim().is_empty()) {
                    return Err(InvalidInput::new("actions", "every action must say what is to be done").into());
                }
                if let (Some(follow_up), Some(date)) = (decision.follow_up, self.date) {
                    if follow_up <= date {
                        return Err(InvalidInput::new("follow_up", "the follow-up must come after the meeting").into());
                    }
                }
                vec![decision.recorded(meeting_id).into()]
            }
            MeetingCommand::Hold { held_on, attendees } => {
                open()?;
                if attendees.is_empty() {
                    return Err(InvalidInput::new("attendees", "a held meeting has attendees").into());
                }
                vec![MeetingHeld {
                    meeting_id,
                    held_on,
                    attendees,
                }
                .into()]
            }
            MeetingCommand::Evaluate { score, note } => {
                if self.status != MeetingStatus::Held {
                    return Err(Rejection::MeetingNotOpen { state: "not held yet" });
                }
                if !(1..=5).contains(&score) {
                    return Err(InvalidInput::new("score", "from 1 to 5").into());
                }
                vec![MeetingEvaluated {
                    meeting_id,
                    score,
                    note,
                }
                .into()]
            }
            MeetingCommand::Cancel { reason } => {
                open()?;
                vec![MeetingCancelled { meeting_id, reason }.into()]
            }
        };
        Ok(events)
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::MeetingScheduled(e) => {
                self.id = Some(e.meeting_id);
                self.status = MeetingStatus::Scheduled;
                self.municipality = Some(e.municipality);
                self.forum = Some(e.forum);
                self.date = Some(e.date);
                self.slot_minutes = e.slot_minutes;
                self.scheduled_by = Some(e.scheduled_by);
            }
            Event::CaseTabled(e) => self.agenda.push(AgendaItem {
                youth_id: e.youth_id,
                presenter: e.presenter,
                minutes: e.minutes,
                complex: e.complex,
            }),
            Event::DecisionRecorded(e) => self.decisions.push(e.clone()),
            Event::MeetingHeld(e) => {
                self.status = MeetingStatus::Held;
                self.held_on = Some(e.held_on);
                self.attendees.clone_from(&e.attendees);
            }
            Event::MeetingEvaluated(e) => {
                self.evaluation = Some(Evaluation {
                    score: e.score,
                    note: e.note.clone(),
                })
            }
            Event::MeetingCancelled(e) => {
                self.status = MeetingStatus::Cancelled;
                self.cancel_reason = Some(e.reason.clone());
            }
            _ => {}
        }
    }
}
