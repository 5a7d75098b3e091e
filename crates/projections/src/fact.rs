//! What the read models fold: an event reduced to what they read, with its position and
//! business date.
//!
//! Decoding is the cost of a rebuild, so the three most frequent event types (contacts,
//! plan updates, school status changes, together about two thirds of a municipality's log)
//! are read into slim structs that skip what no read model uses (a plan's text, free-text
//! notes) and parse dates without chrono's general parser.
//! Every other type is decoded by `kui_domain::Event::decode`, upcasting included, so the
//! catalogue stays the one definition of the payloads.
//! A test checks both decoders agree on the committed fixture.

use chrono::{DateTime, NaiveDate, Utc};
use kui_domain::values::{PlanKind, SchoolStatus};
use kui_domain::{DecodeError, Event, StaffId, YouthId};
use kui_log::{Envelope, EventRef};
use serde::de::{Deserializer, Error as _, Visitor};
use serde::Deserialize;

/// Where and when an event happened, as the read models need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Global position in the log.
    pub position: u64,
    /// The business date (the day the fact happened, in UTC).
    pub on: NaiveDate,
}

impl Stamp {
    /// The stamp of a stored event.
    pub fn of(envelope: &Envelope) -> Stamp {
        Stamp {
            position: envelope.position.0,
            on: date_of(envelope.metadata.occurred_at),
        }
    }

    /// The stamp of a scanned event.
    pub fn of_ref(event: &EventRef<'_>) -> Stamp {
        Stamp {
            position: event.position.0,
            on: date_of(event.occurred_at),
        }
    }
}

fn date_of(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

/// A block of facts in position order, as a fold hands them to the models.
pub type Facts = [(Stamp, Fact)];

/// Guidance contact, slim form of `ContactRecorded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Contact {
    /// The young person.
    pub youth_id: YouthId,
    /// Who made contact.
    pub by: StaffId,
    /// When.
    #[serde(deserialize_with = "iso_date")]
    pub on: NaiveDate,
    /// Whether an offer was made.
    pub offer_made: bool,
}

/// A plan change, slim form of `PlanUpdated` (the plan's text is skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PlanChange {
    /// The young person.
    pub youth_id: YouthId,
    /// Revision number.
    pub revision: u32,
    /// Education plan or job plan.
    pub kind: PlanKind,
    /// Who changed it.
    pub updated_by: StaffId,
}

/// An education status change, slim form of `SchoolStatusChanged`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SchoolChange {
    /// The young person.
    pub youth_id: YouthId,
    /// The new status.
    pub status: SchoolStatus,
    /// The business date of the change.
    #[serde(deserialize_with = "iso_date")]
    pub on: NaiveDate,
}

/// One event as the read models see it.
// Every fact but three frequent types is a whole `Event`: boxing it would add an
// allocation per event to every fold, to save space only for the three slim ones.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// `ContactRecorded`.
    Contact(Contact),
    /// `PlanUpdated`.
    PlanChange(PlanChange),
    /// `SchoolStatusChanged`.
    SchoolChange(SchoolChange),
    /// Every other event, fully decoded.
    Event(Event),
}

impl Fact {
    /// Decodes a stored event.
    pub fn decode(event_type: &str, schema_version: u16, payload: &[u8]) -> Result<Fact, DecodeError> {
        if schema_version == 1 {
            if let Some(fact) = canonical::decode(event_type, payload) {
                return Ok(fact);
            }
        }
        let slim = match (event_type, schema_version) {
            ("ContactRecorded", 1) => serde_json::from_slice(payload).map(Fact::Contact),
            ("PlanUpdated", 1) => serde_json::from_slice(payload).map(Fact::PlanChange),
            ("SchoolStatusChanged", 1) => serde_json::from_slice(payload).map(Fact::SchoolChange),
            _ => return Event::decode(event_type, schema_version, payload).map(Fact::from),
        };
        slim.map_err(|source| DecodeError::Payload {
            event_type: event_type.to_owned(),
            version: schema_version,
            source,
        })
    }

    /// Decodes the event of a stored envelope.
    pub fn of(envelope: &Envelope) -> Result<Fact, DecodeError> {
        Fact::decode(&envelope.event_type, envelope.schema_version, &envelope.payload)
    }

    /// The young person the fact is about, if any.
    pub fn youth_id(&self) -> Option<YouthId> {
        match self {
            Fact::Contact(c) => Some(c.youth_id),
            Fact::PlanChange(p) => Some(p.youth_id),
            Fact::SchoolChange(s) => Some(s.youth_id),
            Fact::Event(event) => event.youth_id(),
        }
    }
}

