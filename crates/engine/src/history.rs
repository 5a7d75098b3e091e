//! The auditor's replay: every event about one young person, across streams, in log order.

use chrono::{DateTime, NaiveDate, Utc};
use kui_domain::{Aggregate, Event, Youth, YouthId};
use kui_log::{LogError, Position};
use serde::Serialize;
use uuid::Uuid;

use crate::engine::{decode, Engine};
use crate::error::EngineError;

/// One event in a young person's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// Global position.
    pub position: u64,
    /// The stream it was written to.
    pub stream: String,
    /// Its version in that stream.
    pub version: u64,
    /// Event id.
    pub event_id: Uuid,
    /// Stored type name.
    pub event_type: String,
    /// Stored schema version.
    pub schema_version: u16,
    /// Business time.
    pub occurred_at: DateTime<Utc>,
    /// When the log recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Who: staff id, role, department.
    pub actor: kui_log::Actor,
    /// The command that wrote it.
    pub command_id: Option<Uuid>,
    /// The event or command that caused it.
    pub causation_id: Option<Uuid>,
    /// The wider piece of work.
    pub correlation_id: Option<Uuid>,
    /// A readable summary.
    pub summary: String,
    /// The payload, upcast to the current schema.
    pub payload: serde_json::Value,
    /// The chain hash, hex.
    pub hash: String,
}

/// A young person's history, optionally cut at a date, with the case's state then.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    /// The young person.
    pub youth_id: YouthId,
    /// The cut-off date, if any.
    pub as_of: Option<NaiveDate>,
    /// Every event, in log order.
    pub entries: Vec<HistoryEntry>,
    /// The case's state after the last entry.
    pub state: Option<CaseState>,
}

/// A readable snapshot of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseState {
    /// Name.
    pub name: String,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// open / closed.
    pub status: String,
    /// Need level.
    pub need_level: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// School status.
    pub school_status: Option<String>,
    /// Coordinator state.
    pub coordinator: String,
    /// Coordinating caseworker.
    pub coordinating_caseworker: Option<String>,
    /// Plan revision and kind.
    pub plan: Option<String>,
    /// Consent on record.
    pub consent: bool,
    /// 18th birthday recorded.
    pub turned_eighteen: bool,
    /// Destination.
    pub destination: Option<String>,
}

impl CaseState {
    fn of(youth: &Youth) -> Self {
        use kui_domain::youth::{CaseStatus, CoordinatorState};
        CaseState {
            name: youth.name.clone(),
            birth_date: youth.birth_date(),
            status: match youth.status {
                CaseStatus::Open => "open",
                CaseStatus::Closed => "closed",
                CaseStatus::Unknown => "unknown",
            }
            .into(),
            need_level: youth.need_level.map(|l| l.to_string()),
            team: youth.team.map(|t| t.to_string()),
            school_status: youth.school_status.map(|s| s.to_string()),
            coordinator: match youth.coordinator {
                CoordinatorState::None => "none".into(),
                CoordinatorState::Offered => "offered".into(),
                CoordinatorState::Assigned(staff) => format!("assigned: {staff}"),
                CoordinatorState::Declined => "declined".into(),
                CoordinatorState::NotRelevant => "not relevant".into(),
                CoordinatorState::Released(reason) => format!("released ({reason})"),
            },
            coordinating_caseworker: youth.coordinating_caseworker.map(|s| s.to_string()),
            plan: youth
                .plan
                .as_ref()
                .map(|(kind, _)| format!("{kind} revision {}", youth.plan_revision)),
            consent: youth.consent,
            turned_eighteen: youth.turned_eighteen,
            destination: youth.destination.map(|d| d.to_string()),
        }
    }
}

impl Engine {
    /// Every event about `youth` (its own stream, plus meetings that tabled or decided
    /// its case), in log order, up to and including `as_of` (business date) if given.
    pub fn history(&self, youth: YouthId, as_of: Option<NaiveDate>) -> Result<History, EngineError> {
        let needle = youth.to_string();
        let own_stream = youth.stream_name();
        let mut entries = Vec::new();
        let mut state = Youth::default();
        let mut failure: Option<EngineError> = None;
        let scanned = self.log().scan(Position(1), &mut |envelope| {
            let own = envelope.stream.as_str() == own_stream;
            if !own && !contains(&envelope.payload, needle.as_bytes()) {
                return Ok(());
            }
            if as_of.is_some_and(|cut| envelope.metadata.occurred_at.date_naive() > cut) {
                return Ok(());
            }
            let event = match decode(envelope) {
                Ok(event) => event,
                Err(error) => {
                    failure = Some(error);
                    return Err(LogError::Corrupt {
                        position: Some(envelope.position.0),
                        reason: "undecodable event".into(),
                    });
                }
            };
            if !own && event.youth_id() != Some(youth) {
                return Ok(());
            }
            if own {
                state.apply(&event);
            }
            entries.push(entry(envelope, &event));
            Ok(())
        });
        if let Some(error) = failure {
            return Err(error);
        }
        scanned?;
        if entries.is_empty() {
            return Err(EngineError::NotFound {
                what: format!("young person {youth}"),
            });
        }
        let state = (state.id.is_some()).then(|| CaseState::of(&state));
        Ok(History {
            youth_id: youth,
            as_of,
            entries,
            state,
        })
    }
}

fn entry(envelope: &kui_log::Envelope, event: &Event) -> HistoryEntry {
    HistoryEntry {
        position: envelope.position.0,
        stream: envelope.stream.to_string(),
        version: envelope.version.0,
        event_id: envelope.event_id,
        event_type: envelope.event_type.clone(),
        schema_version: envelope.schema_version,
        occurred_at: envelope.metadata.occurred_at,
        recorded_at: envelope.metadata.recorded_at,
        actor: envelope.metadata.actor.clone(),
        command_id: envelope.metadata.command_id,
        causation_id: envelope.metadata.causation_id,
        correlation_id: envelope.metadata.correlation_id,
        summary: event.summary(),
        payload: event.to_json(),
        hash: hex(&envelope.hash),
    }
}

/// Lowercase hex of a hash.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|window| window == needle)
}
