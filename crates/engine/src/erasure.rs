//! Forgetting a young person: erasure, its proof, the archive's copy taken before it, and
//! the retention schedule that erases closed cases once they are old enough.
//!
//! An erasure is three durable steps, each safe to be interrupted after:
//! 1. the key store records that the erasure begins;
//! 2. `PersonalDataErased` is appended to the young person's stream (the decision: a legal
//!    hold or an earlier erasure refuses it here, and step 1 is abandoned);
//! 3. the key store is rewritten without the key and the CPR lookup.
//!
//! On open, [`Engine::finish_erasures`] completes every begun erasure whose event is in the
//! log and abandons the others, so that after a crash a person is either erased
//! everywhere or not at all; running the same erasure again completes it too.
//! The log is never rewritten: what it holds of the person is ciphertext under a key
//! that no longer exists, and its hash chain verifies as before.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Months, NaiveDate};
use kui_domain::values::CloseReason;
use kui_domain::{Event, MunicipalityCode, Rejection, Youth, YouthId};
use kui_keys::KeyState;
use kui_log::{Position, Version};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::actor::Actor;
use crate::engine::{decode, Command, CommandContext, Engine, Erasure};
use crate::error::EngineError;
use crate::history::hex;

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erased {
    /// The young person.
    pub youth_id: YouthId,
    /// The position of `PersonalDataErased`.
    pub position: u64,
    /// The streams whose sealed data can no longer be opened.
    pub streams: Vec<String>,
    /// Bytes of the key store rewritten.
    pub key_store_bytes: u64,
    /// True when this finished an erasure an earlier run had recorded but not completed.
    pub resumed: bool,
}

/// The proof of an erasure, for auditors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// The young person.
    pub youth_id: YouthId,
    /// The erasure event, if there is one.
    pub erasure: Option<ErasureRecord>,
    /// `present`, `erasing`, `erased` or `unknown`: whether the key store still holds a key.
    pub key: String,
    /// Every event of the person's streams with its stored hash, each recomputed from
    /// what is stored and linked to the one before it in the log.
    pub events: Vec<ChainedEvent>,
    /// True when every listed hash recomputes and links.
    pub chain_verified: bool,
    /// The log's head hash.
    pub head_hash: Option<String>,
}

/// The recorded erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureRecord {
    /// Its position.
    pub position: u64,
    /// When it was recorded.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// Who.
    pub erased_by: String,
    /// Why.
    pub reason: String,
    /// Under which authority.
    pub authority: String,
    /// The streams it reached.
    pub streams: Vec<String>,
}

/// One event as the proof lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainedEvent {
    /// Position.
    pub position: u64,
    /// Stream.
    pub stream: String,
    /// Type.
    pub event_type: String,
    /// The stored hash, hex.
    pub hash: String,
    /// Whether the stored hash recomputes from the stored event.
    pub recomputes: bool,
}

/// The archive's copy of one case, written before it is erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveManifest {
    /// The young person.
    pub youth_id: YouthId,
    /// The file of events (NDJSON, personal fields opened), relative to the manifest.
    pub events_file: String,
    /// Events in it.
    pub events: usize,
    /// SHA-256 of the events file, hex.
    pub events_sha256: String,
    /// The stored hash of each event, in order: they match the log's chain.
    pub event_hashes: Vec<String>,
    /// The log's head hash when the copy was taken.
    pub head_hash: Option<String>,
    /// When the copy was taken.
    pub written_at: chrono::DateTime<chrono::Utc>,
}

/// What a retention run did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RetentionReport {
    /// Erased now, with the day they fell due.
    pub erased: Vec<(YouthId, NaiveDate)>,
    /// Due but kept by a legal hold, with the hold's reason.
    pub held: Vec<(YouthId, String)>,
    /// Closed cases not yet due.
    pub not_due: u32,
    /// Closed cases erased before.
    pub already_erased: u32,
    /// Archive copies written (directory of each).
    pub archived: Vec<PathBuf>,
    /// Bytes of the key store rewritten (once for the whole run).
    pub key_store_bytes: u64,
    /// Due, but without a key in this key store (recorded before personal data was
    /// sealed, or imported without the key store): not erased, listed for the operator.
    pub without_key: Vec<YouthId>,
}

/// A closed case as retention sees it.
struct Closed {
    municipality: MunicipalityCode,
    closed_on: NaiveDate,
    reason: CloseReason,
}

