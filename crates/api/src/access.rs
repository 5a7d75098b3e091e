//! Who may do what: the permission matrix, municipality scoping and pseudonyms.
//!
//! The matrix below is the one place that decides; docs/api.md repeats it for
//! integrators. `own` means: only young people, meetings, staff and settings of the
//! caller's own municipality (anything else does not exist for the caller: `NOT_FOUND`);
//! `all` means every municipality; `pseudo` means pseudonymised records only (no name,
//! no CPR number, no birth date, no free text, a keyed pseudonym instead of the id, staff
//! by pseudonym, dates by the month: `privacy` decides what exactly).
//!
//! | operation            | caseworker | coordinator | team_lead | youth_coordinator | auditor | analyst | admin |
//! |----------------------|------------|-------------|-----------|-------------------|---------|---------|-------|
//! | read case (`youth`)  | own        | own         | own       | own               | all     | pseudo  | all   |
//! | read history         | own        | own         | own       | own               | all     | -       | all   |
//! | read meeting         | own        | own         | own       | own               | all     | -       | all   |
//! | read staff           | own        | own         | own       | own               | all     | -       | all   |
//! | read access log      | -          | -           | -         | -                 | all     | -       | all   |
//! | verify log           | -          | -           | -         | -                 | all     | -       | all   |
//! | follow events        | -          | -           | -         | -                 | all     | -       | all   |
//! | write case           | own        | own         | own       | own               | -       | -       | all   |
//! | write meeting        | own        | own         | own       | own               | -       | -       | all   |
//! | write staff          | -          | -           | own       | own               | -       | -       | all   |
//! | configure municipality | -        | -           | -         | own               | -       | -       | all   |

use kui_domain::MunicipalityCode;
use kui_engine::Role;

use crate::auth::Principal;
use crate::error::ApiError;

/// A class of operations the matrix decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Read one young person's case (`youth`).
    ReadCase,
    /// Replay one young person's full history (`history`).
    ReadHistory,
    /// Read a meeting with its agenda and decisions (`meeting`).
    ReadMeeting,
    /// Read a staff member's record (`staff`).
    ReadStaff,
    /// Read who read a case (`accessLog`).
    ReadAccessLog,
    /// Check the hash chain and the invariants (`verifyLog`).
    VerifyLog,
    /// Follow the event log (`events` subscription).
    FollowEvents,
    /// Commands on a young person's case.
    WriteCase,
    /// Commands on a meeting.
    WriteMeeting,
    /// Commands on a staff member's record.
    WriteStaff,
    /// Configure a municipality.
    ConfigureMunicipality,
    /// Place or lift a legal hold on a case.
    HoldCase,
    /// Erase a young person's personal data.
    ErasePersonalData,
    /// Read the proof of an erasure (`erasureReport`).
    ReadErasure,
    /// Answer a young person's request for their data (`subjectAccessReport`).
    SubjectAccess,
}

impl Operation {
    /// Every operation, in the matrix's order.
    pub const ALL: &'static [Operation] = &[
        Operation::ReadCase,
        Operation::ReadHistory,
        Operation::ReadMeeting,
        Operation::ReadStaff,
        Operation::ReadAccessLog,
        Operation::VerifyLog,
        Operation::FollowEvents,
        Operation::WriteCase,
        Operation::WriteMeeting,
        Operation::WriteStaff,
        Operation::ConfigureMunicipality,
        Operation::HoldCase,
        Operation::ErasePersonalData,
        Operation::ReadErasure,
        Operation::SubjectAccess,
    ];

    /// The name used in error messages and the access log.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ReadCase => "read case",
            Operation::ReadHistory => "read history",
            Operation::ReadMeeting => "read meeting",
            Operation::ReadStaff => "read staff",
            Operation::ReadAccessLog => "read access log",
            Operation::VerifyLog => "verify log",
            Operation::FollowEvents => "follow events",
            Operation::WriteCase => "write case",
            Operation::WriteMeeting => "write meeting",
            Operation::WriteStaff => "write staff",
            Operation::ConfigureMunicipality => "configure municipality",
            Operation::HoldCase => "hold case",
            Operation::ErasePersonalData => "erase personal data",
            Operation::ReadErasure => "read erasure",
            Operation::SubjectAccess => "answer subject access",
        }
    }
}

/// What the matrix grants one role for one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Not allowed.
    Deny,
    /// Allowed within the caller's own municipality.
    Own,
    /// Allowed everywhere.
    All,
    /// Allowed, pseudonymised, everywhere.
    Pseudo,
}

use Grant::{All, Deny, Own, Pseudo};

/// The roles a token may carry, in the matrix's column order.
pub const ROLES: [Role; 7] = [
    Role::Caseworker,
    Role::Coordinator,
    Role::TeamLead,
    Role::YouthCoordinator,
    Role::Auditor,
    Role::Analyst,
    Role::Admin,
];

