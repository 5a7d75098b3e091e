//! The access log: who read which young person's case, when, through which operation.
//!
//! A second event log (the CLI opens it under `<data>/access`), kept apart from the case
//! log so that reading never changes the case history or its hash chain.
//! Each read appends one `CaseRead` event (defined in the event catalogue,
//! `kui_domain::event::CaseRead`) to the stream `access-<youth uuid>` of every young
//! person it showed, durably, before the data is returned: a read that cannot be
//! recorded is not answered.

use std::collections::BTreeSet;
use std::sync::Arc;

use kui_domain::{Event, YouthId};
use kui_engine::Clock;
use kui_log::{AppendRequest, EventLog, ExpectedVersion, Metadata, NewEvent, StreamAppend, StreamId, Version};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::ApiError;

pub use kui_domain::event::CaseRead;

/// The stream prefix of a young person's access records.
pub const STREAM_PREFIX: &str = "access-";

/// What one read was: the operation, why, and which classes of the cases it showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read<'a> {
    /// `youth`, `history`, `meeting`, `youngPeople`, `events`, `subjectAccessReport`.
    pub operation: &'a str,
    /// The purpose stated (or the role's default).
    pub purpose: &'a crate::need_to_know::Stated,
    /// Classes shown.
    pub shown: &'a [crate::need_to_know::Class],
    /// Classes withheld.
    pub withheld: &'a [crate::need_to_know::Class],
    /// The error code when the read was refused.
    pub refused: Option<&'a str>,
}

impl<'a> Read<'a> {
    /// A read through `operation` for `purpose` that showed `shown` and withheld the rest.
    pub fn of(
        operation: &'a str,
        purpose: &'a crate::need_to_know::Stated,
        shown: &'a [crate::need_to_know::Class],
        withheld: &'a [crate::need_to_know::Class],
    ) -> Read<'a> {
        Read {
            operation,
            purpose,
            shown,
            withheld,
            refused: None,
        }
    }

    /// A read through `operation` for `purpose` that was refused with `code`: nothing was
    /// shown (`withheld` names the classes that stood in the way, if any).
    pub fn refused(
        operation: &'a str,
        purpose: &'a crate::need_to_know::Stated,
        withheld: &'a [crate::need_to_know::Class],
        code: &'a str,
    ) -> Read<'a> {
        Read {
            refused: Some(code),
            ..Read::of(operation, purpose, &[], withheld)
        }
    }
}

/// One recorded read, as returned to auditors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// Position in the access log.
    pub position: u64,
    /// What was recorded.
    pub read: CaseRead,
}

/// Appends and reads access records.
#[derive(Clone)]
pub struct AccessLog {
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog").finish_non_exhaustive()
    }
}

impl AccessLog {
    /// An access log over its own event log.
    pub fn new(log: Arc<dyn EventLog>, clock: Arc<dyn Clock>) -> Self {
        Self { log, clock }
    }

    /// The log underneath (for readiness checks).
    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// Durably records that `principal` read the cases of `youth` through `operation`,
    /// one event per young person, all in one atomic append. Blocking.
    pub fn record(&self, principal: &Principal, read: &Read<'_>, youth: &[YouthId]) -> Result<(), ApiError> {
        if let Some(request) = self.request(principal, read, youth)? {
            self.log.append(request)?;
        }
        Ok(())
    }

    /// Records that `principal`'s read of `youth` was refused with `error`, and returns
    /// the error for the caller to answer with (or the failure to record it). Blocking.
    pub fn refuse(
        &self,
        principal: &Principal,
        operation: &str,
        purpose: &crate::need_to_know::Stated,
        youth: YouthId,
        error: ApiError,
    ) -> ApiError {
        let read = Read::refused(operation, purpose, &[], error.code());
        match self.record(principal, &read, &[youth]) {
            Ok(()) => error,
            Err(failure) => failure,
        }
    }

    /// [`AccessLog::refuse`] for async callers.
    pub async fn refuse_async(
        &self,
        principal: &Principal,
        operation: &str,
        purpose: &crate::need_to_know::Stated,
        youth: YouthId,
        error: ApiError,
    ) -> ApiError {
        let read = Read::refused(operation, purpose, &[], error.code());
        match self.record_async(principal, &read, &[youth]).await {
            Ok(()) => error,
            Err(failure) => failure,
        }
    }

    /// [`AccessLog::record`] for async callers: the task waits for the sync, no thread does.
    pub async fn record_async(
        &self,
        principal: &Principal,
        read: &Read<'_>,
        youth: &[YouthId],
    ) -> Result<(), ApiError> {
        let Some(request) = self.request(principal, read, youth)? else {
            return Ok(());
        };
        crate::state::append(self.log.as_ref(), request).await?;
        Ok(())
    }

