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
use kui_log::Envelope;
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
}

fn date_of(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

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
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0u32, |value, &byte| {
            byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    if bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-' {
        let year = i32::try_from(digits(0..4)?).ok()?;
        return NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?);
    }
    text.parse().ok()
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
    fn bad_payloads_name_the_type() {
        let error = Fact::decode("ContactRecorded", 1, br#"{"youth_id":"x"}"#).expect_err("invalid payload");
        assert!(error.to_string().contains("ContactRecorded"), "{error}");
        let error = Fact::decode("ContactRecorded", 1, br#"{"youth_id":"0190b5a0-0000-7000-8000-000000000001","by":"0190b5a0-0000-7000-8000-000000000002","on":"2024-02-30","offer_made":true}"#)
            .expect_err("impossible date");
        assert!(matches!(error, DecodeError::Payload { .. }));
    }
}
