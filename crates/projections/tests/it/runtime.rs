//! The runtime: restart from a snapshot gives exactly a full rebuild's state; foreign or
//! outdated snapshots are discarded; live following and read-your-writes waits; the slim
//! decoder agrees with the domain's.

use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use kui_domain::values::SchoolStatus;
use kui_domain::Event;
use kui_log::{Envelope, EventLog, MemoryLog};
use kui_projections::{
    model_names, Fact, MemoryStore, Options, ProjectionError, Projections, ReadModels, SnapshotStore,
};

use crate::helpers::*;

fn options() -> Options {
    Options {
        workers: 2,
        save_every: 1_000,
        save_after: std::time::Duration::ZERO,
        past_days: 8,
        past_bytes: 512 * 1024 * 1024,
    }
}

fn fixture_envelopes() -> Vec<Envelope> {
    let file = std::fs::File::open(workspace_root().join("fixtures/small.ndjson")).expect("fixture");
    std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .map(|(n, line)| kui_log::ndjson::read_ndjson_line(&line.expect("line"), n as u64 + 1).expect("envelope"))
        .collect()
}

fn empty_log() -> Arc<dyn EventLog> {
    Arc::new(MemoryLog::new())
}

fn full_rebuild(log: Arc<dyn EventLog>) -> ReadModels {
    let (projections, opened) =
        Projections::open(log, Arc::new(MemoryStore::default()), options(), &[], &mut |_, _| {}).expect("open");
    assert!(opened.restored.is_empty());
    let models = projections.read().clone();
    models
}

#[test]
fn restarting_from_a_checkpoint_gives_exactly_the_state_of_a_full_rebuild() {
    let envelopes = fixture_envelopes();
    let log = empty_log();
    let store: Arc<dyn SnapshotStore> = Arc::new(MemoryStore::default());
    let cut = envelopes.len() / 2;
    log.import(&envelopes[..cut]).expect("first half");
    let (first, opened) = Projections::open(log.clone(), store.clone(), options(), &[], &mut |_, _| {}).expect("open");
    assert_eq!(opened.caught_up, cut as u64);
    drop(first);

    log.import(&envelopes[cut..]).expect("second half");
    let (second, opened) = Projections::open(log.clone(), store, options(), &[], &mut |_, _| {}).expect("reopen");
    assert_eq!(opened.restored.len(), ReadModels::NAMES.len(), "{opened:?}");
    assert!(opened.restored.iter().all(|(_, checkpoint)| *checkpoint == cut as u64));
    assert_eq!(
        opened.caught_up,
        (envelopes.len() - cut) as u64,
        "only the new events are folded"
    );
    let restarted = second.read().clone();
    assert!(restarted == full_rebuild(log), "restart and full rebuild differ");
}

#[test]
fn rebuilding_one_model_leaves_the_others_restored_and_ends_equal() {
    let log = fixture_log();
    let store: Arc<dyn SnapshotStore> = Arc::new(MemoryStore::default());
    let (first, _) = Projections::open(log.clone(), store.clone(), options(), &[], &mut |_, _| {}).expect("open");
    let before = first.read().clone();
    drop(first);
    let (second, opened) =
        Projections::open(log.clone(), store, options(), &["alarms"], &mut |_, _| {}).expect("rebuild");
    assert_eq!(opened.restored.len(), ReadModels::NAMES.len() - 1);
    assert!(!opened.restored.iter().any(|(name, _)| *name == "alarms"));
    assert_eq!(opened.caught_up, log.head().expect("head").expect("events").0 .0);
    assert!(*second.read() == before);
}