impl From<Event> for Fact {
    fn from(event: Event) -> Fact {
        match event {
            Event::ContactRecorded(e) => Fact::Contact(Contact {
                youth_id: e.youth_id,
                by: e.by,
                on: e.on,
                offer_made: e.offer_made,
            }),
            Event::PlanUpdated(e) => Fact::PlanChange(PlanChange {
                youth_id: e.youth_id,
                revision: e.revision,
                kind: e.kind,
                updated_by: e.updated_by,
            }),
            Event::SchoolStatusChanged(e) => Fact::SchoolChange(SchoolChange {
                youth_id: e.youth_id,
                status: e.status,
                on: e.on,
            }),
            other => Fact::Event(other),
        }
    }
}

/// A fast path for the byte layout serde_json writes for the slim types' payloads (fields
/// in declaration order, no whitespace, no escapes in ids, dates and enum names).
/// Anything else (another producer's formatting, an escape, an unknown value) returns
/// `None` and goes through serde, so this only ever decides how fast, never what.
mod canonical {
    use chrono::NaiveDate;
    use kui_domain::values::{PlanKind, SchoolStatus};
    use kui_domain::{StaffId, YouthId};
    use uuid::Uuid;

    use super::{parse_date_bytes, Contact, Fact, PlanChange, SchoolChange};

    struct Cursor<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    impl<'a> Cursor<'a> {
        fn literal(&mut self, text: &str) -> Option<()> {
            let end = self.at + text.len();
            (self.bytes.get(self.at..end)? == text.as_bytes()).then(|| self.at = end)
        }

        /// The bytes of a string without escapes (callers only accept ascii from it).
        fn string(&mut self) -> Option<&'a [u8]> {
            self.literal("\"")?;
            let rest = self.bytes.get(self.at..)?;
            let len = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
            if rest[len] != b'"' {
                return None;
            }
            self.at += len + 1;
            Some(&rest[..len])
        }

        fn uuid(&mut self) -> Option<Uuid> {
            Uuid::try_parse_ascii(self.string()?).ok()
        }

        fn date(&mut self) -> Option<NaiveDate> {
            parse_date_bytes(self.string()?)
        }

        fn number(&mut self) -> Option<u32> {
            let rest = self.bytes.get(self.at..)?;
            let len = rest.iter().position(|b| !b.is_ascii_digit())?;
            if len == 0 || len > 9 {
                return None;
            }
            self.at += len;
            std::str::from_utf8(&rest[..len]).ok()?.parse().ok()
        }

        fn boolean(&mut self) -> Option<bool> {
            if self.literal("true").is_some() {
                Some(true)
            } else {
                self.literal("false").map(|()| false)
            }
        }

        fn end(&self) -> Option<()> {
            (self.at == self.bytes.len()).then_some(())
        }
    }

    pub(super) fn decode(event_type: &str, payload: &[u8]) -> Option<Fact> {
        let mut c = Cursor { bytes: payload, at: 0 };
        match event_type {
            "ContactRecorded" => {
                c.literal("{\"youth_id\":")?;
                let youth_id = YouthId(c.uuid()?);
                c.literal(",\"by\":")?;
                let by = StaffId(c.uuid()?);
                c.literal(",\"on\":")?;
                let on = c.date()?;
                c.literal(",\"offer_made\":")?;
                let offer_made = c.boolean()?;
                c.literal("}")?;
                c.end()?;
                Some(Fact::Contact(Contact {
                    youth_id,
                    by,
                    on,
                    offer_made,
                }))
            }
            "SchoolStatusChanged" => {
                c.literal("{\"youth_id\":")?;
                let youth_id = YouthId(c.uuid()?);
                c.literal(",\"status\":")?;
                let status = c.string()?;
                let status = *SchoolStatus::ALL.iter().find(|s| s.as_str().as_bytes() == status)?;
                c.literal(",\"on\":")?;
                let on = c.date()?;
                c.literal("}")?;
                c.end()?;
                Some(Fact::SchoolChange(SchoolChange { youth_id, status, on }))
            }
            "PlanUpdated" => {
                c.literal("{\"youth_id\":")?;
                let youth_id = YouthId(c.uuid()?);
                c.literal(",\"revision\":")?;
                let revision = c.number()?;
                c.literal(",\"kind\":")?;
                let kind = c.string()?;
                let kind = *PlanKind::ALL.iter().find(|k| k.as_str().as_bytes() == kind)?;
                c.literal(",\"plan\":{")?;
                // The plan sits between here and the last field, which the fold does not
                // read: take `updated_by` from the fixed-length tail.
                const TAIL: &str = ",\"updated_by\":\"";
                let tail_at = payload.len().checked_sub(TAIL.len() + 36 + 2)?;
                if tail_at < c.at || !payload.ends_with(b"\"}") {
                    return None;
                }
                let mut tail = Cursor {
                    bytes: payload,
                    at: tail_at,
                };
                tail.literal(TAIL)?;
                let updated_by = StaffId(Uuid::try_parse_ascii(payload.get(tail.at..tail.at + 36)?).ok()?);
                // The plan object must close right before the tail.
                if payload.get(tail_at - 1) != Some(&b'}') {
                    return None;
                }
                Some(Fact::PlanChange(PlanChange {
                    youth_id,
                    revision,
                    kind,
                    updated_by,
                }))
            }
            _ => None,
        }
    }
}

