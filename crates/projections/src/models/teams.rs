//! Team membership: who is in team 1, 2 or 3, why, since when, and who moves soon.

use chrono::{Days, NaiveDate};
use kui_domain::values::{age_on, birthday_at, Forum, SchoolStatus, Team, TeamReason};
use kui_domain::{Event, MunicipalityCode, YouthId};
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Stamp};
use crate::models::{Directory, FastMap, Meetings, Projector};

/// One young person as the teams see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Whether the case is open.
    pub open: bool,
    /// Current team.
    pub team: Option<Team>,
    /// Why that team.
    pub reason: Option<TeamReason>,
    /// Since when (business date).
    pub since: Option<NaiveDate>,
    /// Education status.
    pub school_status: SchoolStatus,
}

/// Team membership of every referred young person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Teams {
    /// By young person.
    pub members: FastMap<YouthId, Member>,
}

impl Projector for Teams {
    const NAME: &'static str = "teams";
    const VERSION: u32 = 2;

    fn apply(&mut self, stamp: Stamp, fact: &Fact) {
        match fact {
            Fact::SchoolChange(change) => {
                if let Some(member) = self.members.get_mut(&change.youth_id) {
                    member.school_status = change.status;
                }
            }
            Fact::Event(Event::YouthReferred(e)) => {
                self.members.insert(
                    e.youth_id,
                    Member {
                        municipality: e.municipality,
                        birth_date: e.birth_date,
                        open: true,
                        team: None,
                        reason: None,
                        since: None,
                        school_status: e.school_status,
                    },
                );
            }
            Fact::Event(Event::TeamAssigned(e)) => {
                if let Some(member) = self.members.get_mut(&e.youth_id) {
                    member.team = Some(e.team);
                    member.reason = Some(e.reason);
                    member.since = Some(stamp.on);
                }
            }
            Fact::Event(Event::TeamHandedOver(e)) => {
                if let Some(member) = self.members.get_mut(&e.youth_id) {
                    member.team = Some(e.to);
                    // A hand-over to team 3 follows the 18th birthday; any other is a decision.
                    member.reason = Some(if e.to == Team::Team3 {
                        TeamReason::Age
                    } else {
                        TeamReason::Explicit
                    });
                    member.since = Some(stamp.on);
                }
            }
            Fact::Event(Event::CaseClosed(e)) => {
                if let Some(member) = self.members.get_mut(&e.youth_id) {
                    member.open = false;
                }
            }
            _ => {}
        }
    }
}

/// One member in a team listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// The young person.
    pub youth_id: YouthId,
    /// Age on the report date.
    pub age: u32,
    /// Why this team: age, school status or an explicit decision.
    pub reason: Option<TeamReason>,
    /// Member since.
    pub since: Option<NaiveDate>,
    /// Education status.
    pub school_status: SchoolStatus,
}

/// One team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamView {
    /// The team.
    pub team: Team,
    /// How many members.
    pub count: usize,
    /// Days between meetings (the municipality's cadence).
    pub cadence_days: u16,
    /// The last meeting held, if any.
    pub last_meeting: Option<NaiveDate>,
    /// The next scheduled meeting on or after the report date, if any.
    pub next_meeting: Option<NaiveDate>,
    /// The members, by name.
    pub members: Vec<MemberView>,
}

/// A young person about to change team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    /// The young person.
    pub youth_id: YouthId,
    /// Current team.
    pub from: Team,
    /// Next team.
    pub to: Team,
    /// The day of the move (the 18th birthday).
    pub on: NaiveDate,
}

/// The teams report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamsReport {
    /// The report date.
    pub as_of: NaiveDate,
    /// The municipality reported on (all when none).
    pub municipality: Option<MunicipalityCode>,
    /// Teams 1, 2 and 3.
    pub teams: Vec<TeamView>,
    /// Who moves within the window, by date.
    pub moving: Vec<Move>,
    /// The window for `moving`, in days.
    pub within_days: u32,
}

fn forum_of(team: Team) -> Forum {
    match team {
        Team::Team1 => Forum::Team1,
        Team::Team2 => Forum::Team2,
        Team::Team3 => Forum::Team3,
    }
}

impl Teams {
    /// Members of open cases now, per team, and who moves within `within_days`
    /// (team 2 to team 3 on the 18th birthday).
    pub fn report(
        &self,
        directory: &Directory,
        meetings: &Meetings,
        municipality: Option<MunicipalityCode>,
        today: NaiveDate,
        within_days: u32,
    ) -> TeamsReport {
        let horizon = today
            .checked_add_days(Days::new(u64::from(within_days)))
            .unwrap_or(today);
        let mut teams: Vec<TeamView> = Team::ALL
            .iter()
            .map(|&team| {
                let cadence = municipality.map_or(kui_domain::event::TeamCadence::USUAL, |m| directory.cadence(m));
                let (last_meeting, next_meeting) = meetings.last_and_next(forum_of(team), municipality, today);
                TeamView {
                    team,
                    count: 0,
                    cadence_days: match team {
                        Team::Team1 => cadence.team_1_days,
                        Team::Team2 => cadence.team_2_days,
                        Team::Team3 => cadence.team_3_days,
                    },
                    last_meeting,
                    next_meeting,
                    members: Vec::new(),
                }
            })
            .collect();
        let mut moving = Vec::new();
        for (&youth_id, member) in &self.members {
            let Some(team) = member.team else { continue };
            if !member.open || municipality.is_some_and(|m| m != member.municipality) {
                continue;
            }
            if let Some(view) = teams.iter_mut().find(|view| view.team == team) {
                view.members.push(MemberView {
                    youth_id,
                    age: age_on(member.birth_date, today),
                    reason: member.reason,
                    since: member.since,
                    school_status: member.school_status,
                });
            }
            let eighteen = birthday_at(member.birth_date, 18);
            if team == Team::Team2 && eighteen > today && eighteen <= horizon {
                moving.push(Move {
                    youth_id,
                    from: Team::Team2,
                    to: Team::Team3,
                    on: eighteen,
                });
            }
        }
        for view in &mut teams {
            view.members.sort_by_key(|row| row.youth_id);
            view.count = view.members.len();
        }
        moving.sort_by(|a, b| a.on.cmp(&b.on).then(a.youth_id.cmp(&b.youth_id)));
        TeamsReport {
            as_of: today,
            municipality,
            teams,
            moving,
            within_days,
        }
    }
}