#[test]
fn a_snapshot_under_a_former_model_name_is_not_read_and_is_deleted() {
    let log = fixture_log();
    let store: Arc<dyn SnapshotStore> = Arc::new(MemoryStore::default());
    let (first, _) = Projections::open(log.clone(), store.clone(), options(), &[], &mut |_, _| {}).expect("open");
    let expected = first.read().clone();
    drop(first);
    // The store as an older build left it: the alarms model saved as "transitions".
    let bytes = store.load("alarms").expect("load").expect("alarms snapshot");
    let text = String::from_utf8_lossy(&bytes).replacen("\"model\":\"alarms\"", "\"model\":\"transitions\"", 1);
    store.save("transitions", text.as_bytes()).expect("save");
    store.remove("alarms").expect("remove");

    let (second, opened) =
        Projections::open(log.clone(), store.clone(), options(), &[], &mut |_, _| {}).expect("reopen");
    assert_eq!(opened.restored.len(), ReadModels::NAMES.len() - 1, "{opened:?}");
    assert!(!opened.restored.iter().any(|(name, _)| *name == "alarms"));
    assert!(opened.discarded.is_empty(), "{:?}", opened.discarded);
    assert_eq!(opened.caught_up, log.head().expect("head").expect("events").0 .0);
    assert!(*second.read() == expected);
    assert_eq!(
        store.load("transitions").expect("load"),
        None,
        "the old file is deleted"
    );
    assert!(store.load("alarms").expect("load").is_some(), "saved under its name");
}

#[test]
fn a_former_model_name_is_answered_with_the_current_one() {
    let error = model_names(&["transitions".to_owned()]).expect_err("a former name");
    assert!(
        matches!(&error, ProjectionError::RenamedModel { name, now: "alarms" } if name == "transitions"),
        "{error:?}"
    );
    assert_eq!(model_names(&[" alarms ".to_owned()]).expect("the name"), vec!["alarms"]);
    assert!(matches!(
        model_names(&["alarm".to_owned()]),
        Err(ProjectionError::UnknownModel { .. })
    ));
}

#[test]
fn a_snapshot_of_another_log_or_version_is_discarded_and_rebuilt() {
    let envelopes = fixture_envelopes();
    let log = empty_log();
    log.import(&envelopes[..5_000]).expect("import");
    let store: Arc<dyn SnapshotStore> = Arc::new(MemoryStore::default());
    drop(Projections::open(log, store.clone(), options(), &[], &mut |_, _| {}).expect("open"));

    // Another log of the same length: different events at the checkpoint.
    let other = empty_log();
    other.import(&envelopes[..4_000]).expect("import");

    let (projections, opened) = Projections::open(other.clone(), store, options(), &[], &mut |_, _| {}).expect("open");
    let reasons: Vec<&str> = opened.discarded.iter().map(|(name, _)| *name).collect();
    assert_eq!(reasons.len(), ReadModels::NAMES.len(), "{:?}", opened.discarded);
    assert!(opened
        .discarded
        .iter()
        .any(|(_, reason)| reason.contains("past the log's head")));
    let read = projections.read().clone();
    assert!(read == full_rebuild(other));
}

#[test]
fn a_snapshot_of_another_model_version_is_discarded_and_rebuilt() {
    let log = fixture_log();
    let store: Arc<dyn SnapshotStore> = Arc::new(MemoryStore::default());
    let (first, _) = Projections::open(log.clone(), store.clone(), options(), &[], &mut |_, _| {}).expect("open");
    let expected = first.read().clone();
    drop(first);
    // A snapshot written by a build whose model had another version.
    let bytes = store.load("directory").expect("load").expect("directory snapshot");
    let split = bytes.iter().position(|&b| b == b'\n').expect("header line");
    let header = std::str::from_utf8(&bytes[..split]).expect("header is JSON text");
    let mut changed = header.replacen("\"version\":2", "\"version\":99", 1).into_bytes();
    assert_ne!(changed, bytes[..split].to_vec());
    changed.extend_from_slice(&bytes[split..]);
    store.save("directory", &changed).expect("save");

    let (second, opened) = Projections::open(log, store, options(), &[], &mut |_, _| {}).expect("reopen");
    assert_eq!(opened.discarded.len(), 1, "{:?}", opened.discarded);
    assert_eq!(opened.discarded[0].0, "directory");
    assert!(opened.discarded[0].1.contains("version 99"), "{:?}", opened.discarded);
    assert!(*second.read() == expected);
}

