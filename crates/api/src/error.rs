//! The API's one error type and its stable codes.
//!
//! Every error a client sees carries `extensions.code`, one of the `CODE_*` constants.
//! Business rejections, conflicts and bad input are safe to show and carry details;
//! everything else is `INTERNAL`: it is logged once, with an incident id, and the client
//! gets only that id.

use async_graphql::ErrorExtensions;
use kui_domain::{InvalidInput, Rejection};
use kui_engine::EngineError;
use kui_log::LogError;
use thiserror::Error;
use uuid::Uuid;

/// `extensions.code` of a version conflict.
pub const CODE_VERSION_CONFLICT: &str = "VERSION_CONFLICT";
/// `extensions.code` of a missing (or invisible to the caller) young person, meeting, staff member or municipality.
pub const CODE_NOT_FOUND: &str = "NOT_FOUND";
/// `extensions.code` of input that did not pass validation (including malformed and over-limit queries).
pub const CODE_INVALID_INPUT: &str = "INVALID_INPUT";
/// `extensions.code` of a command refused by a business rule.
pub const CODE_REJECTED: &str = "REJECTED";
/// `extensions.code` of a missing, malformed, wrongly signed or expired token.
pub const CODE_UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// `extensions.code` of an operation the caller's role does not allow.
pub const CODE_FORBIDDEN: &str = "FORBIDDEN";
/// `extensions.code` of a command that lost to concurrent writers several times.
pub const CODE_CONTENTION: &str = "CONTENTION";
/// `extensions.code` of everything else; details are in the server's log only.
pub const CODE_INTERNAL: &str = "INTERNAL";
/// `extensions.code` of a query whose fragments expand to more fields than allowed.
pub const CODE_QUERY_TOO_LARGE: &str = "QUERY_TOO_LARGE";
/// `extensions.code` of an operation nested deeper than allowed.
pub const CODE_QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
/// `extensions.code` of an operation with more root fields than allowed.
pub const CODE_TOO_MANY_ROOT_FIELDS: &str = "TOO_MANY_ROOT_FIELDS";
/// `extensions.code` of an operation with more aliases than allowed.
pub const CODE_TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";
/// `extensions.code` of a request that did not finish within its deadline.
pub const CODE_DEADLINE_EXCEEDED: &str = "DEADLINE_EXCEEDED";
/// `extensions.code` of a request refused because too many like it are running.
pub const CODE_BUSY: &str = "BUSY";
/// `extensions.code` of an operation that costs more than allowed (weighted cost, case
/// reads or verifications per request).
pub const CODE_QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";

/// Which limit on the shape of a query a request exceeded (`docs/api.md` lists the values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLimit {
    /// Fields in the whole document once every fragment spread is expanded.
    ExpandedFields,
    /// Nesting of fields in the operation, introspection not counted.
    Depth,
    /// Fields at the root of the operation, once fragments are expanded.
    RootFields,
    /// Aliased fields in the operation, once fragments are expanded.
    Aliases,
    /// Root fields that read and record one case (`youth`, `history`, `meeting`).
    CaseReads,
    /// `verifyLog` fields.
    Verifications,
    /// The operation's weighted cost.
    Cost,
}

impl QueryLimit {
    /// The stable `extensions.code`.
    pub fn code(self) -> &'static str {
        match self {
            QueryLimit::ExpandedFields => CODE_QUERY_TOO_LARGE,
            QueryLimit::Depth => CODE_QUERY_TOO_DEEP,
            QueryLimit::RootFields => CODE_TOO_MANY_ROOT_FIELDS,
            QueryLimit::Aliases => CODE_TOO_MANY_ALIASES,
            QueryLimit::CaseReads | QueryLimit::Verifications | QueryLimit::Cost => CODE_QUERY_TOO_COMPLEX,
        }
    }

    /// A stable name for programs (`extensions.what`): codes can be shared by limits.
    pub fn name(self) -> &'static str {
        match self {
            QueryLimit::ExpandedFields => "expandedFields",
            QueryLimit::Depth => "depth",
            QueryLimit::RootFields => "rootFields",
            QueryLimit::Aliases => "aliases",
            QueryLimit::CaseReads => "caseReads",
            QueryLimit::Verifications => "verifyLog",
            QueryLimit::Cost => "cost",
        }
    }
}

