//! Upcasters: turn an old schema version's JSON into the current one at read time.
//!
//! Each step takes version `n` to `n + 1`; `upcast` applies steps until the current
//! version. Stored bytes are never rewritten.

use serde_json::Value;

/// Coordinator capacity assumed for staff registered before capacity was recorded
/// (Aalborg's estimate of about 25 young people per contact person).
pub const DEFAULT_CAPACITY: u16 = 25;

/// Upcasts `payload` of `event_type` from `version` to the current version.
pub fn upcast(event_type: &str, version: u16, payload: Value) -> Value {
    let mut value = payload;
    let mut at = version;
    loop {
        let next = match (event_type, at) {
            ("StaffRegistered", 1) => staff_registered_v1_to_v2(value),
            ("YouthReferred", 1) => youth_referred_v1_to_v2(value),
            // v1 recorded no purpose and no classes: the defaults say so (`unstated`).
            ("CaseRead", 1) => value,
            _ => return value,
        };
        value = next;
        at += 1;
    }
}

/// v1 had no capacity: every staff member got the municipal default.
fn staff_registered_v1_to_v2(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.entry("capacity").or_insert(Value::from(DEFAULT_CAPACITY));
    }
    value
}

/// v1 held the CPR number in clear and no birth date: the birth date follows from the
/// number (a v1 payload whose number does not parse keeps no birth date and fails to
/// decode, as it would have before).
fn youth_referred_v1_to_v2(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        let birth = map
            .get("cpr")
            .and_then(Value::as_str)
            .and_then(|text| crate::cpr::Cpr::parse(text).ok())
            .map(|cpr| cpr.birth_date().to_string());
        if let Some(birth) = birth {
            map.entry("birth_date").or_insert(Value::from(birth));
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use crate::event::Event;

    #[test]
    fn staff_registered_v1_gets_the_default_capacity() {
        let v1 = br#"{"staff_id":"0190b5a0-0000-7000-8000-000000000001","name":"Mette Holm","department":"uu","municipality":540}"#;
        match Event::decode("StaffRegistered", 1, v1) {
            Ok(Event::StaffRegistered(e)) => assert_eq!(e.capacity, super::DEFAULT_CAPACITY),
            other => panic!("expected StaffRegistered, got {other:?}"),
        }
        // The current version without capacity is invalid: the upcaster ran only for v1.
        assert!(Event::decode("StaffRegistered", 2, v1).is_err());
    }

    #[test]
    fn youth_referred_v1_gets_its_birth_date_from_the_cpr_number() {
        let v1 = br#"{"youth_id":"0190b5a0-0000-7000-9000-000000000001","cpr":"170308-4123","name":"Emil Jensen","municipality":540,"referred_on":"2024-02-01","referred_by":"0190b5a0-0000-7000-8000-000000000001","department":"uu","indicators":[],"school_status":"in_education","note":""}"#;
        match Event::decode("YouthReferred", 1, v1) {
            Ok(Event::YouthReferred(e)) => {
                assert_eq!(e.birth_date.to_string(), "2008-03-17");
                assert_eq!(e.cpr.map(|cpr| cpr.formatted()), Some("170308-4123".to_owned()));
            }
            other => panic!("expected YouthReferred, got {other:?}"),
        }
    }
}