fn append(log: &dyn EventLog, event: Event) -> u64 {
    append_on(log, event, date(2026, 3, 2))
}

#[test]
fn following_the_log_applies_new_events_and_waits_serve_read_your_writes() {
    let log = empty_log();
    let store: Arc<dyn SnapshotStore> = Arc::new(MemoryStore::default());
    let (projections, _) = Projections::open(log.clone(), store.clone(), options(), &[], &mut |_, _| {}).expect("open");
    projections.follow();
    let y = youth(1);
    let position = append(
        log.as_ref(),
        referred(y, date(2010, 1, 1), date(2026, 3, 2), SchoolStatus::InEducation),
    );
    assert!(projections.wait_for(position, Duration::from_secs(10)));
    assert!(projections.read().teams.members.contains_key(&y));
    assert!(
        !projections.wait_for(position + 1, Duration::from_millis(50)),
        "nothing was appended after it"
    );
    projections.shutdown().expect("shutdown");
    assert!(projections.failure().is_none());
    // The shutdown saved the models at the followed position.
    let (reopened, opened) = Projections::open(log, store, options(), &[], &mut |_, _| {}).expect("reopen");
    assert_eq!(opened.caught_up, 0);
    assert!(reopened.read().teams.members.contains_key(&y));
}

#[test]
fn the_slim_decoder_agrees_with_the_domain_on_every_fixture_event() {
    for envelope in fixture_envelopes() {
        let slim = Fact::of(&envelope).expect("slim decode");
        let full = Event::decode(&envelope.event_type, envelope.schema_version, &envelope.payload).expect("decode");
        assert_eq!(slim, Fact::from(full), "position {}", envelope.position);
    }
}

#[test]
fn as_of_the_last_day_equals_the_live_models_and_earlier_days_know_less() {
    let log = fixture_log();
    let live = full_rebuild(log.clone());
    let everything = Projections::as_of(log.as_ref(), date(2030, 1, 1), 2, &mut |_, _| {}).expect("as of");
    assert!(everything == live);
    let early = Projections::as_of(log.as_ref(), date(2021, 1, 1), 2, &mut |_, _| {}).expect("as of");
    assert!(early.teams.members.len() < live.teams.members.len());
    assert!(early.teams.members.keys().all(|id| live.teams.members.contains_key(id)));
}

#[test]
fn a_fold_as_of_a_date_stops_when_asked() {
    let log = fixture_log();
    let stop = std::sync::atomic::AtomicBool::new(true);
    for workers in [1, 2] {
        let stopped = Projections::as_of_until(log.as_ref(), date(2030, 1, 1), workers, &mut |_, _| {}, &stop);
        assert!(matches!(stopped, Err(ProjectionError::Stopped)), "{workers} workers");
    }
    stop.store(false, std::sync::atomic::Ordering::Relaxed);
    let folded = Projections::as_of_until(log.as_ref(), date(2030, 1, 1), 2, &mut |_, _| {}, &stop).expect("as of");
    assert!(folded == full_rebuild(log.clone()));
}

#[test]
fn each_meeting_in_the_meetings_model_is_the_aggregate_folded_from_its_stream() {
    use kui_domain::{Aggregate, Meeting, MeetingId};

    let log = fixture_log();
    let models = full_rebuild(log);
    let mut streams: std::collections::BTreeMap<String, Meeting> = std::collections::BTreeMap::new();
    for envelope in fixture_envelopes() {
        if envelope.stream.as_str().starts_with("meeting-") {
            let event =
                Event::decode(&envelope.event_type, envelope.schema_version, &envelope.payload).expect("decode");
            streams.entry(envelope.stream.to_string()).or_default().apply(&event);
        }
    }
    assert!(streams.len() > 10, "the fixture holds meetings");
    assert_eq!(models.meetings.meetings.len(), streams.len());
    for (stream, folded) in &streams {
        let id = MeetingId::from_stream_name(stream).expect("a meeting stream");
        assert_eq!(models.meetings.meeting(id), Some(folded), "{stream}");
    }
}