impl std::fmt::Display for QueryLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QueryLimit::ExpandedFields => "fields once its fragments are expanded",
            QueryLimit::Depth => "levels of nesting",
            QueryLimit::RootFields => "root fields",
            QueryLimit::Aliases => "aliases",
            QueryLimit::CaseReads => "reads of single cases (youth, history, meeting)",
            QueryLimit::Verifications => "verifyLog fields",
            QueryLimit::Cost => "units of cost",
        })
    }
}

/// Why an API call failed.
#[derive(Debug, Error)]
pub enum ApiError {
    /// The stream is not at the version the caller expected; nothing was written.
    ///
    /// Handling: re-read the record (its `version`), decide again and resend with the
    /// new `expectedVersion`.
    #[error("version conflict on {stream}: expected version {expected}, the stream is at {actual}")]
    VersionConflict {
        /// The stream.
        stream: String,
        /// The version the caller expected.
        expected: u64,
        /// The version the stream is at (0: it does not exist).
        actual: u64,
    },
    /// The record does not exist, or lies outside the caller's municipality.
    ///
    /// Handling: check the id; a caller never learns whether a record of another
    /// municipality exists.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// A value did not pass validation; nothing was written.
    ///
    /// Handling: fix `field` as `reason` says and resend.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending input.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A business rule refused the command; nothing was written.
    ///
    /// Handling: show the message to the user; `rule` is stable for programs.
    #[error("{message}")]
    Rejected {
        /// The rule's stable name (`Rejection::rule`).
        rule: &'static str,
        /// The readable explanation.
        message: String,
    },
    /// No valid bearer token: missing, malformed, wrongly signed, wrong algorithm or expired.
    ///
    /// Handling: obtain a fresh token and resend.
    #[error("unauthenticated: {reason}")]
    Unauthenticated {
        /// What is wrong with the token.
        reason: String,
    },
    /// The caller's role may not do this.
    ///
    /// Handling: do not retry with the same token; ask for the right role.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// What the role lacks.
        reason: String,
    },
    /// Concurrent writers kept winning; nothing was written.
    ///
    /// Handling: retry after a moment with the same `commandId`.
    #[error("the record kept changing under concurrent writers ({attempts} attempts); retry")]
    Contention {
        /// How many attempts the engine made.
        attempts: u32,
    },
    /// The query is larger than a limit allows; it was refused before it was validated or
    /// run, so nothing was read or written.
    ///
    /// Handling: split the query into smaller requests; `limit` is the value that applies.
    #[error("the query has {actual} {limit}; the limit is {max}")]
    OverLimit {
        /// Which limit.
        limit: QueryLimit,
        /// What the query has (saturated at `u64::MAX`).
        actual: u64,
        /// The most allowed.
        max: u64,
    },
    /// The request did not finish within its deadline; its work was dropped. A mutation
    /// may or may not have been written.
    ///
    /// Handling: ask for less or retry later; resend a mutation with the same `commandId`
    /// (it is answered, not run twice, if it was written).
    #[error("the request did not finish within its deadline of {} ms", .deadline.as_millis())]
    DeadlineExceeded {
        /// The deadline that passed.
        deadline: std::time::Duration,
    },
    /// Work given up because the request that waited for it has gone (its deadline passed
    /// or its client left); no client sees it.
    #[error("the request was given up before its work finished")]
    Abandoned,
    /// Too many requests like this one are running or waiting; nothing was done.
    ///
    /// Handling: retry after a moment.
    #[error("too many {what} are running; retry later")]
    Busy {
        /// What is running.
        what: &'static str,
    },
    /// Anything else: storage failure, undecodable stored event, a bug.
    ///
    /// Handling: retry later with the same `commandId`; report the incident id to the
    /// operators, who find the details in the server's log.
    #[error("internal error (incident {incident})")]
    Internal {
        /// Correlates the client's error with the server's log line.
        incident: Uuid,
    },
}

