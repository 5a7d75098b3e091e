//! The Danish civil registration number (CPR) and the birth date it encodes.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject, StringValidation};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// A CPR number, `DDMMYY-SSSS`, accepted with or without the dash.
///
/// The century of the birth year follows from the 7th digit (the first of the serial part):
///
/// | 7th digit | year 00-36 | 37-57 | 58-99 |
/// |---|---|---|---|
/// | 0-3 | 19xx | 19xx | 19xx |
/// | 4, 9 | 20xx | 19xx | 19xx |
/// | 5-8 | 20xx | 20xx | 18xx |
///
/// The modulus-11 check is not applied: numbers issued since 2007 need not satisfy it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cpr {
    digits: [u8; 10],
    birth_date: NaiveDate,
}

impl Cpr {
    /// Parses and validates a CPR number.
    pub fn parse(input: &str) -> Result<Self, InvalidInput> {
        let trimmed = input.trim();
        let compact: String = match trimmed.len() {
            10 => trimmed.to_owned(),
            11 if trimmed.as_bytes()[6] == b'-' => format!("{}{}", &trimmed[..6], &trimmed[7..]),
            _ => return Err(InvalidInput::new("cpr", "expected DDMMYY-SSSS or DDMMYYSSSS")),
        };
        let mut digits = [0u8; 10];
        for (slot, byte) in digits.iter_mut().zip(compact.bytes()) {
            if !byte.is_ascii_digit() {
                return Err(InvalidInput::new(
                    "cpr",
                    "expected DDMMYY-SSSS or DDMMYYSSSS (digits only)",
                ));
            }
            *slot = byte - b'0';
        }
        let day = u32::from(digits[0] * 10 + digits[1]);
        let month = u32::from(digits[2] * 10 + digits[3]);
        let yy = i32::from(digits[4] * 10 + digits[5]);
        let century = match (digits[6], yy) {
            (0..=3, _) => 1900,
            (4 | 9, 0..=36) => 2000,
            (4 | 9, _) => 1900,
            (_, 0..=57) => 2000,
            (_, _) => 1800,
        };
        let year = century + yy;
        let birth_date = NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| InvalidInput::new("cpr", format!("{day:02}-{month:02}-{year} is not a real date")))?;
        Ok(Self { digits, birth_date })
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The number as `DDMMYY-SSSS`.
    pub fn formatted(&self) -> String {
        let d: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        format!("{}-{}", &d[..6], &d[6..])
    }
}

impl fmt::Debug for Cpr {
    // Debug output ends up in logs: show only the birth date, never the serial part.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cpr({}-XXXX)", self.birth_date.format("%d%m%y"))
    }
}

impl fmt::Display for Cpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

impl FromStr for Cpr {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Cpr {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

// Written by hand: schemars ignores `#[serde(try_from, into)]`, and the derived schema
// described the private fields instead of the string that is stored.
impl JsonSchema for Cpr {
    fn schema_name() -> String {
        "Cpr".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            metadata: Some(Box::new(Metadata {
                description: Some("A CPR number as kui writes it, DDMMYY-SSSS.".to_owned()),
                ..Metadata::default()
            })),
            instance_type: Some(InstanceType::String.into()),
            string: Some(Box::new(StringValidation {
                pattern: Some("^[0-9]{6}-[0-9]{4}$".to_owned()),
                ..StringValidation::default()
            })),
            ..SchemaObject::default()
        }
        .into()
    }
}

impl From<Cpr> for String {
    fn from(value: Cpr) -> Self {
        value.formatted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn born(cpr: &str) -> NaiveDate {
        Cpr::parse(cpr).map(|c| c.birth_date()).unwrap_or(NaiveDate::MIN)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MAX)
    }

    #[test]
    fn century_follows_the_seventh_digit() {
        assert_eq!(born("010203-1234"), date(1903, 2, 1));
        assert_eq!(born("010203-4234"), date(2003, 2, 1));
        assert_eq!(born("010240-4234"), date(1940, 2, 1));
        assert_eq!(born("010236-9234"), date(2036, 2, 1));
        assert_eq!(born("010237-9234"), date(1937, 2, 1));
        assert_eq!(born("010257-5234"), date(2057, 2, 1));
        assert_eq!(born("010258-5234"), date(1858, 2, 1));
        assert_eq!(born("0102088234"), date(2008, 2, 1));
    }

    #[test]
    fn impossible_dates_are_rejected_with_the_date() {
        let err = Cpr::parse("310207-4321").err().map(|e| e.reason).unwrap_or_default();
        assert!(err.contains("31-02-2007"), "{err}");
        assert!(Cpr::parse("290201-4321").is_err(), "2001 is no leap year");
        assert!(Cpr::parse("290204-4321").is_ok(), "2004 is a leap year");
    }

    #[test]
    fn malformed_numbers_are_rejected() {
        for bad in ["", "12345", "010203+1234", "0102031234x", "01o203-1234", "010203--234"] {
            assert!(Cpr::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn serialises_with_dash_and_hides_serial_in_debug() {
        let cpr = Cpr::parse("0102084234").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::to_string(&cpr).ok(), Some("\"010208-4234\"".into()));
        assert!(!format!("{cpr:?}").contains("4234"));
    }
}
