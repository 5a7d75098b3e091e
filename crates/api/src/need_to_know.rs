//! Need to know: which parts of a young person's case a reader sees, and why they read.
//!
//! Every field of a case belongs to one sensitivity class. A reader sees a class when
//! one of these holds, checked in this order (the first that holds is the ground
//! recorded in the access log):
//!
//! 1. **role**: their role needs it (auditors and admins, every class);
//! 2. **relation**: they are the young person's coordinator or coordinating caseworker
//!    (every class);
//! 3. **department**: their department owns the class;
//! 4. **consent**: the young person's current consent covers their department
//!    (retssikkerhedsloven § 11 a; a withdrawn consent covers nothing from the next read);
//! 5. **emergency**: they read for the `EMERGENCY` purpose, with a reason ("break the
//!    glass"); logged as such and listed for auditors.
//!
//! Coordination facts are every in-scope reader's: coordinating across departments is
//! what the youth effort is for. A class not seen is withheld: its fields are null and the
//! case lists it under `withheld`, never silently empty.
//!
//! | class | fields | owning departments |
//! |---|---|---|
//! | `COORDINATION` | identity (name, CPR number, birth date, age), status, team, coordinator, coordinating caseworker, consent, referrals, first referral, 18th birthday, open alarms, the plan's kind, revision and its actions' department, responsible, due date and status | every department |
//! | `EDUCATION` | school status, destination, education indicators, plan goals, the descriptions of plan actions of UU, the job centre, the youth school and other units | uu, job_centre, youth_school |
//! | `SOCIAL` | need level, the family-services indicator, the referral's and the need assessment's notes, the descriptions of plan actions of children and family, adult disability, PPR, health and substance abuse | children_and_family, adult_disability, ppr, health, substance_abuse |
//!
//! Purposes: every read of a case names one (`purpose` argument, or the role's default).
//! A purpose the role may not use is `FORBIDDEN`, `EMERGENCY` without a reason
//! `INVALID_INPUT`; both are logged as refused reads.

use async_graphql::Enum;
use kui_domain::values::{Department, Indicator};
use kui_domain::Youth;
use kui_engine::Role;

use crate::auth::Principal;
use crate::error::ApiError;

/// A sensitivity class of case fields.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Who coordinates, team, next steps: every in-scope reader's.
    Coordination,
    /// Education and employment facts.
    Education,
    /// Social and health facts.
    Social,
}

impl Class {
    /// Every class.
    pub const ALL: [Class; 3] = [Class::Coordination, Class::Education, Class::Social];

    /// The name in the access log.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Coordination => "coordination",
            Class::Education => "education",
            Class::Social => "social",
        }
    }

    /// The departments that own the class (`None`: every department).
    pub fn owners(self) -> Option<&'static [Department]> {
        match self {
            Class::Coordination => None,
            Class::Education => Some(&[Department::Uu, Department::JobCentre, Department::YouthSchool]),
            Class::Social => Some(&[
                Department::ChildrenAndFamily,
                Department::AdultDisability,
                Department::Ppr,
                Department::Health,
                Department::SubstanceAbuse,
            ]),
        }
    }

    /// The class of a plan action's description, by the department delivering it.
    pub fn of_department(department: Department) -> Class {
        if Class::Social
            .owners()
            .is_some_and(|owners| owners.contains(&department))
        {
            Class::Social
        } else {
            Class::Education
        }
    }

    /// The class of an indicator.
    pub fn of_indicator(indicator: Indicator) -> Class {
        match indicator {
            Indicator::FamilyServicesCase => Class::Social,
            _ => Class::Education,
        }
    }
}

/// Why a case is read.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Work on the case itself.
    Casework,
    /// Preparing a meeting where the case is tabled.
    MeetingPreparation,
    /// Coordinating the effort across departments.
    Coordination,
    /// A lead's or the youth coordinator's oversight.
    Supervision,
    /// Checking the log and who read what.
    Audit,
    /// Answering the young person's request for their data (GDPR art. 15).
    SubjectAccess,
    /// Statistics (analysts; never casework).
    Statistics,
    /// Emergency access to every class ("break the glass"), with a reason.
    Emergency,
}