/// Deserialises a `YYYY-MM-DD` date, the form chrono writes, without allocating.
fn iso_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    struct DateVisitor;
    impl Visitor<'_> for DateVisitor {
        type Value = NaiveDate;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a date as YYYY-MM-DD")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<NaiveDate, E> {
            parse_date(text).ok_or_else(|| E::custom(format!("{text:?} is not a date as YYYY-MM-DD")))
        }
    }
    deserializer.deserialize_str(DateVisitor).map_err(D::Error::custom)
}

/// Parses `YYYY-MM-DD` (a four-digit year), falling back to chrono for anything else.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    parse_date_bytes(text.as_bytes()).or_else(|| text.parse().ok())
}

/// Parses exactly `YYYY-MM-DD` (a four-digit year) from bytes.
fn parse_date_bytes(bytes: &[u8]) -> Option<NaiveDate> {
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0u32, |value, &byte| {
            byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    if bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-' {
        let year = i32::try_from(digits(0..4)?).ok()?;
        return NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_fast_and_reject_nonsense() {
        assert_eq!(parse_date("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("20x3-01-01"), None);
        assert_eq!(parse_date("+12023-01-01"), "+12023-01-01".parse().ok());
    }

    #[test]
    fn slim_and_full_decoders_agree() {
        let contact = br#"{"youth_id":"0190b5a0-0000-7000-8000-000000000001","by":"0190b5a0-0000-7000-8000-000000000002","on":"2024-03-01","offer_made":true}"#;
        let full = Event::decode("ContactRecorded", 1, contact).map(Fact::from);
        assert_eq!(Fact::decode("ContactRecorded", 1, contact).ok(), full.ok());
    }

    #[test]
    fn the_canonical_fast_path_falls_back_on_other_layouts() {
        let youth = "0190b5a0-0000-7000-8000-000000000001";
        let staff = "0190b5a0-0000-7000-8000-000000000002";
        let canonical = format!(
            r#"{{"youth_id":"{youth}","revision":3,"kind":"job_plan","plan":{{"goals":["Job"],"actions":[]}},"updated_by":"{staff}"}}"#
        );
        let spaced = format!(
            r#"{{ "updated_by": "{staff}", "youth_id": "{youth}", "kind": "job_plan", "revision": 3, "plan": {{"goals": ["Job"], "actions": []}} }}"#
        );
        let fast = canonical::decode("PlanUpdated", canonical.as_bytes()).expect("canonical layout");
        assert_eq!(canonical::decode("PlanUpdated", spaced.as_bytes()), None);
        assert_eq!(
            Fact::decode("PlanUpdated", 1, spaced.as_bytes()).ok(),
            Some(fast.clone())
        );
        assert_eq!(Fact::decode("PlanUpdated", 1, canonical.as_bytes()).ok(), Some(fast));
        // An escape, an unknown value or a truncated payload leave the fast path.
        let escaped = format!(r#"{{"youth_id":"{youth}","by":"{staff}","on":"2024\u002d03-01","offer_made":true}}"#);
        assert_eq!(canonical::decode("ContactRecorded", escaped.as_bytes()), None);
        assert!(Fact::decode("ContactRecorded", 1, escaped.as_bytes()).is_ok());
        let unknown = format!(r#"{{"youth_id":"{youth}","status":"sailing","on":"2024-03-01"}}"#);
        assert_eq!(canonical::decode("SchoolStatusChanged", unknown.as_bytes()), None);
        assert!(Fact::decode("SchoolStatusChanged", 1, unknown.as_bytes()).is_err());
        let truncated = &canonical.as_bytes()[..canonical.len() - 3];
        assert_eq!(canonical::decode("PlanUpdated", truncated), None);
        assert!(Fact::decode("PlanUpdated", 1, truncated).is_err());
    }

    #[test]
    fn bad_payloads_name_the_type() {
        let error = Fact::decode("ContactRecorded", 1, br#"{"youth_id":"x"}"#).expect_err("invalid payload");
        assert!(error.to_string().contains("ContactRecorded"), "{error}");
        let error = Fact::decode("ContactRecorded", 1, br#"{"youth_id":"0190b5a0-0000-7000-8000-000000000001","by":"0190b5a0-0000-7000-8000-000000000002","on":"2024-02-30","offer_made":true}"#)
            .expect_err("impossible date");
        assert!(matches!(error, DecodeError::Payload { .. }));
    }
}
