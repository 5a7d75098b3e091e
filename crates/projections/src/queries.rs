//! Questions that join several read models: the list of young people with filters.

use chrono::NaiveDate;
use kui_domain::values::{age_on, Department, NeedLevel, Team};
use kui_domain::{MunicipalityCode, StaffId, YouthId};
use serde::Serialize;

use crate::models::caseload::Scheme;
use crate::models::ReadModels;

/// Which young people to list; every field left `None` matches everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YouthFilter {
    /// Only this municipality.
    pub municipality: Option<MunicipalityCode>,
    /// Only open (true) or closed (false) cases.
    pub open: Option<bool>,
    /// Only members of this team.
    pub team: Option<Team>,
    /// Only this need level.
    pub need: Option<NeedLevel>,
    /// Only young people this staff member coordinates.
    pub coordinator: Option<StaffId>,
    /// Only young people coordinated from this department (coordinator or coordinating
    /// caseworker).
    pub department: Option<Department>,
    /// Only this age or older on the report date.
    pub min_age: Option<u32>,
    /// Only this age or younger on the report date.
    pub max_age: Option<u32>,
    /// Only with (true) or without (false) an open alarm on the report date.
    pub has_alarm: Option<bool>,
}

/// One young person in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YouthRow {
    /// The young person.
    pub youth_id: YouthId,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Age on the report date.
    pub age: u32,
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// Whether the case is open.
    pub open: bool,
    /// Team.
    pub team: Option<Team>,
    /// Need level.
    pub need: Option<NeedLevel>,
    /// Coordinator scheme state.
    pub scheme: Scheme,
    /// The coordinator and their department.
    pub coordinator: Option<(StaffId, Department)>,
    /// The coordinating caseworker and their department.
    pub caseworker: Option<(StaffId, Department)>,
    /// Open alarms on the report date.
    pub open_alarms: usize,
}

impl ReadModels {
    /// The young people matching `filter` on `today`, by name then id.
    pub fn young_people(&self, filter: &YouthFilter, today: NaiveDate) -> Vec<YouthRow> {
        let mut rows = Vec::new();
        for (&youth_id, member) in &self.teams.members {
            let Some(case) = self.caseload.cases.get(&youth_id) else {
                continue;
            };
            let age = age_on(member.birth_date, today);
            let matches = filter.municipality.is_none_or(|m| m == member.municipality)
                && filter.open.is_none_or(|open| open == member.open)
                && filter.team.is_none_or(|team| member.team == Some(team))
                && filter.need.is_none_or(|need| case.need == Some(need))
                && filter
                    .coordinator
                    .is_none_or(|staff| case.coordinator.is_some_and(|(s, _)| s == staff))
                && filter.department.is_none_or(|department| {
                    case.coordinator.is_some_and(|(_, d)| d == department)
                        || case.caseworker.is_some_and(|(_, d)| d == department)
                })
                && filter.min_age.is_none_or(|min| age >= min)
                && filter.max_age.is_none_or(|max| age <= max);
            if !matches {
                continue;
            }
            let open_alarms = self.alarms.alarms_of(youth_id, today).len();
            if filter.has_alarm.is_some_and(|wanted| wanted != (open_alarms > 0)) {
                continue;
            }
            rows.push(YouthRow {
                youth_id,
                birth_date: member.birth_date,
                age,
                municipality: member.municipality,
                open: member.open,
                team: member.team,
                need: case.need,
                scheme: case.scheme,
                coordinator: case.coordinator,
                caseworker: case.caseworker,
                open_alarms,
            });
        }
        rows.sort_by_key(|row| row.youth_id);
        rows
    }
}