impl Purpose {
    /// The name in the access log.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Casework => "casework",
            Purpose::MeetingPreparation => "meeting_preparation",
            Purpose::Coordination => "coordination",
            Purpose::Supervision => "supervision",
            Purpose::Audit => "audit",
            Purpose::SubjectAccess => "subject_access",
            Purpose::Statistics => "statistics",
            Purpose::Emergency => "emergency",
        }
    }

    /// The purposes `role` may read for, its default first.
    pub fn allowed(role: Role) -> &'static [Purpose] {
        use Purpose::*;
        match role {
            Role::Caseworker => &[Casework, MeetingPreparation, Coordination, Emergency],
            Role::Coordinator => &[Coordination, Casework, MeetingPreparation, Emergency],
            Role::TeamLead => &[MeetingPreparation, Supervision, Coordination, Emergency],
            Role::YouthCoordinator => &[Supervision, Coordination, MeetingPreparation, SubjectAccess, Emergency],
            Role::Auditor => &[Audit, SubjectAccess],
            Role::Analyst => &[Statistics],
            Role::Admin => &[Supervision, Audit, SubjectAccess, Emergency],
            Role::System => &[Audit],
        }
    }
}

/// A purpose as the reader gave it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stated {
    /// The purpose.
    pub purpose: Purpose,
    /// The reason of an emergency read.
    pub reason: Option<String>,
}

