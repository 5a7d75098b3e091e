//! Export and import.

use std::io::Cursor;

use kui_domain::testing::noon;
use kui_engine::EngineError;

use crate::helpers::world;

#[test]
fn export_then_import_is_lossless_and_verifies() {
    let world = world();
    world.refer("150309-4321");
    world.refer("160309-4321");
    let mut exported = Vec::new();
    let n = world.engine.export_ndjson(&mut exported, &mut |_| {}).unwrap();
    assert_eq!(n, world.event_count());

    let target = empty_world();
    let imported = target
        .engine
        .import_ndjson(&mut Cursor::new(exported.clone()), &mut |_, _| {})
        .unwrap();
    assert_eq!(imported, n);
    let mut again = Vec::new();
    target.engine.export_ndjson(&mut again, &mut |_| {}).unwrap();
    assert_eq!(again, exported);
    target.engine.verify(&mut |_, _| {}).unwrap();
}

#[test]
fn a_truncated_or_tampered_import_writes_nothing() {
    let world = world();
    world.refer("150309-4321");
    let mut exported = Vec::new();
    world.engine.export_ndjson(&mut exported, &mut |_| {}).unwrap();

    let truncated = exported[..exported.len() - 20].to_vec();
    let target = empty_world();
    let result = target.engine.import_ndjson(&mut Cursor::new(truncated), &mut |_, _| {});
    assert!(
        matches!(result, Err(EngineError::Log(kui_log::LogError::Ndjson { .. }))),
        "{result:?}"
    );
    assert_eq!(target.event_count(), 0);

    let text = String::from_utf8(exported).unwrap();
    let tampered = text.replacen(
        "\"school_status\":\"in_education\"",
        "\"school_status\":\"inactive\"",
        1,
    );
    assert_ne!(tampered, text);
    let result = target
        .engine
        .import_ndjson(&mut Cursor::new(tampered.into_bytes()), &mut |_, _| {});
    match result {
        Err(EngineError::Log(kui_log::LogError::Ndjson { reason, .. })) => assert!(reason.contains("hash"), "{reason}"),
        other => panic!("expected a hash error, got {other:?}"),
    }
    assert_eq!(target.event_count(), 0);
}

fn empty_world() -> EmptyWorld {
    let log = std::sync::Arc::new(kui_log::MemoryLog::new());
    let engine = kui_engine::Engine::new(
        log.clone(),
        std::sync::Arc::new(kui_engine::keys::KeyStore::seeded(2)),
        std::sync::Arc::new(kui_engine::FixedClock::new(noon(2026, 1, 15))),
        std::sync::Arc::new(kui_engine::SeededIds::new(2)),
    );
    EmptyWorld { engine, log }
}

struct EmptyWorld {
    engine: kui_engine::Engine,
    log: std::sync::Arc<kui_log::MemoryLog>,
}

impl EmptyWorld {
    fn event_count(&self) -> u64 {
        kui_log::EventLog::head(self.log.as_ref())
            .ok()
            .flatten()
            .map(|(p, _)| p.0)
            .unwrap_or(0)
    }
}