impl Engine {
    /// Erases `youth`'s personal data (see the module's documentation for the steps).
    /// Refused for an unknown or already erased person and under a legal hold; nothing is
    /// changed then.
    pub fn erase(&self, youth: YouthId, erasure: Erasure, context: &CommandContext) -> Result<Erased, EngineError> {
        let resumed = self.record_erasure(youth, erasure, context)?;
        let mut done = self.complete(&[youth], resumed)?;
        done.pop()
            .ok_or_else(|| EngineError::Invalid("the erasure completed nothing".into()))
    }

    /// Steps 1 and 2: the key store's marker and `PersonalDataErased`. True when the event
    /// was in the log already (an earlier run stopped before step 3).
    fn record_erasure(
        &self,
        youth: YouthId,
        mut erasure: Erasure,
        context: &CommandContext,
    ) -> Result<bool, EngineError> {
        let stream = youth.stream_name();
        let (state, _) = self.load::<Youth>(&stream)?;
        if state.id.is_none() {
            return Err(EngineError::NotFound {
                what: format!("young person {youth}"),
            });
        }
        match self.keys().state_of(youth) {
            KeyState::Erased => return Err(Rejection::Erased.into()),
            // A case recorded before this log had keys: nothing sealed to destroy.
            KeyState::Unknown => {
                return Err(EngineError::Invalid(format!(
                    "young person {youth} has no key in this key store (a case recorded before personal data was sealed, or a log imported without its key store)"
                )))
            }
            KeyState::Present | KeyState::Erasing => {}
        }
        if state.erased {
            // The event is in the log; an earlier run stopped before the key was destroyed.
            return Ok(true);
        }
        erasure.streams = self.sealed_streams(youth)?;
        self.keys().begin_erasure(youth).map_err(EngineError::Keys)?;
        match self.execute(Command::Erase(youth, erasure), context) {
            Ok(_) => Ok(false),
            Err(error) => {
                self.keys().abandon_erasure(youth).map_err(EngineError::Keys)?;
                Err(error)
            }
        }
    }

    /// Completes every begun erasure whose event reached the log and abandons the rest:
    /// call once after opening the key store with the erasures it reports pending.
    pub fn finish_erasures(&self, pending: &[YouthId]) -> Result<Vec<Erased>, EngineError> {
        let mut recorded = Vec::new();
        for youth in pending {
            let (state, _) = self.load::<Youth>(&youth.stream_name())?;
            if state.erased {
                recorded.push(*youth);
            } else {
                self.keys().abandon_erasure(*youth).map_err(EngineError::Keys)?;
            }
        }
        if recorded.is_empty() {
            return Ok(Vec::new());
        }
        self.complete(&recorded, true)
    }

    /// Step 3 for every one of `people` with one rewrite of the key store, and the
    /// caches: nothing the engine keeps in memory still holds their opened values.
    fn complete(&self, people: &[YouthId], resumed: bool) -> Result<Vec<Erased>, EngineError> {
        let bytes = self.keys().complete_erasures(people).map_err(EngineError::Keys)?;
        let mut done = Vec::with_capacity(people.len());
        for youth in people {
            let stream = youth.stream_name();
            let envelopes = self
                .log()
                .read_stream(&crate::engine::stream_id(&stream)?, Version(1))?;
            let mut position = 0;
            let mut streams = vec![stream.clone()];
            for envelope in &envelopes {
                if let Ok(Event::PersonalDataErased(e)) = decode(envelope) {
                    position = envelope.position.0;
                    streams.clone_from(&e.streams);
                }
            }
            for stream in &streams {
                self.forget_cached(stream);
            }
            self.forget_cached(&stream);
            done.push(Erased {
                youth_id: *youth,
                position,
                streams,
                key_store_bytes: bytes,
                resumed,
            });
        }
        Ok(done)
    }

    /// The streams holding data sealed under `youth`'s key: their own and every meeting
    /// that recorded a decision about them.
    fn sealed_streams(&self, youth: YouthId) -> Result<Vec<String>, EngineError> {
        let mut streams = vec![youth.stream_name()];
        for position in self.related_positions(youth)? {
            for envelope in self.log().read_all(Position(position), 1)? {
                let sealed = !kui_domain::personal::personal_fields(&envelope.event_type).is_empty();
                let name = envelope.stream.to_string();
                if sealed && !streams.contains(&name) {
                    streams.push(name);
                }
            }
        }
        Ok(streams)
    }

