//! The auditor's replay: every event about one young person, across streams, in log order.

use chrono::{DateTime, NaiveDate, Utc};
use kui_domain::{Aggregate, Event, Youth, YouthId};

use kui_log::{Position, Version};
use kui_projections::fold::fold_range;
use kui_projections::models::{Projector, Timeline};
use serde::Serialize;
use uuid::Uuid;

use crate::engine::Engine;
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

/// The timeline read model, caught up lazily by the engine when a history is asked for.
#[derive(Debug, Default)]
pub(crate) struct RelatedIndex {
    /// The last position folded.
    checkpoint: u64,
    timeline: Timeline,
}

impl Engine {
    /// Every event about `youth` (its own stream, plus meetings that tabled or decided
    /// its case), in log order, up to and including `as_of` (business date) if given,
    /// with the state of the case after the last of them.
    pub fn history(&self, youth: YouthId, as_of: Option<NaiveDate>) -> Result<History, EngineError> {
        let related = self.related_positions(youth)?;
        let stream = crate::engine::stream_id(&youth.stream_name())?;
        let mut envelopes = self.log().read_stream(&stream, Version(1))?;
        for position in related {
            envelopes.extend(self.log().read_all(Position(position), 1)?);
        }
        envelopes.sort_by_key(|e| e.position);
        let mut entries = Vec::with_capacity(envelopes.len());
        let mut state = Youth::default();
        for envelope in &envelopes {
            if as_of.is_some_and(|cut| envelope.metadata.occurred_at.date_naive() > cut) {
                continue;
            }
            let event = self.decode_personal(envelope)?;
            if envelope.stream == stream {
                state.apply(&event);
            }
            entries.push(entry(envelope, &event));
        }
        if envelopes.is_empty() {
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

    /// Catches the timeline up with the log and returns `youth`'s related positions:
    /// from the attached read models when there are some (restored from their snapshot),
    /// else from an index this engine builds on its first call.
    pub(crate) fn related_positions(&self, youth: YouthId) -> Result<Vec<u64>, EngineError> {
        if let Some(read_models) = self.read_models() {
            read_models.catch_up()?;
            return Ok(read_models.read().timeline.related(youth).to_vec());
        }
        let mut index = self.related.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let head = self.log().head()?.map_or(0, |(position, _)| position.0);
        let RelatedIndex { checkpoint, timeline } = &mut *index;
        fold_range(
            self.log().as_ref(),
            *checkpoint + 1,
            head,
            1,
            &mut |batch| {
                for (stamp, fact) in batch {
                    timeline.apply(*stamp, fact);
                }
            },
            &mut |_| {},
        )?;
        *checkpoint = (*checkpoint).max(head);
        Ok(timeline.related(youth).to_vec())
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
