//! `verify`: the hash chain (checked by the log) plus the domain's invariants over the
//! whole history. The first broken position is reported.

use std::collections::HashMap;

use kui_domain::values::birthday_at;
use kui_domain::youth::{CaseStatus, CoordinatorState};
use kui_domain::{Aggregate, Event, Meeting, YouthId};
use kui_log::VerifyReport;

use crate::engine::{decode, Engine};
use crate::error::EngineError;

/// What a full verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The log's own report: events, streams, head.
    pub log: VerifyReport,
    /// Young people checked.
    pub youth: u64,
    /// Meetings checked.
    pub meetings: u64,
}

impl Engine {
    /// Checks the chain, then replays every stream through the aggregates and checks the
    /// rules that must hold of any history: events decode, each stream's events belong
    /// to it, `TurnedEighteen` once and on the right day, nothing after a closure but a
    /// new referral, a legal hold or the erasure, nothing at all after the erasure,
    /// plan revisions without gaps, no assignment straight after a decline,
    /// decisions only for tabled cases.
    pub fn verify(&self, progress: &mut dyn FnMut(&'static str, u64)) -> Result<Verified, EngineError> {
        let log = self.log().verify(&mut |position| progress("chain", position))?;
        let mut youth: HashMap<YouthId, kui_domain::Youth> = HashMap::new();
        let mut meetings: HashMap<String, Meeting> = HashMap::new();
        let mut visited = 0u64;
        self.scan_log(1, &mut |envelope| {
            visited += 1;
            if visited.is_multiple_of(16_384) {
                progress("invariants", envelope.position.0);
            }
            let position = envelope.position.0;
            let event = decode(envelope)?;
            let stream = envelope.stream.as_str();
            if let Some(id) = YouthId::from_stream_name(stream) {
                let state = youth.entry(id).or_default();
                if let Err(reason) = check_youth(state, id, &event, envelope.metadata.occurred_at.date_naive()) {
                    return Err(EngineError::Invariant { position, reason });
                }
                state.apply(&event);
            } else if stream.starts_with("meeting-") {
                let state = meetings.entry(stream.to_owned()).or_default();
                if let Event::DecisionRecorded(e) = &event {
                    if !state.is_tabled(e.youth_id) {
                        let reason = format!("decision for {} which is not on the agenda", e.youth_id);
                        return Err(EngineError::Invariant { position, reason });
                    }
                }
                state.apply(&event);
            }
            Ok(())
        })?;
        Ok(Verified {
            log,
            youth: youth.len() as u64,
            meetings: meetings.len() as u64,
        })
    }
}

fn check_youth(
    state: &kui_domain::Youth,
    stream_id: YouthId,
    event: &Event,
    occurred: chrono::NaiveDate,
) -> Result<(), String> {
    if event.youth_id() != Some(stream_id) {
        return Err(format!(
            "{} in the stream of {stream_id} is about someone else",
            event.event_type()
        ));
    }
    let referral = matches!(event, Event::YouthReferred(_));
    // A closed case is kept (and may be held) until it is erased.
    let keeping = matches!(
        event,
        Event::LegalHoldPlaced(_) | Event::LegalHoldLifted(_) | Event::PersonalDataErased(_)
    );
    if state.erased {
        return Err(format!("{} after the erasure", event.event_type()));
    }
    match state.status {
        CaseStatus::Unknown if !referral => return Err(format!("{} before any referral", event.event_type())),
        CaseStatus::Closed if !referral && !keeping => return Err(format!("{} on a closed case", event.event_type())),
        CaseStatus::Open if referral => return Err("a referral of an open case".into()),
        _ => {}
    }
    match event {
        Event::TurnedEighteen(e) => {
            if state.turned_eighteen {
                return Err("TurnedEighteen recorded twice".into());
            }
            let birth = state.birth_date().ok_or("no birth date")?;
            let birthday = birthday_at(birth, 18);
            if e.birthday != birthday || occurred < birthday {
                return Err(format!(
                    "TurnedEighteen for {} recorded on {occurred}, birthday {birthday}",
                    e.birthday
                ));
            }
        }
        Event::PlanUpdated(e) if e.revision != state.plan_revision + 1 => {
            return Err(format!("plan revision {} follows {}", e.revision, state.plan_revision));
        }
        Event::CoordinatorAssigned(_) if state.coordinator == CoordinatorState::Declined => {
            return Err("coordinator assigned after a decline without a new offer".into());
        }
        _ => {}
    }
    Ok(())
}
