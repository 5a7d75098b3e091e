//! Caseload: per coordinator, active young people against capacity; per department; and
//! the C-need young people nobody coordinates.

use std::collections::BTreeMap;

use kui_domain::values::{Department, NeedLevel, ReleaseReason};
use kui_domain::{Event, MunicipalityCode, StaffId, YouthId};
use serde::{Deserialize, Serialize};

use crate::fact::{Fact, Stamp};
use crate::models::{Directory, FastMap, Projector};

/// Where a young person stands in the (voluntary) coordinator scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Nothing offered or decided.
    None,
    /// Offered, no answer yet.
    Offered,
    /// A coordinator is assigned.
    Assigned,
    /// The young person or a guardian declined.
    Declined,
    /// A team judged a coordinator not relevant.
    NotRelevant,
    /// The coordinator course was completed.
    Completed,
    /// The coordinator stopped for another reason (handed over, withdrawn, case closed).
    Released,
}

impl Scheme {
    /// The scheme state a fact leads to, if it changes it.
    pub fn after(event: &Event) -> Option<Scheme> {
        Some(match event {
            Event::YouthReferred(_) => Scheme::None,
            Event::CoordinatorOffered(_) => Scheme::Offered,
            Event::CoordinatorAssigned(_) => Scheme::Assigned,
            Event::CoordinatorDeclined(_) => Scheme::Declined,
            Event::CoordinatorJudgedNotRelevant(_) => Scheme::NotRelevant,
            Event::CoordinatorReleased(e) if e.reason == ReleaseReason::Completed => Scheme::Completed,
            Event::CoordinatorReleased(_) => Scheme::Released,
            _ => return None,
        })
    }
}

/// One young person as the caseload sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRow {
    /// Municipality.
    pub municipality: MunicipalityCode,
    /// Whether the case is open.
    pub open: bool,
    /// Need level.
    pub need: Option<NeedLevel>,
    /// Coordinator scheme state.
    pub scheme: Scheme,
    /// The coordinator and their department, while assigned.
    pub coordinator: Option<(StaffId, Department)>,
    /// The coordinating caseworker and their department.
    pub caseworker: Option<(StaffId, Department)>,
}

/// Cases by young person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Caseload {
    /// By young person.
    pub cases: FastMap<YouthId, CaseRow>,
}

impl Projector for Caseload {
    const NAME: &'static str = "caseload";
    const VERSION: u32 = 2;

    fn apply(&mut self, _stamp: Stamp, fact: &Fact) {
        let Fact::Event(event) = fact else { return };
        if let Event::YouthReferred(e) = event {
            let row = self.cases.entry(e.youth_id).or_insert_with(|| CaseRow {
                municipality: e.municipality,
                open: true,
                need: None,
                scheme: Scheme::None,
                coordinator: None,
                caseworker: None,
            });
            row.municipality = e.municipality;
            row.open = true;
            row.scheme = Scheme::None;
            row.coordinator = None;
            return;
        }
        let scheme = Scheme::after(event);
        let relevant = scheme.is_some()
            || matches!(
                event,
                Event::NeedAssessed(_) | Event::CoordinatingCaseworkerAssigned(_) | Event::CaseClosed(_)
            );
        if !relevant {
            return;
        }
        let Some(row) = event.youth_id().and_then(|id| self.cases.get_mut(&id)) else {
            return;
        };
        if let Some(scheme) = scheme {
            row.scheme = scheme;
        }
        match event {
            Event::NeedAssessed(e) => row.need = Some(e.level),
            Event::CoordinatorAssigned(e) => row.coordinator = Some((e.coordinator, e.department)),
            Event::CoordinatorReleased(_) => row.coordinator = None,
            Event::CoordinatingCaseworkerAssigned(e) => row.caseworker = Some((e.caseworker, e.department)),
            Event::CaseClosed(_) => {
                row.open = false;
                row.coordinator = None;
            }
            _ => {}
        }
    }
}

/// One coordinator's load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoordinatorLoad {
    /// The coordinator.
    pub staff_id: StaffId,
    /// Name.
    pub name: String,
    /// Department.
    pub department: Option<Department>,
    /// Open cases they coordinate.
    pub active: usize,
    /// How many they can take.
    pub capacity: u16,
    /// More active cases than capacity.
    pub over_capacity: bool,
}

