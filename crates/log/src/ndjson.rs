//! NDJSON export and import (`kui export` / `kui import`): one envelope per line.
//!
//! A line is one JSON object with the fields, in this order: `position`, `stream`,
//! `version`, `event_id`, `event_type`, `schema_version`, `metadata` (`actor` with
//! `staff_id`, `role`, `department`; `command_id`, `causation_id`, `correlation_id`,
//! `occurred_at`, `recorded_at` as RFC 3339), the payload, `prev_hash` and `hash` (64
//! lowercase hex digits each).
//!
//! The payload is embedded verbatim as a JSON value under `payload` when its bytes are
//! exactly one JSON value without surrounding whitespace and without line breaks (what
//! `serde_json::to_vec` produces).
//! Any other payload bytes are written as `payload_hex` instead, so the export is
//! lossless for every stored event: export, import into a fresh log and export again
//! gives identical bytes, and the hash chain checks out on import.
//!
//! This is also the serde form of [`Envelope`]; deserializing it needs serde_json (the
//! payload is read as a raw JSON value).

use std::fmt;
use std::io::{BufRead, BufWriter, Write};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::error::LogError;
use crate::event_log::{try_scan, EventLog};
use crate::types::{Envelope, Metadata, Position, StreamId, Version};

/// How many envelopes [`import_ndjson`] hands to [`EventLog::import`] at once.
pub const IMPORT_BATCH: usize = 10_000;
/// `progress` is called every this many events.
const PROGRESS_EVERY: u64 = 10_000;

/// Lowercase hex of a hash, for display and export.
pub fn hash_hex(hash: &[u8; 32]) -> String {
    HexBytes(hash).to_string()
}

struct HexBytes<'a>(&'a [u8]);

impl fmt::Display for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for HexBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |byte: u8| char::from(byte).to_digit(16);
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect()
}

/// Deserializes a hash from 64 hex digits.
struct HexHash([u8; 32]);

impl<'de> Deserialize<'de> for HexHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_hex(&text)
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(HexHash)
            .ok_or_else(|| D::Error::custom("a hash must be 64 hex digits"))
    }
}

/// The payload as an embeddable JSON value, if its bytes are exactly one.
fn embeddable(payload: &[u8]) -> Option<&RawValue> {
    if payload.contains(&b'\n') || payload.contains(&b'\r') {
        return None;
    }
    let raw: &RawValue = serde_json::from_slice(payload).ok()?;
    (raw.get().len() == payload.len()).then_some(raw)
}

#[derive(Serialize)]
struct EnvelopeLine<'a> {
    position: u64,
    stream: &'a str,
    version: u64,
    event_id: &'a Uuid,
    event_type: &'a str,
    schema_version: u16,
    metadata: &'a Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_hex: Option<HexBytes<'a>>,
    prev_hash: HexBytes<'a>,
    hash: HexBytes<'a>,
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let payload = embeddable(&self.payload);
        EnvelopeLine {
            position: self.position.0,
            stream: self.stream.as_str(),
            version: self.version.0,
            event_id: &self.event_id,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            metadata: &self.metadata,
            payload,
            payload_hex: payload.is_none().then_some(HexBytes(&self.payload)),
            prev_hash: HexBytes(&self.prev_hash),
            hash: HexBytes(&self.hash),
        }
        .serialize(serializer)
    }
}

/// Reads `payload` as a raw value even when it is `null` (a plain `Option` would turn a
/// `null` payload into "absent").
fn raw_payload<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnedEnvelopeLine {
    position: u64,
    stream: StreamId,
    version: u64,
    event_id: Uuid,
    event_type: String,
    schema_version: u16,
    metadata: Metadata,
    #[serde(default, deserialize_with = "raw_payload")]
    payload: Option<Box<RawValue>>,
    #[serde(default)]
    payload_hex: Option<String>,
    prev_hash: HexHash,
    hash: HexHash,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let line = OwnedEnvelopeLine::deserialize(deserializer)?;
        let payload = match (line.payload, line.payload_hex) {
            (Some(raw), None) => raw.get().as_bytes().to_vec(),
            (None, Some(hex)) => parse_hex(&hex).ok_or_else(|| D::Error::custom("payload_hex is not valid hex"))?,
            _ => {
                return Err(D::Error::custom(
                    "exactly one of payload and payload_hex must be present",
                ))
            }
        };
        Ok(Envelope {
            position: Position(line.position),
            stream: line.stream,
            version: Version(line.version),
            event_id: line.event_id,
            event_type: line.event_type,
            schema_version: line.schema_version,
            payload,
            metadata: line.metadata,
            prev_hash: line.prev_hash.0,
            hash: line.hash.0,
        })
    }
}