/// The permission matrix: one row per operation, one column per role of [`ROLES`].
const MATRIX: &[(Operation, [Grant; 7])] = &[
    (Operation::ReadCase, [Own, Own, Own, Own, All, Pseudo, All]),
    (Operation::ReadHistory, [Own, Own, Own, Own, All, Deny, All]),
    (Operation::ReadMeeting, [Own, Own, Own, Own, All, Deny, All]),
    (Operation::ReadStaff, [Own, Own, Own, Own, All, Deny, All]),
    (Operation::ReadAccessLog, [Deny, Deny, Deny, Deny, All, Deny, All]),
    (Operation::VerifyLog, [Deny, Deny, Deny, Deny, All, Deny, All]),
    (Operation::FollowEvents, [Deny, Deny, Deny, Deny, All, Deny, All]),
    (Operation::WriteCase, [Own, Own, Own, Own, Deny, Deny, All]),
    (Operation::WriteMeeting, [Own, Own, Own, Own, Deny, Deny, All]),
    (Operation::WriteStaff, [Deny, Deny, Own, Own, Deny, Deny, All]),
    (
        Operation::ConfigureMunicipality,
        [Deny, Deny, Deny, Own, Deny, Deny, All],
    ),
    (Operation::HoldCase, [Deny, Deny, Deny, Own, Deny, Deny, All]),
    (Operation::ErasePersonalData, [Deny, Deny, Deny, Deny, Deny, Deny, All]),
    (Operation::ReadErasure, [Deny, Deny, Deny, Deny, All, Deny, All]),
    (Operation::SubjectAccess, [Deny, Deny, Deny, Own, All, Deny, All]),
];

/// What the matrix grants `role` for `operation`.
pub fn grant(role: Role, operation: Operation) -> Grant {
    let Some(column) = ROLES.iter().position(|r| *r == role) else {
        return Deny;
    };
    MATRIX
        .iter()
        .find(|(op, _)| *op == operation)
        .map_or(Deny, |(_, grants)| grants[column])
}

/// Roles bound to one municipality: their tokens must name it.
pub fn is_municipal(role: Role) -> bool {
    Operation::ALL.iter().any(|op| grant(role, *op) == Own)
}

/// What a caller may see or touch after the matrix allowed the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only this municipality.
    Municipality(MunicipalityCode),
    /// Everything.
    Everywhere,
    /// Everything, pseudonymised.
    Pseudonymised,
}

impl Scope {
    /// Whether a record of `municipality` is visible in this scope (`None`: the record
    /// names no municipality, visible only to unscoped callers).
    pub fn covers(self, municipality: Option<MunicipalityCode>) -> bool {
        match self {
            Scope::Municipality(own) => municipality == Some(own),
            Scope::Everywhere | Scope::Pseudonymised => true,
        }
    }

    /// Fails with `NOT_FOUND` naming `what` when the record lies outside this scope, so
    /// a caller never learns whether another municipality's record exists.
    pub fn require(
        self,
        municipality: Option<MunicipalityCode>,
        what: impl FnOnce() -> String,
    ) -> Result<(), ApiError> {
        if self.covers(municipality) {
            Ok(())
        } else {
            Err(ApiError::not_found(what()))
        }
    }
}

/// Checks the matrix for the caller and returns the scope they act in.
pub fn authorize(principal: &Principal, operation: Operation) -> Result<Scope, ApiError> {
    match grant(principal.role, operation) {
        Deny => Err(ApiError::forbidden(format!(
            "the {} role may not {}",
            principal.role,
            operation.as_str()
        ))),
        All => Ok(Scope::Everywhere),
        Pseudo => Ok(Scope::Pseudonymised),
        Own => principal
            .municipality
            .map(Scope::Municipality)
            .ok_or_else(|| ApiError::forbidden(format!("a {} token must name its municipality", principal.role))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_row() {
        for op in Operation::ALL {
            assert!(MATRIX.iter().any(|(row, _)| row == op), "{op:?}");
        }
        assert_eq!(MATRIX.len(), Operation::ALL.len());
    }

    #[test]
    fn auditors_write_nothing_and_analysts_see_only_pseudonyms() {
        for op in [
            Operation::WriteCase,
            Operation::WriteMeeting,
            Operation::WriteStaff,
            Operation::ConfigureMunicipality,
        ] {
            assert_eq!(grant(Role::Auditor, op), Deny);
            assert_eq!(grant(Role::Analyst, op), Deny);
        }
        assert_eq!(grant(Role::Analyst, Operation::ReadCase), Pseudo);
        assert_eq!(grant(Role::Analyst, Operation::ReadHistory), Deny);
        assert_eq!(grant(Role::System, Operation::ReadCase), Deny);
    }

    #[test]
    fn municipal_roles_are_the_scoped_ones() {
        assert!(is_municipal(Role::Caseworker));
        assert!(is_municipal(Role::YouthCoordinator));
        assert!(!is_municipal(Role::Auditor));
        assert!(!is_municipal(Role::Admin));
        assert!(!is_municipal(Role::Analyst));
    }
}