impl CoordinatorLoad {
    /// The load of `staff_id` with `active` open cases, named and sized by the directory.
    fn of(directory: &Directory, staff_id: StaffId, active: usize) -> CoordinatorLoad {
        let capacity = directory.capacity_of(staff_id);
        CoordinatorLoad {
            staff_id,
            name: directory.staff_name(staff_id),
            department: directory.department_of(staff_id),
            active,
            capacity,
            over_capacity: active > usize::from(capacity),
        }
    }
}

/// One department's load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepartmentLoad {
    /// The department.
    pub department: Department,
    /// Coordinators from it with at least one case.
    pub coordinators: usize,
    /// Open cases coordinated from it.
    pub coordinated: usize,
    /// Open cases with a coordinating caseworker from it.
    pub caseworker_cases: usize,
}

/// A C-need young person without a coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unassigned {
    /// The young person.
    pub youth_id: YouthId,
    /// Why there is no coordinator: nothing decided yet, offered, declined, judged not
    /// relevant, completed or released.
    pub scheme: Scheme,
}

/// The caseload report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseloadReport {
    /// The municipality reported on (all when none).
    pub municipality: Option<MunicipalityCode>,
    /// Per coordinator, most loaded first.
    pub coordinators: Vec<CoordinatorLoad>,
    /// Per department.
    pub departments: Vec<DepartmentLoad>,
    /// C-need young people with an open case and no coordinator, by name.
    pub unassigned_c_need: Vec<Unassigned>,
}

impl Caseload {
    /// The caseload now.
    pub fn report(&self, directory: &Directory, municipality: Option<MunicipalityCode>) -> CaseloadReport {
        let mut per_staff: BTreeMap<StaffId, usize> = BTreeMap::new();
        let mut departments: BTreeMap<Department, DepartmentLoad> = BTreeMap::new();
        let mut unassigned = Vec::new();
        let department = |departments: &mut BTreeMap<Department, DepartmentLoad>, d: Department| {
            departments.entry(d).or_insert(DepartmentLoad {
                department: d,
                coordinators: 0,
                coordinated: 0,
                caseworker_cases: 0,
            });
        };
        // A coordinator who left coordinates nobody: their cases count as unassigned.
        let present = |staff: StaffId| directory.staff.get(&staff).is_none_or(|row| row.departed_on.is_none());
        for (&youth_id, row) in &self.cases {
            if !row.open || municipality.is_some_and(|m| m != row.municipality) {
                continue;
            }
            match row.coordinator.filter(|(staff, _)| present(*staff)) {
                Some((staff, dept)) => {
                    *per_staff.entry(staff).or_default() += 1;
                    department(&mut departments, dept);
                    if let Some(load) = departments.get_mut(&dept) {
                        load.coordinated += 1;
                    }
                }
                None if row.need == Some(NeedLevel::C) => unassigned.push(Unassigned {
                    youth_id,
                    scheme: row.scheme,
                }),
                None => {}
            }
            if let Some((_, dept)) = row.caseworker {
                department(&mut departments, dept);
                if let Some(load) = departments.get_mut(&dept) {
                    load.caseworker_cases += 1;
                }
            }
        }
        let mut coordinators: Vec<CoordinatorLoad> = per_staff
            .into_iter()
            .map(|(staff_id, active)| CoordinatorLoad::of(directory, staff_id, active))
            .collect();
        for load in &coordinators {
            if let Some(dept) = load.department {
                department(&mut departments, dept);
                if let Some(entry) = departments.get_mut(&dept) {
                    entry.coordinators += 1;
                }
            }
        }
        coordinators.sort_by(|a, b| b.active.cmp(&a.active).then(a.staff_id.cmp(&b.staff_id)));
        unassigned.sort_by_key(|row| row.youth_id);
        CaseloadReport {
            municipality,
            coordinators,
            departments: departments.into_values().collect(),
            unassigned_c_need: unassigned,
        }
    }

    /// One coordinator's caseload now: the open cases they coordinate against their
    /// capacity (`active` is 0 when they coordinate nobody). None when `staff` is not in
    /// the directory.
    pub fn coordinator_load(&self, directory: &Directory, staff: StaffId) -> Option<CoordinatorLoad> {
        directory.staff.get(&staff)?;
        let active = self
            .cases
            .values()
            .filter(|row| row.open && row.coordinator.is_some_and(|(coordinator, _)| coordinator == staff))
            .count();
        Some(CoordinatorLoad::of(directory, staff, active))
    }
}