/// Writes every durable event of `log` to `writer`, one JSON object per line; returns
/// the number of events written.
///
/// `progress(position_reached)` is called every 10,000 events and at the end.
pub fn write_ndjson(
    log: &dyn EventLog,
    writer: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, LogError> {
    let mut out = BufWriter::with_capacity(1 << 20, writer);
    let mut line = Vec::with_capacity(4096);
    let mut last_position = 0;
    let mut until_progress = PROGRESS_EVERY;
    let written = try_scan(log, Position(1), Position(u64::MAX), |envelope| {
        line.clear();
        serde_json::to_writer(&mut line, envelope).map_err(|error| LogError::Backend(Box::new(error)))?;
        line.push(b'\n');
        out.write_all(&line).map_err(LogError::io)?;
        last_position = envelope.position.0;
        until_progress -= 1;
        if until_progress == 0 {
            progress(last_position);
            until_progress = PROGRESS_EVERY;
        }
        Ok::<(), LogError>(())
    })?;
    out.flush().map_err(LogError::io)?;
    progress(last_position);
    Ok(written)
}

/// Parses one exported line (without its line break) back into the exact envelope.
///
/// `line_number` (1-based) is only used in the error, [`LogError::Ndjson`].
pub fn read_ndjson_line(line: &str, line_number: u64) -> Result<Envelope, LogError> {
    serde_json::from_str(line).map_err(|error| LogError::Ndjson {
        line: line_number,
        reason: error.to_string(),
    })
}

/// Imports an NDJSON export into `log` (whose head must be where the export starts,
/// usually an empty log); returns the number of events imported.
///
/// Lines are parsed and imported in batches of [`IMPORT_BATCH`], each checked and made
/// durable by [`EventLog::import`] before the next is read.
/// A bad line or envelope stops the import with an error naming the line or position;
/// the batches before it stay imported (they form a valid log), the failing batch
/// writes nothing.
/// `progress(position_reached)` is called after every batch.
pub fn import_ndjson(
    log: &dyn EventLog,
    reader: &mut dyn BufRead,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, LogError> {
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    let mut line = String::new();
    let mut line_number = 0;
    let mut imported = 0;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(|error| {
            if error.kind() == std::io::ErrorKind::InvalidData {
                LogError::Ndjson {
                    line: line_number + 1,
                    reason: "line is not valid utf-8".into(),
                }
            } else {
                LogError::io(error)
            }
        })?;
        if read > 0 {
            line_number += 1;
            let text = line.strip_suffix('\n').unwrap_or(&line);
            let text = text.strip_suffix('\r').unwrap_or(text);
            batch.push(read_ndjson_line(text, line_number)?);
        }
        if batch.len() >= IMPORT_BATCH || (read == 0 && !batch.is_empty()) {
            log.import(&batch)?;
            imported += batch.len() as u64;
            if let Some(last) = batch.last() {
                progress(last.position.0);
            }
            batch.clear();
        }
        if read == 0 {
            return Ok(imported);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::canonical::blank_envelope;

    fn envelope_with_payload(payload: &[u8]) -> Envelope {
        let mut envelope = blank_envelope();
        envelope.position = Position(1);
        envelope.stream = StreamId::new("s-1").expect("valid id");
        envelope.version = Version(1);
        envelope.event_type = "Happened".into();
        envelope.payload = payload.to_vec();
        envelope.metadata.occurred_at = DateTime::from_timestamp(1_700_000_000, 1_000).expect("in range");
        envelope.metadata.recorded_at = DateTime::from_timestamp(1_483_228_799, 1_999_999_999).expect("leap second");
        envelope.hash = [0xab; 32];
        envelope
    }

    #[test]
    fn lines_round_trip_for_json_and_non_json_payloads() {
        let payloads: [&[u8]; 7] = [
            br#"{"a":1,"b":[true,null]}"#,
            b"null",
            b" {\"padded\":true}",
            b"{\n\"pretty\": true\n}",
            b"not json",
            &[0xff, 0x00, 0x10],
            b"",
        ];
        for payload in payloads {
            let envelope = envelope_with_payload(payload);
            let line = serde_json::to_string(&envelope).expect("serializes");
            assert!(!line.contains('\n'), "{line}");
            let back = read_ndjson_line(&line, 1).expect("parses");
            assert_eq!(back, envelope, "payload {payload:?}");
            assert_eq!(serde_json::to_string(&back).expect("serializes"), line);
        }
    }

    #[test]
    fn json_payload_is_embedded_verbatim() {
        let line = serde_json::to_string(&envelope_with_payload(br#"{"z":1.50,"a":"x"}"#)).expect("serializes");
        assert!(line.contains(r#""payload":{"z":1.50,"a":"x"}"#), "{line}");
        assert!(line.contains(&format!(r#""hash":"{}""#, "ab".repeat(32))), "{line}");
    }

    #[test]
    fn truncated_and_malformed_lines_name_the_line() {
        let line = serde_json::to_string(&envelope_with_payload(b"{}")).expect("serializes");
        let truncated = &line[..line.len() / 2];
        match read_ndjson_line(truncated, 17) {
            Err(LogError::Ndjson { line: 17, .. }) => {}
            other => panic!("expected an ndjson error on line 17, got {other:?}"),
        }
        let bad_hash = line.replace(&"ab".repeat(32), "xyz");
        assert!(matches!(
            read_ndjson_line(&bad_hash, 3),
            Err(LogError::Ndjson { line: 3, .. })
        ));
        let both = line.replacen("\"payload\":{}", "\"payload\":{},\"payload_hex\":\"00\"", 1);
        assert!(matches!(
            read_ndjson_line(&both, 4),
            Err(LogError::Ndjson { line: 4, .. })
        ));
        let unknown = line.replacen('{', "{\"extra\":1,", 1);
        assert!(matches!(
            read_ndjson_line(&unknown, 5),
            Err(LogError::Ndjson { line: 5, .. })
        ));
    }
}
