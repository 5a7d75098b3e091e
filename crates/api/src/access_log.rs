//! The access log: who read which young person's case, when, through which operation.
//!
//! A second event log (the CLI opens it under `<data>/access`), kept apart from the case
//! log so that reading never changes the case history or its hash chain.
//! Each read appends one `CaseRead` event to the stream `access-<youth uuid>` of every
//! young person it showed, durably, before the data is returned: a read that cannot be
//! recorded is not answered.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use kui_domain::YouthId;
use kui_engine::Clock;
use kui_log::{AppendRequest, EventLog, ExpectedVersion, Metadata, NewEvent, StreamAppend, StreamId, Version};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::ApiError;

/// The stored event type of one read.
pub const CASE_READ: &str = "CaseRead";
/// The stream prefix of a young person's access records.
pub const STREAM_PREFIX: &str = "access-";

/// The payload of a `CaseRead` event (schema version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRead {
    /// The young person whose case was read.
    pub youth_id: YouthId,
    /// The reader.
    pub staff_id: String,
    /// The reader's role.
    pub role: String,
    /// The reader's department.
    pub department: String,
    /// The reader's municipality, if bound to one.
    pub municipality: Option<u16>,
    /// The operation: `youth`, `history`, `meeting`, `events`.
    pub operation: String,
    /// When.
    pub at: DateTime<Utc>,
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
    pub fn record(&self, principal: &Principal, operation: &str, youth: &[YouthId]) -> Result<(), ApiError> {
        if let Some(request) = self.request(principal, operation, youth)? {
            self.log.append(request)?;
        }
        Ok(())
    }

    /// [`AccessLog::record`] for async callers: the task waits for the sync, no thread does.
    pub async fn record_async(
        &self,
        principal: &Principal,
        operation: &str,
        youth: &[YouthId],
    ) -> Result<(), ApiError> {
        let Some(request) = self.request(principal, operation, youth)? else {
            return Ok(());
        };
        crate::state::append(self.log.as_ref(), request).await?;
        Ok(())
    }

    /// The append recording one read (None when it showed nobody).
    fn request(
        &self,
        principal: &Principal,
        operation: &str,
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
                operation: operation.to_owned(),
                at,
            };
            let payload = serde_json::to_vec(&read).map_err(|error| ApiError::internal(&error))?;
            streams.push(StreamAppend {
                stream: stream(youth_id)?,
                expected: ExpectedVersion::Any,
                events: vec![NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: CASE_READ.to_owned(),
                    schema_version: 1,
                    payload,
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
            .into_iter()
            .filter(|e| e.event_type == CASE_READ)
            .map(|envelope| {
                let read: CaseRead = serde_json::from_slice(&envelope.payload).map_err(|error| {
                    ApiError::internal(&kui_engine::EngineError::Invariant {
                        position: envelope.position.0,
                        reason: format!("access record does not decode: {error}"),
                    })
                })?;
                Ok(AccessRecord {
                    position: envelope.position.0,
                    read,
                })
            })
            .collect()
    }
}

fn stream(youth: YouthId) -> Result<StreamId, ApiError> {
    StreamId::new(format!("{STREAM_PREFIX}{}", youth.0)).map_err(ApiError::from)
}