    /// The proof of `youth`'s erasure: the event, the key's absence, and the hashes of the
    /// person's events recomputed from what is stored.
    pub fn erasure_report(&self, youth: YouthId) -> Result<ErasureReport, EngineError> {
        let stream = crate::engine::stream_id(&youth.stream_name())?;
        let mut envelopes = self.log().read_stream(&stream, Version(1))?;
        if envelopes.is_empty() {
            return Err(EngineError::NotFound {
                what: format!("young person {youth}"),
            });
        }
        for position in self.related_positions(youth)? {
            envelopes.extend(self.log().read_all(Position(position), 1)?);
        }
        envelopes.sort_by_key(|e| e.position);
        envelopes.dedup_by_key(|e| e.position);
        let mut erasure = None;
        let mut events = Vec::with_capacity(envelopes.len());
        let mut chain_verified = true;
        for envelope in &envelopes {
            if let Ok(Event::PersonalDataErased(e)) = decode(envelope) {
                erasure = Some(ErasureRecord {
                    position: envelope.position.0,
                    recorded_at: envelope.metadata.recorded_at,
                    erased_by: e.erased_by,
                    reason: e.reason,
                    authority: e.authority,
                    streams: e.streams,
                });
            }
            let recomputes = kui_log::envelope_hash(envelope) == envelope.hash && self.links(envelope)?;
            chain_verified &= recomputes;
            events.push(ChainedEvent {
                position: envelope.position.0,
                stream: envelope.stream.to_string(),
                event_type: envelope.event_type.clone(),
                hash: hex(&envelope.hash),
                recomputes,
            });
        }
        let key = match self.keys().state_of(youth) {
            KeyState::Present => "present",
            KeyState::Erasing => "erasing",
            KeyState::Erased => "erased",
            KeyState::Unknown => "unknown",
        }
        .to_owned();
        Ok(ErasureReport {
            youth_id: youth,
            erasure,
            key,
            events,
            chain_verified,
            head_hash: self.log().head()?.map(|(_, hash)| hex(&hash)),
        })
    }

    /// Whether the event before `envelope` in the log carries the hash `envelope` names as
    /// its predecessor.
    fn links(&self, envelope: &kui_log::Envelope) -> Result<bool, EngineError> {
        if envelope.position.0 <= 1 {
            return Ok(envelope.prev_hash == [0u8; 32]);
        }
        let before = self.log().read_all(Position(envelope.position.0 - 1), 1)?;
        Ok(before
            .first()
            .is_some_and(|previous| previous.hash == envelope.prev_hash))
    }

    /// Writes the archive's copy of `youth`'s case to `<dir>/<youth id>/`: `events.ndjson`
    /// (every event with its personal fields opened, as `kui history` shows them) and
    /// `manifest.json` (counts, the file's SHA-256, the events' chain hashes). The files
    /// are synced before this returns. Refused once the person is erased.
    pub fn archive(&self, youth: YouthId, dir: &Path) -> Result<ArchiveManifest, EngineError> {
        if self.keys().state_of(youth) == KeyState::Erased {
            return Err(Rejection::Erased.into());
        }
        let history = self.history(youth, None)?;
        let folder = dir.join(youth.to_string());
        let io = |error: std::io::Error| {
            EngineError::Invalid(format!("writing the archive copy in {}: {error}", folder.display()))
        };
        std::fs::create_dir_all(&folder).map_err(io)?;
        let mut lines = Vec::new();
        for entry in &history.entries {
            serde_json::to_writer(&mut lines, entry).map_err(|e| EngineError::Invalid(e.to_string()))?;
            lines.push(b'\n');
        }
        write_synced(&folder.join("events.ndjson"), &lines).map_err(io)?;
        let manifest = ArchiveManifest {
            youth_id: youth,
            events_file: "events.ndjson".into(),
            events: history.entries.len(),
            events_sha256: hex(&Sha256::digest(&lines)),
            event_hashes: history.entries.iter().map(|e| e.hash.clone()).collect(),
            head_hash: self.log().head()?.map(|(_, hash)| hex(&hash)),
            written_at: self.now(),
        };
        let mut text = serde_json::to_vec_pretty(&manifest).map_err(|e| EngineError::Invalid(e.to_string()))?;
        text.push(b'\n');
        write_synced(&folder.join("manifest.json"), &text).map_err(io)?;
        Ok(manifest)
    }

