//! Erasure, legal holds and retention.

use kui_domain::testing::{date, noon};
use kui_domain::values::{ActionStatus, CloseReason, Department, Plan, PlanAction, PlanKind};
use kui_domain::{CaseCommand, Rejection, YouthCommand, YouthId};
use kui_engine::keys::KeyState;
use kui_engine::{Actor, Command, CommandContext, EngineError, Erasure};
use kui_log::EventLog;

use crate::helpers::{world, World};

const NAME: &str = "Emil Jensen";
const NOTE: &str = "absence over 20 %";
const GOAL: &str = "start at FGU in August";
const ACTION: &str = "visit FGU with his mother";

fn erasure(reason: &str) -> Erasure {
    Erasure {
        erased_by: "dpo".into(),
        reason: reason.into(),
        authority: "decision 2026-17".into(),
        streams: Vec::new(),
    }
}

fn planned(world: &World, cpr: &str) -> YouthId {
    let youth = world.refer(cpr);
    let plan = Plan {
        goals: vec![GOAL.into()],
        actions: vec![PlanAction {
            description: ACTION.into(),
            department: Department::Uu,
            responsible: Some(world.counsellor),
            due: Some(date(2026, 4, 1)),
            status: ActionStatus::Planned,
        }],
    };
    let update = YouthCommand::Case(CaseCommand::UpdatePlan {
        based_on_revision: Some(0),
        kind: PlanKind::EducationPlan,
        plan,
        updated_by: world.counsellor,
    });
    world
        .engine
        .execute(Command::Youth(youth, update), &world.as_counsellor())
        .unwrap();
    youth
}

fn stored_text(world: &World) -> String {
    let mut text = String::new();
    for envelope in world.log.read_all(kui_log::Position(1), usize::MAX).unwrap() {
        text.push_str(&String::from_utf8_lossy(&envelope.payload));
        text.push('\n');
    }
    text
}

#[test]
fn personal_fields_are_stored_sealed_and_opened_for_the_case() {
    let world = world();
    let youth = planned(&world, "150309-4321");
    let text = stored_text(&world);
    for secret in [NAME, NOTE, GOAL, ACTION, "150309"] {
        assert!(!text.contains(secret), "{secret:?} is stored in clear");
    }
    let (case, _) = world.engine.youth(youth).unwrap().unwrap();
    assert_eq!(case.name, NAME);
    assert_eq!(case.cpr.map(|c| c.formatted()), Some("150309-4321".into()));
    let history = world.engine.history(youth, None).unwrap();
    assert!(history.entries.iter().any(|e| e.payload.to_string().contains(GOAL)));
}

#[test]
fn erasure_reads_every_personal_field_as_erased_and_leaves_the_others_and_the_chain() {
    let world = world();
    let youth = planned(&world, "150309-4321");
    let other = world.refer("160309-4321");
    let head_before = world.log.head().unwrap();
    let erased = world
        .engine
        .erase(
            youth,
            erasure("the young person asked"),
            &CommandContext::by(Actor::system()),
        )
        .unwrap();
    assert_eq!(erased.streams, vec![youth.stream_name()]);
    assert!(!erased.resumed);
    assert_eq!(world.engine.keys().state_of(youth), KeyState::Erased);
    assert_eq!(
        world
            .engine
            .keys()
            .lookup(&kui_domain::Cpr::parse("150309-4321").unwrap()),
        None
    );

    // The log was only appended to: the chain before the erasure is untouched.
    let envelopes = world.log.read_all(kui_log::Position(1), usize::MAX).unwrap();
    let (head_position, head_hash) = head_before.unwrap();
    assert_eq!(envelopes[head_position.0 as usize - 1].hash, head_hash);
    world.engine.verify(&mut |_, _| {}).unwrap();

    let (case, _) = world.engine.youth(youth).unwrap().unwrap();
    assert_eq!(case.name, kui_domain::personal::ERASED);
    assert_eq!(case.cpr, None);
    assert!(case.erased);
    let history = world.engine.history(youth, None).unwrap();
    let shown = serde_json::to_string(&history).unwrap();
    for secret in [NAME, NOTE, GOAL, ACTION, "150309-4321"] {
        assert!(!shown.contains(secret), "{secret:?} is still in the history");
    }
    assert!(shown.contains(kui_domain::personal::ERASED));
    assert_eq!(history.entries.last().unwrap().event_type, "PersonalDataErased");

    // Others are untouched.
    let (kept, _) = world.engine.youth(other).unwrap().unwrap();
    assert_eq!(kept.name, NAME);

    // The proof.
    let report = world.engine.erasure_report(youth).unwrap();
    assert_eq!(report.key, "erased");
    assert!(report.chain_verified);
    assert_eq!(report.erasure.unwrap().reason, "the young person asked");

    // Nothing more is taken for the case, and a second erasure is refused.
    let refused = world
        .engine
        .erase(youth, erasure("again"), &CommandContext::by(Actor::system()));
    assert!(
        matches!(refused, Err(EngineError::Rejected(Rejection::Erased))),
        "{refused:?}"
    );
    let note = YouthCommand::Case(CaseCommand::AssessNeed {
        level: kui_domain::values::NeedLevel::B,
        assessed_by: world.counsellor,
        note: "x".into(),
    });
    let refused = world
        .engine
        .execute(Command::Youth(youth, note), &world.as_counsellor());
    assert!(
        matches!(refused, Err(EngineError::Rejected(Rejection::Erased))),
        "{refused:?}"
    );

    // A new referral of the same number is a new person.
    let again = world.refer("150309-4321");
    assert_ne!(again, youth);
}