    /// The append recording one read (None when it showed nobody).
    fn request(
        &self,
        principal: &Principal,
        read: &Read<'_>,
        youth: &[YouthId],
    ) -> Result<Option<AppendRequest>, ApiError> {
        let distinct: BTreeSet<YouthId> = youth.iter().copied().collect();
        if distinct.is_empty() {
            return Ok(None);
        }
        let at = self.clock.now();
        let actor = principal.actor();
        let log_actor = kui_log::Actor {
            staff_id: actor.staff.map(|s| s.to_string()),
            role: actor.role.as_str().to_owned(),
            department: actor.department.map(|d| d.as_str().to_owned()),
        };
        let correlation_id = Uuid::now_v7();
        let mut streams = Vec::with_capacity(distinct.len());
        for youth_id in distinct {
            let read = CaseRead {
                youth_id,
                staff_id: principal.staff.to_string(),
                role: principal.role.as_str().to_owned(),
                department: principal.department.as_str().to_owned(),
                municipality: principal.municipality.map(u16::from),
                operation: read.operation.to_owned(),
                at,
                purpose: read.purpose.purpose.as_str().to_owned(),
                reason: read.purpose.reason.clone(),
                shown: read.shown.iter().map(|c| c.as_str().to_owned()).collect(),
                withheld: read.withheld.iter().map(|c| c.as_str().to_owned()).collect(),
                refused: read.refused.map(str::to_owned),
            };
            let event = Event::CaseRead(read);
            streams.push(StreamAppend {
                stream: stream(youth_id)?,
                expected: ExpectedVersion::Any,
                events: vec![NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: event.event_type().to_owned(),
                    schema_version: event.schema_version(),
                    payload: event.to_payload(),
                    metadata: Metadata {
                        actor: log_actor.clone(),
                        command_id: None,
                        causation_id: None,
                        correlation_id: Some(correlation_id),
                        occurred_at: at,
                        recorded_at: at,
                    },
                }],
            });
        }
        Ok(Some(AppendRequest {
            command_id: None,
            streams,
        }))
    }

    /// Every recorded read of one young person's case, oldest first. Blocking.
    pub fn read(&self, youth: YouthId) -> Result<Vec<AccessRecord>, ApiError> {
        let envelopes = self.log.read_stream(&stream(youth)?, Version(1))?;
        envelopes
            .iter()
            .filter_map(|envelope| {
                let position = envelope.position.0;
                // Decoded through the catalogue, so an older schema version is upcast.
                match kui_engine::decode(envelope) {
                    Ok(Event::CaseRead(read)) => Some(Ok(AccessRecord { position, read })),
                    // Only reads are records; nothing else is shown.
                    Ok(_) => None,
                    Err(error) => Some(Err(ApiError::internal(&error))),
                }
            })
            .collect()
    }
}

impl AccessLog {
    /// Every recorded read of every young person, in log order, that `keep` accepts.
    /// Blocking; reads the whole access log.
    pub fn every(&self, keep: &mut dyn FnMut(&CaseRead) -> bool) -> Result<Vec<AccessRecord>, ApiError> {
        let mut records = Vec::new();
        let mut failure = None;
        self.log.scan(
            kui_log::Position(1),
            kui_log::Position(u64::MAX),
            &mut |envelope| match kui_engine::decode(envelope) {
                Ok(Event::CaseRead(read)) => {
                    if keep(&read) {
                        records.push(AccessRecord {
                            position: envelope.position.0,
                            read,
                        });
                    }
                    std::ops::ControlFlow::Continue(())
                }
                Ok(_) => std::ops::ControlFlow::Continue(()),
                Err(error) => {
                    failure = Some(ApiError::internal(&error));
                    std::ops::ControlFlow::Break(())
                }
            },
        )?;
        match failure {
            Some(error) => Err(error),
            None => Ok(records),
        }
    }
}

fn stream(youth: YouthId) -> Result<StreamId, ApiError> {
    StreamId::new(format!("{STREAM_PREFIX}{}", youth.0)).map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use kui_domain::values::Department;
    use kui_domain::{MunicipalityCode, StaffId};
    use kui_engine::{FixedClock, Role};
    use kui_log::MemoryLog;

    use super::*;

    /// A record written before purposes were (schema v1): it must keep decoding.
    const STORED_V1: &str = r#"{"youth_id":"01900000-0000-7000-9000-000000000001","staff_id":"01900000-0000-7000-8000-000000000002","role":"caseworker","department":"children_and_family","municipality":540,"operation":"youth","at":"2026-03-02T09:00:00.250Z"}"#;

    /// What a read is recorded as now (schema v2).
    const STORED: &str = r#"{"youth_id":"01900000-0000-7000-9000-000000000001","staff_id":"01900000-0000-7000-8000-000000000002","role":"caseworker","department":"children_and_family","municipality":540,"operation":"youth","at":"2026-03-02T09:00:00.250Z","purpose":"casework","shown":["coordination"],"withheld":["education","social"]}"#;

    #[test]
    fn a_read_is_recorded_with_its_purpose_and_classes_and_old_records_still_decode() {
        use crate::need_to_know::{Class, Purpose, Stated};
        let log = MemoryLog::new();
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().expect("a real time")
            + chrono::Duration::milliseconds(250);
        let access = AccessLog::new(Arc::new(log), Arc::new(FixedClock::new(at)));
        let youth = YouthId(Uuid::from_u128(0x0190_0000_0000_7000_9000_0000_0000_0001));
        let principal = Principal {
            staff: StaffId(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002)),
            role: Role::Caseworker,
            department: Department::ChildrenAndFamily,
            municipality: MunicipalityCode::new(540).ok(),
            purposes: None,
        };
        let purpose = Stated {
            purpose: Purpose::Casework,
            reason: None,
        };
        let read = Read::of(
            "youth",
            &purpose,
            &[Class::Coordination],
            &[Class::Education, Class::Social],
        );
        access.record(&principal, &read, &[youth]).expect("recorded");

        let stored = access
            .log()
            .read_stream(&stream(youth).expect("stream"), Version(1))
            .expect("read");
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].event_type, "CaseRead");
        assert_eq!(stored[0].schema_version, 2);
        assert_eq!(String::from_utf8_lossy(&stored[0].payload), STORED);
        let records = access.read(youth).expect("read back");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].read.youth_id, youth);
        assert_eq!(records[0].read.at, at);
        assert_eq!(records[0].read.purpose, "casework");

        let old = kui_domain::Event::decode("CaseRead", 1, STORED_V1.as_bytes()).expect("a v1 record decodes");
        let kui_domain::Event::CaseRead(old) = old else {
            panic!("not a read")
        };
        assert_eq!(old.purpose, "unstated");
        assert!(old.shown.is_empty());
    }
}