    /// Erases every closed case whose retention period (by its municipality's settings and
    /// close reason, counted from the day it closed) has ended by `as_of`, except under a
    /// legal hold; with `archive`, the archive's copy of each is written there first.
    /// Running it again erases nothing twice.
    pub fn retention(
        &self,
        as_of: NaiveDate,
        archive: Option<&Path>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RetentionReport, EngineError> {
        self.not_after_today(as_of, "apply retention")?;
        let (closed, settings) = self.closed_cases(progress)?;
        let mut report = RetentionReport::default();
        let mut recorded: Vec<(YouthId, NaiveDate)> = Vec::new();
        for (youth, case) in closed {
            let years = settings
                .get(&case.municipality)
                .map_or(5, |retention| retention.years_for(case.reason));
            let due = add_years(case.closed_on, years);
            if due > as_of {
                report.not_due += 1;
                continue;
            }
            if self.keys().state_of(youth) == KeyState::Unknown {
                report.without_key.push(youth);
                continue;
            }
            let (state, _) = self.load::<Youth>(&youth.stream_name())?;
            if state.erased && self.keys().state_of(youth) == KeyState::Erased {
                report.already_erased += 1;
                continue;
            }
            if let Some(hold) = &state.legal_hold {
                report.held.push((youth, hold.clone()));
                continue;
            }
            if let Some(dir) = archive {
                if !state.erased {
                    self.archive(youth, dir)?;
                    report.archived.push(dir.join(youth.to_string()));
                }
            }
            let erasure = Erasure {
                erased_by: "retention".into(),
                reason: format!("closed on {} ({}); kept {years} years", case.closed_on, case.reason),
                authority: format!("retention settings of municipality {}", case.municipality),
                streams: Vec::new(),
            };
            let context = CommandContext::by(Actor::system());
            match self.record_erasure(youth, erasure, &context) {
                Ok(_) => recorded.push((youth, due)),
                Err(EngineError::Rejected(Rejection::Erased)) => report.already_erased += 1,
                Err(EngineError::Rejected(Rejection::LegalHold { reason })) => report.held.push((youth, reason)),
                Err(error) => {
                    // What was recorded so far is completed on the next open, or here.
                    let people: Vec<YouthId> = recorded.iter().map(|(youth, _)| *youth).collect();
                    self.complete(&people, false)?;
                    return Err(error);
                }
            }
        }
        // One rewrite of the key store for every erasure of this run.
        let people: Vec<YouthId> = recorded.iter().map(|(youth, _)| *youth).collect();
        if !people.is_empty() {
            report.key_store_bytes = self.complete(&people, false)?.first().map_or(0, |e| e.key_store_bytes);
        }
        report.erased = recorded;
        report.erased.sort();
        report.held.sort();
        Ok(report)
    }

    /// One pass over the log: every case closed now (not re-opened), with the day it
    /// closed, and each municipality's retention settings.
    #[allow(clippy::type_complexity)]
    fn closed_cases(
        &self,
        progress: &mut dyn FnMut(u64),
    ) -> Result<
        (
            Vec<(YouthId, Closed)>,
            std::collections::HashMap<MunicipalityCode, kui_domain::event::RetentionSettings>,
        ),
        EngineError,
    > {
        let mut cases: std::collections::HashMap<YouthId, (MunicipalityCode, Option<(NaiveDate, CloseReason)>)> =
            std::collections::HashMap::new();
        let mut settings = std::collections::HashMap::new();
        let mut visited = 0u64;
        self.scan_log(1, &mut |envelope| {
            visited += 1;
            if visited.is_multiple_of(16_384) {
                progress(envelope.position.0);
            }
            if !matches!(
                envelope.event_type.as_str(),
                "YouthReferred" | "CaseClosed" | "MunicipalityConfigured"
            ) {
                return Ok(());
            }
            match decode(envelope)? {
                Event::YouthReferred(e) => {
                    cases.insert(e.youth_id, (e.municipality, None));
                }
                Event::CaseClosed(e) => {
                    if let Some(case) = cases.get_mut(&e.youth_id) {
                        case.1 = Some((envelope.metadata.occurred_at.date_naive(), e.reason));
                    }
                }
                Event::MunicipalityConfigured(e) => {
                    settings.insert(e.municipality, e.retention);
                }
                _ => {}
            }
            Ok(())
        })?;
        let mut closed: Vec<(YouthId, Closed)> = cases
            .into_iter()
            .filter_map(|(youth, (municipality, closed))| {
                closed.map(|(closed_on, reason)| {
                    (
                        youth,
                        Closed {
                            municipality,
                            closed_on,
                            reason,
                        },
                    )
                })
            })
            .collect();
        closed.sort_by_key(|(youth, case)| (case.closed_on, *youth));
        Ok((closed, settings))
    }
}

/// `day` plus `years`, a 29 February landing on 28 February in a common year.
fn add_years(day: NaiveDate, years: u16) -> NaiveDate {
    day.checked_add_months(Months::new(u32::from(years) * 12))
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(day.year() + i32::from(years), 12, 31).unwrap_or(day))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