#[test]
fn an_unknown_person_and_a_legal_hold_refuse_erasure_and_write_nothing() {
    let world = world();
    let unknown = YouthId(uuid::Uuid::from_u128(77));
    let before = world.log.head().unwrap();
    let refused = world
        .engine
        .erase(unknown, erasure("x"), &CommandContext::by(Actor::system()));
    assert!(matches!(refused, Err(EngineError::NotFound { .. })), "{refused:?}");
    assert_eq!(world.log.head().unwrap(), before);

    let youth = world.refer("150309-4321");
    let hold = YouthCommand::Case(CaseCommand::PlaceLegalHold {
        placed_by: world.lead,
        reason: "complaint pending".into(),
    });
    world
        .engine
        .execute(Command::Youth(youth, hold), &world.as_lead())
        .unwrap();
    let before = world.log.head().unwrap();
    let refused = world
        .engine
        .erase(youth, erasure("x"), &CommandContext::by(Actor::system()));
    assert!(
        matches!(refused, Err(EngineError::Rejected(Rejection::LegalHold { .. }))),
        "{refused:?}"
    );
    assert_eq!(world.log.head().unwrap(), before);
    assert_eq!(
        world.engine.keys().state_of(youth),
        KeyState::Present,
        "the begun erasure was abandoned"
    );
}

#[test]
fn an_erasure_interrupted_after_its_event_is_finished_on_the_next_open_or_run() {
    let world = world();
    let youth = world.refer("150309-4321");
    // Steps 1 and 2 of an erasure, as a run killed before step 3 leaves them.
    world.engine.keys().begin_erasure(youth).unwrap();
    world
        .engine
        .execute(
            Command::Erase(youth, erasure("asked")),
            &CommandContext::by(Actor::system()),
        )
        .unwrap();
    assert_eq!(world.engine.keys().state_of(youth), KeyState::Erasing);
    let finished = world.engine.finish_erasures(&[youth]).unwrap();
    assert_eq!(finished.len(), 1);
    assert!(finished[0].resumed);
    assert_eq!(world.engine.keys().state_of(youth), KeyState::Erased);

    // Killed after step 1 only: the next open abandons it; nothing was erased.
    let other = world.refer("160309-4321");
    world.engine.keys().begin_erasure(other).unwrap();
    assert!(world.engine.finish_erasures(&[other]).unwrap().is_empty());
    assert_eq!(world.engine.keys().state_of(other), KeyState::Present);
}

#[test]
fn retention_erases_cases_closed_long_enough_ago_except_under_a_hold() {
    let world = world();
    let old = world.refer("150309-4321");
    let held = world.refer("160309-4321");
    let recent = world.refer("170309-4321");
    let open = world.refer("180309-4321");
    let close = |youth: YouthId| {
        let command = YouthCommand::Case(CaseCommand::Close {
            reason: CloseReason::PositiveDestination,
            note: "moved on".into(),
        });
        world
            .engine
            .execute(Command::Youth(youth, command), &world.as_counsellor())
            .unwrap();
    };
    close(old);
    close(held);
    world
        .engine
        .execute(
            Command::Youth(
                held,
                YouthCommand::Case(CaseCommand::PlaceLegalHold {
                    placed_by: world.lead,
                    reason: "court case".into(),
                }),
            ),
            &world.as_lead(),
        )
        .unwrap();
    world.clock.set(noon(2029, 6, 1));
    close(recent);
    let _ = open;

    // The default keeps a closed case 5 years: closed 2026-01-15, due 2031-01-15.
    world.clock.set(noon(2031, 1, 14));
    let report = world.engine.retention(date(2031, 1, 14), None, &mut |_| {}).unwrap();
    assert!(report.erased.is_empty(), "{report:?}");
    world.clock.set(noon(2031, 1, 15));
    let dir = tempfile::tempdir().unwrap();
    let report = world
        .engine
        .retention(date(2031, 1, 15), Some(dir.path()), &mut |_| {})
        .unwrap();
    assert_eq!(report.erased, vec![(old, date(2031, 1, 15))]);
    assert_eq!(report.held.iter().map(|(y, _)| *y).collect::<Vec<_>>(), vec![held]);
    assert_eq!(report.not_due, 1);
    assert_eq!(world.engine.keys().state_of(old), KeyState::Erased);
    assert_eq!(world.engine.keys().state_of(recent), KeyState::Present);
    assert_eq!(world.engine.keys().state_of(open), KeyState::Present);
    // The archive's copy was written first, with the personal fields and a manifest.
    let copy = std::fs::read_to_string(dir.path().join(old.to_string()).join("events.ndjson")).unwrap();
    assert!(copy.contains(NAME));
    let manifest = std::fs::read_to_string(dir.path().join(old.to_string()).join("manifest.json")).unwrap();
    assert!(manifest.contains("events_sha256"));
    // Idempotent.
    let again = world.engine.retention(date(2031, 1, 15), None, &mut |_| {}).unwrap();
    assert!(again.erased.is_empty());
    assert_eq!(again.already_erased, 1);
}
