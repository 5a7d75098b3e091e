//! The one-way migration of a log written before personal data was sealed.

use std::sync::Arc;

use chrono::NaiveDate;
use kui_domain::event::{NeedAssessed, StaffRegistered, YouthReferred};
use kui_domain::testing::noon;
use kui_domain::values::{Department, Indicator, NeedLevel, SchoolStatus};
use kui_domain::{Cpr, Event, YouthId};
use kui_engine::keys::KeyStore;
use kui_engine::{Engine, EngineError, FixedClock, SeededIds};
use kui_log::{
    Actor, AppendRequest, EventLog, ExpectedVersion, MemoryLog, Metadata, NewEvent, StreamAppend, StreamId, Version,
};
use uuid::Uuid;

use crate::helpers::{municipality, settings, staff};

fn append(log: &MemoryLog, stream: &str, version: u64, event_type: &str, schema: u16, payload: Vec<u8>) {
    let metadata = Metadata {
        actor: Actor {
            staff_id: None,
            role: "system".into(),
            department: None,
        },
        command_id: None,
        causation_id: None,
        correlation_id: None,
        occurred_at: noon(2026, 1, 15),
        recorded_at: noon(2026, 1, 15),
    };
    let expected = if version == 1 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(Version(version - 1))
    };
    log.append(AppendRequest {
        command_id: None,
        streams: vec![StreamAppend {
            stream: StreamId::new(stream).unwrap(),
            expected,
            events: vec![NewEvent {
                event_id: Uuid::from_u128(0x1000 + u128::from(log.head().unwrap().map_or(0, |(p, _)| p.0))),
                event_type: event_type.into(),
                schema_version: schema,
                payload,
                metadata,
            }],
        }],
    })
    .unwrap();
}

/// A log as an earlier kui wrote it: ids derived from the CPR number, `YouthReferred` v1,
/// every personal field in clear.
fn old_log() -> (Arc<MemoryLog>, YouthId) {
    let log = Arc::new(MemoryLog::new());
    let config = Event::from(settings());
    append(
        &log,
        &municipality().stream_name(),
        1,
        "MunicipalityConfigured",
        1,
        config.to_payload(),
    );
    let counsellor = staff(1);
    let registered = Event::from(StaffRegistered {
        staff_id: counsellor,
        name: "Mette".into(),
        department: Department::Uu,
        municipality: municipality(),
        capacity: 25,
    });
    append(
        &log,
        &counsellor.stream_name(),
        1,
        "StaffRegistered",
        2,
        registered.to_payload(),
    );
    let cpr = Cpr::parse("150309-4321").unwrap();
    let old_id = YouthId(Uuid::new_v5(
        &Uuid::from_u128(0x6b75_692d_796f_7574_682d_6e73_2d76_3100),
        cpr.formatted().as_bytes(),
    ));
    let referred = Event::from(YouthReferred {
        youth_id: old_id,
        cpr: Some(cpr.clone()),
        birth_date: cpr.birth_date(),
        name: "Emil Jensen".into(),
        municipality: municipality(),
        referred_on: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
        referred_by: counsellor,
        department: Department::Uu,
        indicators: vec![Indicator::HighAbsence],
        school_status: SchoolStatus::InEducation,
        note: "absence over 20 %".into(),
    });
    let mut v1: serde_json::Value = serde_json::from_slice(&referred.to_payload()).unwrap();
    v1.as_object_mut().unwrap().remove("birth_date");
    append(
        &log,
        &old_id.stream_name(),
        1,
        "YouthReferred",
        1,
        serde_json::to_vec(&v1).unwrap(),
    );
    let assessed = Event::from(NeedAssessed {
        youth_id: old_id,
        level: NeedLevel::C,
        assessed_by: counsellor,
        note: "lives with his grandmother".into(),
    });
    append(&log, &old_id.stream_name(), 2, "NeedAssessed", 1, assessed.to_payload());
    (log, old_id)
}

#[test]
fn an_old_log_is_copied_with_random_ids_and_every_personal_field_sealed() {
    let (source, old_id) = old_log();
    let target = Arc::new(MemoryLog::new());
    let engine = Engine::new(
        target.clone(),
        Arc::new(KeyStore::seeded(9)),
        Arc::new(FixedClock::new(noon(2026, 2, 1))),
        Arc::new(SeededIds::new(9)),
    );
    let migrated = engine.migrate_from(source.as_ref(), &mut |_| {}).unwrap();
    assert_eq!((migrated.events, migrated.youth, migrated.sealed), (4, 1, 2));
    let stored = target.read_all(kui_log::Position(1), 100).unwrap();
    let text: String = stored
        .iter()
        .map(|e| String::from_utf8_lossy(&e.payload).into_owned())
        .collect();
    for secret in ["150309", "Emil", "absence over", "grandmother", &old_id.0.to_string()] {
        assert!(!text.contains(secret), "{secret:?} survived the migration: {text}");
    }
    let cpr = Cpr::parse("150309-4321").unwrap();
    let new_id = engine.keys().lookup(&cpr).expect("registered");
    assert_ne!(new_id, old_id);
    let (youth, version) = engine.youth(new_id).unwrap().unwrap();
    assert_eq!((youth.name.as_str(), version), ("Emil Jensen", 2));
    assert_eq!(youth.birth_date, Some(cpr.birth_date()));
    engine.verify(&mut |_, _| {}).unwrap();
    // Event ids and times are kept.
    assert_eq!(
        stored[2].event_id,
        source.read_all(kui_log::Position(3), 1).unwrap()[0].event_id
    );

    // Not into a log that holds events, and not from a log that is sealed already.
    let again = engine.migrate_from(source.as_ref(), &mut |_| {});
    assert!(matches!(again, Err(EngineError::Invalid(_))), "{again:?}");
    let fresh = Engine::new(
        Arc::new(MemoryLog::new()),
        Arc::new(KeyStore::seeded(10)),
        Arc::new(FixedClock::new(noon(2026, 2, 1))),
        Arc::new(SeededIds::new(10)),
    );
    let sealed = fresh.migrate_from(target.as_ref(), &mut |_| {});
    assert!(
        matches!(sealed, Err(EngineError::Invalid(ref why)) if why.contains("sealed already")),
        "{sealed:?}"
    );
}