/// Checks the purpose a reader gives (or takes their role's default).
pub fn purpose(principal: &Principal, given: Option<Purpose>, reason: Option<&str>) -> Result<Stated, ApiError> {
    let allowed: &[Purpose] = principal
        .purposes
        .as_deref()
        .unwrap_or_else(|| Purpose::allowed(principal.role));
    let purpose = match given {
        Some(purpose) => purpose,
        None => *allowed
            .first()
            .ok_or_else(|| ApiError::forbidden("this role reads no case"))?,
    };
    if !allowed.contains(&purpose) {
        return Err(ApiError::forbidden(format!(
            "this {} token may not read a case for {}; it may read for {}",
            principal.role,
            purpose.as_str(),
            allowed.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if purpose == Purpose::Emergency && reason.is_none() {
        return Err(ApiError::invalid(
            "reason",
            "an emergency read needs a reason (it is logged and listed for auditors)",
        ));
    }
    Ok(Stated { purpose, reason })
}

/// Why a reader sees a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ground {
    /// Their role needs it.
    Role,
    /// They coordinate this young person's case.
    Relation,
    /// Their department owns it.
    Department,
    /// The young person's consent covers their department.
    Consent,
    /// An emergency read.
    Emergency,
}

/// What one reader sees of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sight {
    /// Classes shown.
    pub shown: Vec<Class>,
    /// Classes withheld.
    pub withheld: Vec<Class>,
}

impl Sight {
    /// Whether `class` is shown.
    pub fn sees(&self, class: Class) -> bool {
        self.shown.contains(&class)
    }

    /// Everything (national roles reading pseudonymised data decide on their own).
    pub fn everything() -> Sight {
        Sight {
            shown: Class::ALL.to_vec(),
            withheld: Vec::new(),
        }
    }
}

/// Why `principal` may see `class` of `youth`'s case, if they may.
pub fn ground(principal: &Principal, stated: &Stated, youth: &Youth, class: Class) -> Option<Ground> {
    if matches!(principal.role, Role::Auditor | Role::Admin | Role::System) {
        return Some(Ground::Role);
    }
    if youth.coordinator() == Some(principal.staff) || youth.coordinating_caseworker == Some(principal.staff) {
        return Some(Ground::Relation);
    }
    match class.owners() {
        None => return Some(Ground::Department),
        Some(owners) if owners.contains(&principal.department) => return Some(Ground::Department),
        Some(_) => {}
    }
    if youth.consent && youth.consent_departments.contains(&principal.department) {
        return Some(Ground::Consent);
    }
    if stated.purpose == Purpose::Emergency {
        return Some(Ground::Emergency);
    }
    None
}

/// What `principal` sees of `youth`'s case, reading for `stated`.
pub fn sight(principal: &Principal, stated: &Stated, youth: &Youth) -> Sight {
    let mut shown = Vec::new();
    let mut withheld = Vec::new();
    for class in Class::ALL {
        match ground(principal, stated, youth, class) {
            Some(_) => shown.push(class),
            None => withheld.push(class),
        }
    }
    Sight { shown, withheld }
}

#[cfg(test)]
mod tests {
    use kui_domain::values::Department;
    use kui_domain::{StaffId, Youth};
    use kui_engine::Role;
    use uuid::Uuid;

    use super::*;

    fn reader(role: Role, department: Department, n: u128) -> Principal {
        Principal {
            staff: StaffId(Uuid::from_u128(n)),
            role,
            department,
            municipality: None,
            purposes: None,
        }
    }

    fn stated(purpose: Purpose) -> Stated {
        Stated {
            purpose,
            reason: (purpose == Purpose::Emergency).then(|| "risk of harm".into()),
        }
    }

    /// Role x department x consent x class, against the table in the module docs.
    #[test]
    fn the_policy_table_holds_for_every_role_department_consent_and_class() {
        let departments = [
            Department::Uu,
            Department::JobCentre,
            Department::ChildrenAndFamily,
            Department::AdultDisability,
            Department::Ppr,
            Department::Health,
            Department::SubstanceAbuse,
            Department::YouthSchool,
            Department::Other,
        ];
        let roles = [
            Role::Caseworker,
            Role::Coordinator,
            Role::TeamLead,
            Role::YouthCoordinator,
            Role::Auditor,
            Role::Admin,
        ];
        for role in roles {
            for department in departments {
                for consent in [None, Some(department), Some(Department::Other)] {
                    let mut youth = Youth::default();
                    if let Some(covered) = consent {
                        youth.consent = true;
                        youth.consent_departments = vec![covered];
                    }
                    let who = reader(role, department, 7);
                    let purpose = Purpose::allowed(role)[0];
                    let sight = sight(&who, &stated(purpose), &youth);
                    for class in Class::ALL {
                        let owns = class.owners().is_none_or(|owners| owners.contains(&department));
                        let covered = consent == Some(department);
                        let expected = matches!(role, Role::Auditor | Role::Admin) || owns || covered;
                        assert_eq!(
                            sight.sees(class),
                            expected,
                            "{role:?} in {department:?}, consent for {consent:?}, class {class:?}"
                        );
                        assert_ne!(sight.sees(class), sight.withheld.contains(&class));
                    }
                }
            }
        }
    }

    #[test]
    fn the_coordinator_and_an_emergency_read_see_everything() {
        let mut youth = Youth::default();
        let coordinator = reader(Role::Coordinator, Department::JobCentre, 9);
        youth.coordinator = kui_domain::youth::CoordinatorState::Assigned(coordinator.staff);
        assert_eq!(
            sight(&coordinator, &stated(Purpose::Coordination), &youth).withheld,
            vec![]
        );
        let stranger = reader(Role::Caseworker, Department::JobCentre, 10);
        assert_eq!(
            sight(&stranger, &stated(Purpose::Casework), &youth).withheld,
            vec![Class::Social]
        );
        assert_eq!(sight(&stranger, &stated(Purpose::Emergency), &youth).withheld, vec![]);
    }

    #[test]
    fn purposes_are_checked_against_the_role() {
        let caseworker = reader(Role::Caseworker, Department::Uu, 1);
        assert_eq!(purpose(&caseworker, None, None).unwrap().purpose, Purpose::Casework);
        assert!(matches!(
            purpose(&caseworker, Some(Purpose::Audit), None),
            Err(ApiError::Forbidden { .. })
        ));
        assert!(matches!(
            purpose(&caseworker, Some(Purpose::Emergency), Some("  ")),
            Err(ApiError::InvalidInput { .. })
        ));
        let analyst = reader(Role::Analyst, Department::Uu, 2);
        assert!(purpose(&analyst, Some(Purpose::Casework), None).is_err());
        // A token narrowed to meeting preparation reads for nothing else, by default for it.
        let narrowed = Principal {
            purposes: Some(vec![Purpose::MeetingPreparation]),
            ..reader(Role::Caseworker, Department::Uu, 3)
        };
        assert_eq!(
            purpose(&narrowed, None, None).unwrap().purpose,
            Purpose::MeetingPreparation
        );
        assert!(purpose(&narrowed, Some(Purpose::Casework), None).is_err());
    }
}
