//! Moving whole logs: NDJSON export and import, and a summary of what a log holds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, Seek, SeekFrom, Write};

use kui_domain::Event;
use kui_log::LogError;

use crate::engine::{decode, Engine};
use crate::error::EngineError;
use crate::history::hex;

/// Envelopes imported per durable batch.
const IMPORT_BATCH: usize = 8_192;

/// What a log holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Events.
    pub events: u64,
    /// The head's hash, hex.
    pub head_hash: Option<String>,
    /// Events per type.
    pub by_type: BTreeMap<String, u64>,
    /// Young people ever referred.
    pub youth: u64,
    /// Of whom with an open case.
    pub open_cases: u64,
    /// Staff members.
    pub staff: u64,
    /// Meetings.
    pub meetings: u64,
    /// "540 Sønderborg (ages 15-30)".
    pub municipalities: Vec<String>,
    /// A few young people with a one-line description, for trying `history`.
    pub examples: Vec<(String, String)>,
}

impl Engine {
    /// Writes every event as one JSON line; returns how many.
    pub fn export_ndjson(&self, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<u64, EngineError> {
        Ok(kui_log::ndjson::write_ndjson(self.log().as_ref(), out, progress)?)
    }

    /// Imports an NDJSON export, all or nothing: a first pass parses every line, decodes
    /// every payload with the domain and checks positions, versions and the hash chain
    /// against the log's head; only then does a second pass write, in durable batches.
    /// `progress(stage, bytes_read)` reports both passes.
    pub fn import_ndjson<R: BufRead + Seek>(
        &self,
        input: &mut R,
        progress: &mut dyn FnMut(&'static str, u64),
    ) -> Result<u64, EngineError> {
        let head = self.log().head()?;
        let (mut expected_position, mut previous_hash) = match head {
            Some((position, hash)) => (position.0 + 1, hash),
            None => (1, [0u8; 32]),
        };
        let mut versions: HashMap<String, u64> = HashMap::new();
        let mut checked = 0u64;
        for_each_line(input, &mut |line_number, text, bytes| {
            let envelope = kui_log::ndjson::read_ndjson_line(text, line_number)?;
            let fail = |reason: String| {
                EngineError::Log(LogError::Ndjson {
                    line: line_number,
                    reason,
                })
            };
            if envelope.position.0 != expected_position {
                return Err(fail(format!(
                    "position {} where {expected_position} was expected",
                    envelope.position.0
                )));
            }
            if envelope.prev_hash != previous_hash {
                return Err(fail(format!(
                    "position {}: the previous hash does not link to the chain",
                    envelope.position.0
                )));
            }
            if kui_log::envelope_hash(&envelope) != envelope.hash {
                return Err(fail(format!(
                    "position {}: the hash does not match the event",
                    envelope.position.0
                )));
            }
            let version = match versions.get(envelope.stream.as_str()) {
                Some(version) => *version,
                None => self.log().stream_version(&envelope.stream)?.map(|v| v.0).unwrap_or(0),
            };
            if envelope.version.0 != version + 1 {
                return Err(fail(format!(
                    "{} version {} follows {version}",
                    envelope.stream, envelope.version.0
                )));
            }
            decode(&envelope)?;
            versions.insert(envelope.stream.to_string(), envelope.version.0);
            expected_position += 1;
            previous_hash = envelope.hash;
            checked += 1;
            if checked.is_multiple_of(8_192) {
                progress("checking", bytes);
            }
            Ok(())
        })?;
        input
            .seek(SeekFrom::Start(0))
            .map_err(|e| EngineError::Log(LogError::Backend(Box::new(e))))?;
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        let mut imported = 0u64;
        for_each_line(input, &mut |line_number, text, bytes| {
            batch.push(kui_log::ndjson::read_ndjson_line(text, line_number)?);
            if batch.len() >= IMPORT_BATCH {
                self.log().import(&batch)?;
                imported += batch.len() as u64;
                batch.clear();
                progress("importing", bytes);
            }
            Ok(())
        })?;
        if !batch.is_empty() {
            self.log().import(&batch)?;
            imported += batch.len() as u64;
        }
        Ok(imported)
    }

    /// Counts what the log holds.
    pub fn summary(&self, progress: &mut dyn FnMut(u64)) -> Result<Summary, EngineError> {
        let mut summary = Summary {
            head_hash: self.log().head()?.map(|(_, hash)| hex(&hash)),
            ..Summary::default()
        };
        let mut open: HashSet<kui_domain::YouthId> = HashSet::new();
        let mut youth: HashSet<kui_domain::YouthId> = HashSet::new();
        summary.events = self.scan_log(1, &mut |envelope| {
            if envelope.position.0.is_multiple_of(16_384) {
                progress(envelope.position.0);
            }
            *summary.by_type.entry(envelope.event_type.clone()).or_default() += 1;
            let interesting = matches!(
                envelope.event_type.as_str(),
                "YouthReferred" | "CaseClosed" | "StaffRegistered" | "MeetingScheduled" | "MunicipalityConfigured"
            );
            if !interesting {
                return Ok(());
            }
            // Only the few examples need a name: opened under the young person's key.
            let wanted_example = envelope.event_type == "YouthReferred" && summary.examples.len() < 5;
            let event = if wanted_example {
                self.decode_personal(envelope)?
            } else {
                decode(envelope)?
            };
            match event {
                Event::YouthReferred(e) => {
                    youth.insert(e.youth_id);
                    open.insert(e.youth_id);
                    if summary.examples.len() < 5 && e.referred_on.format("%d").to_string() == "01" {
                        summary.examples.push((
                            e.youth_id.to_string(),
                            format!("{}, referred {}", e.name, e.referred_on),
                        ));
                    }
                }
                Event::CaseClosed(e) => {
                    open.remove(&e.youth_id);
                }
                Event::StaffRegistered(_) => summary.staff += 1,
                Event::MeetingScheduled(_) => summary.meetings += 1,
                Event::MunicipalityConfigured(e) => summary.municipalities.push(format!(
                    "{} {} (ages {}-{})",
                    e.municipality, e.name, e.age_band.from, e.age_band.until
                )),
                _ => {}
            }
            Ok(())
        })?;
        summary.municipalities.dedup();
        summary.youth = youth.len() as u64;
        summary.open_cases = open.len() as u64;
        Ok(summary)
    }
}

/// Calls `visit(line_number, text, bytes_read_so_far)` for every non-empty line.
fn for_each_line<R: BufRead>(
    input: &mut R,
    visit: &mut dyn FnMut(u64, &str, u64) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let mut line = String::new();
    let mut line_number = 0u64;
    let mut bytes = 0u64;
    loop {
        line.clear();
        let read = input.read_line(&mut line).map_err(|error| {
            EngineError::Log(LogError::Ndjson {
                line: line_number + 1,
                reason: format!("cannot read: {error}"),
            })
        })?;
        if read == 0 {
            return Ok(());
        }
        line_number += 1;
        bytes += read as u64;
        if !line.ends_with('\n') {
            return Err(EngineError::Log(LogError::Ndjson {
                line: line_number,
                reason: "the last line is cut off (no line break): the file is truncated".into(),
            }));
        }
        let text = line.trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            continue;
        }
        visit(line_number, text, bytes)?;
    }
}