impl ApiError {
    /// The stable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::VersionConflict { .. } => CODE_VERSION_CONFLICT,
            ApiError::NotFound { .. } => CODE_NOT_FOUND,
            ApiError::InvalidInput { .. } => CODE_INVALID_INPUT,
            ApiError::Rejected { .. } => CODE_REJECTED,
            ApiError::Unauthenticated { .. } => CODE_UNAUTHENTICATED,
            ApiError::Forbidden { .. } => CODE_FORBIDDEN,
            ApiError::Contention { .. } => CODE_CONTENTION,
            ApiError::OverLimit { limit, .. } => limit.code(),
            ApiError::DeadlineExceeded { .. } | ApiError::Abandoned => CODE_DEADLINE_EXCEEDED,
            ApiError::Busy { .. } => CODE_BUSY,
            ApiError::Internal { .. } => CODE_INTERNAL,
        }
    }

    /// Logs `error` once with a fresh incident id and returns the error the client sees.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> ApiError {
        let incident = Uuid::now_v7();
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(%incident, error = %chain, "internal error");
        ApiError::Internal { incident }
    }

    /// Invalid input for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ApiError {
        ApiError::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A record that does not exist for the caller.
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::NotFound { what: what.into() }
    }

    /// The role may not do this.
    pub fn forbidden(reason: impl Into<String>) -> ApiError {
        ApiError::Forbidden { reason: reason.into() }
    }

    /// The GraphQL error, with `code` and the variant's details in `extensions`.
    pub fn to_graphql(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
            match self {
                ApiError::VersionConflict {
                    stream,
                    expected,
                    actual,
                } => {
                    extensions.set("stream", stream.as_str());
                    extensions.set("expected", *expected);
                    extensions.set("actual", *actual);
                }
                ApiError::InvalidInput { field, reason } => {
                    extensions.set("field", field.as_str());
                    extensions.set("reason", reason.as_str());
                }
                ApiError::Rejected { rule, .. } => extensions.set("rule", *rule),
                ApiError::Internal { incident } => extensions.set("incident", incident.to_string()),
                ApiError::Contention { attempts } => extensions.set("attempts", *attempts),
                ApiError::OverLimit { limit, actual, max } => {
                    extensions.set("what", limit.name());
                    extensions.set("limit", *max);
                    extensions.set("actual", *actual);
                }
                ApiError::DeadlineExceeded { deadline } => {
                    extensions.set("deadlineMs", u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX));
                }
                ApiError::NotFound { .. }
                | ApiError::Unauthenticated { .. }
                | ApiError::Forbidden { .. }
                | ApiError::Abandoned
                | ApiError::Busy { .. } => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.to_graphql()
    }
}

impl From<InvalidInput> for ApiError {
    fn from(error: InvalidInput) -> Self {
        ApiError::InvalidInput {
            field: error.field.to_owned(),
            reason: error.reason,
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Invalid(invalid) => invalid.into(),
            Rejection::NotFound { what } => ApiError::NotFound { what },
            other => ApiError::Rejected {
                rule: other.rule(),
                message: other.to_string(),
            },
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::Rejected(rejection) => rejection.into(),
            EngineError::Conflict {
                stream,
                expected,
                actual,
            } => ApiError::VersionConflict {
                stream,
                expected,
                actual: actual.unwrap_or(0),
            },
            EngineError::NotFound { what } => ApiError::NotFound { what },
            EngineError::Contention { attempts } => ApiError::Contention { attempts },
            EngineError::Invalid(reason) => ApiError::invalid("request", reason),
            EngineError::Log(LogError::InvalidStreamId { id, reason }) => {
                ApiError::invalid("id", format!("{id:?}: {reason}"))
            }
            // A stored event that cannot be decoded, a broken invariant or a failing log
            // is the operators' business, not the caller's.
            error @ (EngineError::Decode { .. }
            | EngineError::Keys(_)
            | EngineError::Sealed { .. }
            | EngineError::Invariant { .. }
            | EngineError::Log(_)
            | EngineError::ReadModels(_)) => ApiError::internal(&error),
        }
    }
}

