//! The one-way migration of a log written before personal data was sealed: its events
//! copied into a new, empty log with every young person given a random id, their CPR
//! number registered in the key store, and every personal field sealed under their key.
//!
//! The copy is a new log with a new hash chain: event ids, times, actors, correlation and
//! causation ids and the order of events are kept; stream versions are kept; the young
//! people's ids (in stream names and payloads) are replaced, old schema versions are
//! written in the current one. The old log still holds the personal data in clear: keep
//! it as the archive's copy or dispose of it as the archive's rules say.

use std::collections::HashMap;
use std::ops::ControlFlow;

use kui_domain::{Event, YouthId};
use kui_log::{AppendRequest, EventLog, ExpectedVersion, NewEvent, Position, StreamAppend, StreamId, Version};
use serde_json::Value;
use uuid::Uuid;

use crate::engine::{decode, Engine};
use crate::error::EngineError;

/// Events copied per durable batch.
const BATCH: usize = 8_192;

/// What a migration did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Migrated {
    /// Events copied.
    pub events: u64,
    /// Young people given a new id and a key.
    pub youth: u64,
    /// Events whose personal fields were sealed.
    pub sealed: u64,
}

impl Engine {
    /// Copies `source` (a log written before personal data was sealed) into this engine's
    /// empty log, sealing as it goes; `progress(position)` after each batch. Refused for a
    /// log that is not empty, and for a source that holds sealed data already.
    pub fn migrate_from(&self, source: &dyn EventLog, progress: &mut dyn FnMut(u64)) -> Result<Migrated, EngineError> {
        if self.log().head()?.is_some() {
            return Err(EngineError::Invalid("a migration writes into an empty log only".into()));
        }
        // Pass 1: every young person's new id, and their key.
        let mut ids: HashMap<Uuid, Uuid> = HashMap::new();
        let mut failure: Option<EngineError> = None;
        source.scan(Position(1), Position(u64::MAX), &mut |envelope| {
            if envelope.event_type != "YouthReferred" {
                return ControlFlow::Continue(());
            }
            if kui_keys::is_sealed(&envelope.payload) {
                failure = Some(EngineError::Invalid(format!(
                    "the event at position {} is sealed already: this log needs no migration",
                    envelope.position.0
                )));
                return ControlFlow::Break(());
            }
            let registered = match decode(envelope) {
                Ok(Event::YouthReferred(referred)) => match referred.cpr {
                    Some(cpr) => self
                        .keys()
                        .register_in_bulk(&cpr, || YouthId(self.next_id()))
                        .map(|(id, _)| (referred.youth_id, id))
                        .map_err(EngineError::Keys),
                    None => Err(EngineError::Invalid(format!(
                        "the referral at position {} holds no CPR number",
                        envelope.position.0
                    ))),
                },
                Ok(_) => Ok((YouthId(Uuid::nil()), YouthId(Uuid::nil()))),
                Err(error) => Err(error),
            };
            match registered {
                Ok((old, new)) => {
                    ids.insert(old.0, new.0);
                    ControlFlow::Continue(())
                }
                Err(error) => {
                    failure = Some(error);
                    ControlFlow::Break(())
                }
            }
        })?;
        if let Some(error) = failure {
            return Err(error);
        }
        self.keys().sync().map_err(EngineError::Keys)?;

        // Pass 2: every event, with the new ids, in the current schema, sealed.
        let mut report = Migrated {
            youth: ids.len() as u64,
            ..Migrated::default()
        };
        let mut batch: Vec<AppendRequest> = Vec::with_capacity(BATCH);
        let mut result: Result<(), EngineError> = Ok(());
        source.scan(Position(1), Position(u64::MAX), &mut |envelope| {
            match self.migrated(envelope, &ids) {
                Ok((request, sealed)) => {
                    report.events += 1;
                    report.sealed += u64::from(sealed);
                    batch.push(request);
                }
                Err(error) => {
                    result = Err(error);
                    return ControlFlow::Break(());
                }
            }
            if batch.len() >= BATCH {
                if let Err(error) = self.log().append_many(std::mem::take(&mut batch)) {
                    result = Err(error.into());
                    return ControlFlow::Break(());
                }
                progress(envelope.position.0);
            }
            ControlFlow::Continue(())
        })?;
        result?;
        if !batch.is_empty() {
            self.log().append_many(batch)?;
        }
        progress(report.events);
        Ok(report)
    }

    /// One event of the old log as an append to the new one, and whether it was sealed.
    fn migrated(
        &self,
        envelope: &kui_log::Envelope,
        ids: &HashMap<Uuid, Uuid>,
    ) -> Result<(AppendRequest, bool), EngineError> {
        let position = envelope.position.0;
        let invalid = |why: String| EngineError::Invalid(format!("position {position}: {why}"));
        let mut payload: Value =
            serde_json::from_slice(&envelope.payload).map_err(|e| invalid(format!("the payload is not JSON ({e})")))?;
        replace_ids(&mut payload, ids);
        let bytes = serde_json::to_vec(&payload).map_err(|e| invalid(e.to_string()))?;
        let event = Event::decode(&envelope.event_type, envelope.schema_version, &bytes)
            .map_err(|source| EngineError::Decode { position, source })?;
        let stream = match envelope.stream.as_str().split_once('-') {
            Some(("youth", id)) => match id.parse::<Uuid>().ok().and_then(|old| ids.get(&old)) {
                Some(new) => format!("youth-{new}"),
                None => return Err(invalid(format!("{} was never referred", envelope.stream))),
            },
            _ => envelope.stream.to_string(),
        };
        let sealed = kui_domain::personal::subject(&event).is_some();
        let request = AppendRequest {
            command_id: None,
            streams: vec![StreamAppend {
                stream: StreamId::new(stream)?,
                expected: match envelope.version.0 {
                    0 | 1 => ExpectedVersion::NoStream,
                    version => ExpectedVersion::Exact(Version(version - 1)),
                },
                events: vec![NewEvent {
                    event_id: envelope.event_id,
                    event_type: event.event_type().to_owned(),
                    schema_version: event.schema_version(),
                    payload: self.sealed_payload(&event, envelope.event_id)?,
                    metadata: envelope.metadata.clone(),
                }],
            }],
        };
        Ok((request, sealed))
    }
}

/// Replaces every string in `value` that is an old young person's id by the new one.
fn replace_ids(value: &mut Value, ids: &HashMap<Uuid, Uuid>) {
    match value {
        Value::String(text) => {
            if let Some(new) = text.parse::<Uuid>().ok().and_then(|old| ids.get(&old)) {
                *text = new.to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| replace_ids(item, ids)),
        Value::Object(map) => map.values_mut().for_each(|item| replace_ids(item, ids)),
        _ => {}
    }
}
