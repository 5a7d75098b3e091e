//! Who acts: staff members in a role, or the engine itself.

use std::fmt;
use std::str::FromStr;

use kui_domain::values::Department;
use kui_domain::{InvalidInput, StaffId};
use serde::{Deserialize, Serialize};

/// The roles kui knows. What each may do is decided by the API; the engine records the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A caseworker in one of the departments.
    Caseworker,
    /// A coordinator (contact person).
    Coordinator,
    /// A team lead.
    TeamLead,
    /// The municipal youth coordinator.
    YouthCoordinator,
    /// An auditor: reads everything, writes nothing.
    Auditor,
    /// An analyst: aggregates and pseudonymised records only.
    Analyst,
    /// An administrator.
    Admin,
    /// The engine itself (age milestones) or an import.
    System,
}

impl Role {
    /// Every role.
    pub const ALL: &'static [Role] = &[
        Role::Caseworker,
        Role::Coordinator,
        Role::TeamLead,
        Role::YouthCoordinator,
        Role::Auditor,
        Role::Analyst,
        Role::Admin,
        Role::System,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::Coordinator => "coordinator",
            Role::TeamLead => "team_lead",
            Role::YouthCoordinator => "youth_coordinator",
            Role::Auditor => "auditor",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a stored name exactly: no trimming, no case folding. A role decides what a
/// caller may do, so `" admin "` or `"Admin"` in a token is refused rather than guessed.
impl FromStr for Role {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| InvalidInput::new("role", format!("{s:?} is not a role")))
    }
}

/// The one who issued a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The staff member; `None` for the engine itself.
    pub staff: Option<StaffId>,
    /// Their role.
    pub role: Role,
    /// Their department.
    pub department: Option<Department>,
}

impl Actor {
    /// The engine acting on its own (birthdays, age band).
    pub fn system() -> Self {
        Self {
            staff: None,
            role: Role::System,
            department: None,
        }
    }

    /// A staff member in a role.
    pub fn staff(staff: StaffId, role: Role, department: Department) -> Self {
        Self {
            staff: Some(staff),
            role,
            department: Some(department),
        }
    }

    pub(crate) fn to_log(&self) -> kui_log::Actor {
        kui_log::Actor {
            staff_id: self.staff.map(|s| s.to_string()),
            role: self.role.as_str().to_owned(),
            department: self.department.map(|d| d.as_str().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_exact_stored_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(*role));
        }
        for near_miss in [" admin ", "Admin", "admin\n", "ADMIN", "team-lead", ""] {
            assert!(near_miss.parse::<Role>().is_err(), "{near_miss:?}");
        }
    }
}
