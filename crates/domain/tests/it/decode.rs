//! Decoding stored events: every type round-trips, old versions are upcast, unknown and
//! future ones are errors.

use std::collections::BTreeSet;

use kui_domain::event::CATALOGUE;
use kui_domain::upcast::DEFAULT_CAPACITY;
use kui_domain::{DecodeError, Event};

use crate::helpers::*;

#[test]
fn samples_cover_the_whole_catalogue_at_current_versions() {
    let catalogue: BTreeSet<(&str, u16)> = CATALOGUE.iter().copied().collect();
    let samples = samples();
    let sampled: BTreeSet<(&str, u16)> = samples.iter().map(|e| (e.event_type(), e.schema_version())).collect();
    assert_eq!(sampled, catalogue, "samples() needs one event of every catalogued type");
    assert_eq!(
        samples.len(),
        CATALOGUE.len(),
        "samples() has one event per type, no more"
    );
}

#[test]
fn every_event_type_round_trips() {
    for event in samples() {
        let decoded = Event::decode(event.event_type(), event.schema_version(), &event.to_payload());
        match decoded {
            Ok(decoded) => assert_eq!(decoded, event),
            Err(e) => panic!("{} does not decode: {e}", event.event_type()),
        }
    }
}

#[test]
fn payload_bytes_and_json_agree() {
    for event in samples() {
        let from_bytes: serde_json::Value =
            serde_json::from_slice(&event.to_payload()).unwrap_or_else(|e| panic!("{}: {e}", event.event_type()));
        assert_eq!(from_bytes, event.to_json(), "{}", event.event_type());
    }
}

#[test]
fn staff_registered_v1_without_capacity_upcasts_to_the_default_capacity() {
    let v1 = format!(
        r#"{{"staff_id":"{}","name":"Mette Holm","department":"uu","municipality":540}}"#,
        counsellor()
    );
    match Event::decode("StaffRegistered", 1, v1.as_bytes()) {
        Ok(event) => assert_eq!(event, staff_registered(25)),
        Err(e) => panic!("v1 does not decode: {e}"),
    }
    assert_eq!(DEFAULT_CAPACITY, 25);
    // The current version must carry its capacity: the upcaster runs for v1 only.
    assert!(matches!(
        Event::decode("StaffRegistered", 2, v1.as_bytes()),
        Err(DecodeError::Payload { version: 2, .. })
    ));
}

#[test]
fn staff_registered_v1_keeps_a_capacity_it_already_has() {
    let v1 = format!(
        r#"{{"staff_id":"{}","name":"Mette Holm","department":"uu","municipality":540,"capacity":40}}"#,
        counsellor()
    );
    assert_eq!(
        Event::decode("StaffRegistered", 1, v1.as_bytes()).ok(),
        Some(staff_registered(40))
    );
}

#[test]
fn unknown_event_type_is_an_error() {
    match Event::decode("YouthAbducted", 1, b"{}") {
        Err(DecodeError::UnknownType { event_type }) => assert_eq!(event_type, "YouthAbducted"),
        other => panic!("expected UnknownType, got {other:?}"),
    }
}

#[test]
fn future_schema_version_is_an_error() {
    let event = staff_registered(25);
    match Event::decode("StaffRegistered", 3, &event.to_payload()) {
        Err(DecodeError::FutureVersion {
            event_type,
            version,
            known,
        }) => {
            assert_eq!((event_type.as_str(), version, known), ("StaffRegistered", 3, 2));
        }
        other => panic!("expected FutureVersion, got {other:?}"),
    }
}

#[test]
fn payload_that_does_not_match_the_type_is_an_error() {
    let referred = referred(&referral(YOUTH_16), opened_on());
    for payload in [&b"not json"[..], b"{}", &staff_registered(25).to_payload()] {
        assert!(
            matches!(
                Event::decode("YouthReferred", 1, payload),
                Err(DecodeError::Payload { .. })
            ),
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
    let mut bad_cpr = referred.to_json();
    bad_cpr["cpr"] = "310207-4321".into();
    let bytes = serde_json::to_vec(&bad_cpr).unwrap_or_default();
    assert!(matches!(
        Event::decode("YouthReferred", 1, &bytes),
        Err(DecodeError::Payload { .. })
    ));
}