impl From<LogError> for ApiError {
    fn from(error: LogError) -> Self {
        EngineError::from(error).into()
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Value;

    use super::*;

    #[test]
    fn a_conflict_keeps_its_numbers_up_to_the_extensions() {
        let conflict: ApiError = EngineError::Conflict {
            stream: "youth-7".into(),
            expected: 2,
            actual: Some(3),
        }
        .into();
        assert!(
            matches!(&conflict, ApiError::VersionConflict { stream, expected: 2, actual: 3 } if stream == "youth-7"),
            "{conflict:?}"
        );
        let error = conflict.to_graphql();
        let extension = |key: &str| error.extensions.as_ref().and_then(|e| e.get(key)).cloned();
        assert_eq!(extension("code"), Some(Value::from(CODE_VERSION_CONFLICT)));
        assert_eq!(extension("stream"), Some(Value::from("youth-7")));
        assert_eq!(extension("expected"), Some(Value::from(2_u64)));
        assert_eq!(extension("actual"), Some(Value::from(3_u64)));
    }

    #[test]
    fn a_conflict_from_the_log_arrives_as_numbers_and_a_missing_stream_as_zero() {
        let stream = kui_log::StreamId::new("youth-7").expect("a valid stream id");
        let from_log = |expected, actual: Option<u64>| -> ApiError {
            LogError::Conflict {
                stream: stream.clone(),
                expected,
                actual: actual.map(kui_log::Version),
            }
            .into()
        };
        let moved = from_log(kui_log::ExpectedVersion::Exact(kui_log::Version(12)), Some(13));
        assert!(
            matches!(
                moved,
                ApiError::VersionConflict {
                    expected: 12,
                    actual: 13,
                    ..
                }
            ),
            "{moved:?}"
        );
        let created = from_log(kui_log::ExpectedVersion::NoStream, Some(2));
        assert!(
            matches!(
                created,
                ApiError::VersionConflict {
                    expected: 0,
                    actual: 2,
                    ..
                }
            ),
            "{created:?}"
        );
        let missing: ApiError = EngineError::Conflict {
            stream: "youth-7".into(),
            expected: 1,
            actual: None,
        }
        .into();
        assert!(
            matches!(
                missing,
                ApiError::VersionConflict {
                    expected: 1,
                    actual: 0,
                    ..
                }
            ),
            "{missing:?}"
        );
    }

    #[test]
    fn rejections_keep_their_rule_and_invalid_input_its_field() {
        let rejected: ApiError = EngineError::Rejected(Rejection::CaseClosed).into();
        assert!(matches!(
            rejected,
            ApiError::Rejected {
                rule: "case_closed",
                ..
            }
        ));
        let invalid: ApiError = EngineError::from(InvalidInput::new("cpr", "bad")).into();
        assert!(matches!(invalid, ApiError::InvalidInput { ref field, .. } if field == "cpr"));
    }

    #[test]
    fn internal_errors_send_no_details() {
        let error: ApiError = EngineError::Log(LogError::Failed {
            reason: "disk /dev/sda1 failed".into(),
        })
        .into();
        assert_eq!(error.code(), CODE_INTERNAL);
        assert!(!error.to_string().contains("sda1"));
    }
}
