//! Executing commands: versions, conflicts, idempotency, cross-aggregate decisions.

use kui_domain::testing::{date, noon};
use kui_domain::values::{Department, Forum};
use kui_domain::{CaseCommand, Decision, MeetingCommand, MeetingId, Rejection, YouthCommand, YouthId};
use kui_engine::{Command, EngineError};
use kui_log::{EventLog, StreamId, Version};
use uuid::Uuid;

use crate::helpers::{staff, world};

#[test]
fn a_referral_writes_the_case_and_returns_version_and_position() {
    let world = world();
    let before = world.event_count();
    let youth = world.refer("150309-4321");
    let stream = StreamId::new(youth.stream_name()).unwrap();
    let events = world.log.read_stream(&stream, Version(1)).unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["YouthReferred", "TeamAssigned"]);
    assert_eq!(world.event_count(), before + 2);
    let actor = &events[0].metadata.actor;
    assert_eq!(actor.role, "caseworker");
    assert_eq!(actor.staff_id, Some(world.counsellor.to_string()));
}

#[test]
fn a_young_person_gets_a_random_id_found_again_by_the_keyed_lookup() {
    let world = world();
    let first = world.refer("150309-4321");
    let cpr = kui_domain::Cpr::parse("150309-4321").unwrap();
    assert_eq!(world.engine.keys().lookup(&cpr), Some(first));
    let close = CaseCommand::Close {
        reason: kui_domain::values::CloseReason::Other,
        note: String::new(),
    };
    world
        .engine
        .execute(Command::Youth(first, close.into()), &world.as_counsellor())
        .unwrap();
    // A second referral re-opens the same case.
    assert_eq!(world.refer("150309-4321"), first);
    // The stored referral holds neither the number nor the name in clear.
    let stored = world
        .log
        .read_stream(&StreamId::new(first.stream_name()).unwrap(), Version(1))
        .unwrap();
    let payload = String::from_utf8(stored[0].payload.clone()).unwrap();
    for secret in ["150309", "4321", "Emil", "absence over"] {
        assert!(!payload.contains(secret), "{secret} is stored in clear: {payload}");
    }
    assert!(payload.contains("\"sealed\""));
}

#[test]
fn a_wrong_expected_version_is_a_conflict_and_writes_nothing() {
    let world = world();
    let youth = world.refer("150309-4321");
    let before = world.event_count();
    let command = YouthCommand::Case(CaseCommand::OfferCoordinator {
        offered_by: world.counsellor,
    });
    let result = world.engine.execute(
        Command::Youth(youth, command.clone()),
        &world.as_counsellor().expecting(1),
    );
    match result {
        Err(EngineError::Conflict { expected, actual, .. }) => {
            assert_eq!(expected, 1);
            assert_eq!(actual, Some(2));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(world.event_count(), before);
    let executed = world
        .engine
        .execute(Command::Youth(youth, command), &world.as_counsellor().expecting(2))
        .unwrap();
    assert_eq!(executed.version, 3);
}

#[test]
fn a_command_id_makes_a_command_idempotent() {
    let world = world();
    let youth = world.refer("150309-4321");
    let context = world.as_counsellor().with_command_id(Uuid::from_u128(42));
    let command = Command::Youth(
        youth,
        YouthCommand::Case(CaseCommand::OfferCoordinator {
            offered_by: world.counsellor,
        }),
    );
    let first = world.engine.execute(command.clone(), &context).unwrap();
    let count = world.event_count();
    // The offer is pending, so deciding again would be rejected; the retry returns the first result.
    let second = world.engine.execute(command, &context).unwrap();
    assert!(!first.replayed);
    assert!(second.replayed);
    assert_eq!((first.position, first.version), (second.position, second.version));
    assert_eq!(world.event_count(), count);
}

/// What a caller's check returns in `execute_checked`: its own refusal or the engine's error.
#[derive(Debug)]
enum Checked {
    Refused,
    Engine(EngineError),
}

impl From<EngineError> for Checked {
    fn from(error: EngineError) -> Self {
        Checked::Engine(error)
    }
}

#[test]
fn a_check_runs_before_the_decision_and_its_refusal_writes_nothing() {
    let world = world();
    let youth = world.refer("150309-4321");
    let before = world.event_count();
    let offer = Command::Youth(
        youth,
        YouthCommand::Case(CaseCommand::OfferCoordinator {
            offered_by: world.counsellor,
        }),
    );
    let mut checks = 0;
    let refused = world
        .engine
        .execute_checked(offer.clone(), &world.as_counsellor(), |engine, command| {
            checks += 1;
            let (case, version) = engine.load::<kui_domain::Youth>(&command.stream_name())?;
            assert_eq!((case.id, version), (Some(youth), 2), "the check sees the records");
            Err(Checked::Refused)
        });
    assert!(matches!(refused, Err(Checked::Refused)), "{refused:?}");
    assert_eq!(checks, 1);
    assert_eq!(world.event_count(), before, "a refusal writes nothing");

    let context = world.as_counsellor().with_command_id(Uuid::from_u128(43));
    let passed = world
        .engine
        .execute_checked(offer.clone(), &context, |_, _| Ok::<(), Checked>(()))
        .unwrap();
    assert_eq!(passed.version, 3);
    // The check comes before the command id: a refused caller does not learn the result.
    let replay_refused = world
        .engine
        .execute_checked(offer.clone(), &context, |_, _| Err(Checked::Refused));
    assert!(matches!(replay_refused, Err(Checked::Refused)), "{replay_refused:?}");
    // The engine's own errors come back through `From`.
    let rejected = world
        .engine
        .execute_checked(offer, &world.as_counsellor(), |_, _| Ok::<(), Checked>(()));
    assert!(
        matches!(
            rejected,
            Err(Checked::Engine(EngineError::Rejected(Rejection::NoChange { .. })))
        ),
        "{rejected:?}"
    );
}

#[test]
fn a_rejected_command_writes_nothing() {
    let world = world();
    let youth = world.refer("150309-4321");
    let before = world.event_count();
    let result = world.engine.execute(
        Command::Youth(
            youth,
            YouthCommand::Case(CaseCommand::ReleaseCoordinator {
                reason: kui_domain::values::ReleaseReason::Completed,
            }),
        ),
        &world.as_counsellor(),
    );
    assert!(
        matches!(result, Err(EngineError::Rejected(Rejection::NoCoordinator))),
        "{result:?}"
    );
    assert_eq!(world.event_count(), before);
}

#[test]
fn unknown_ids_are_not_found() {
    let world = world();
    let ghost = YouthId(Uuid::from_u128(7));
    let result = world.engine.execute(
        Command::Youth(
            ghost,
            YouthCommand::Case(CaseCommand::OfferCoordinator {
                offered_by: world.counsellor,
            }),
        ),
        &world.as_counsellor(),
    );
    assert!(
        matches!(result, Err(EngineError::Rejected(Rejection::NotFound { .. }))),
        "{result:?}"
    );
    let youth = world.refer("150309-4321");
    let result = world.engine.execute(
        Command::Youth(
            youth,
            YouthCommand::AssignCoordinator {
                coordinator: staff(77),
                chosen_by: kui_domain::CoordinatorChoice::Staff(world.lead),
            },
        ),
        &world.as_lead(),
    );
    assert!(matches!(result, Err(EngineError::NotFound { .. })), "{result:?}");
}

#[test]
fn a_decision_appointing_a_coordinator_writes_both_streams_atomically_with_causation() {
    let world = world();
    let youth = world.refer("150309-4321");
    let meeting = MeetingId(Uuid::from_u128(500));
    world.schedule(meeting, Forum::KMeeting, date(2026, 1, 20), 120);
    let table = MeetingCommand::TableCase {
        youth_id: youth,
        presenter: world.lead,
        complex: true,
    };
    world
        .engine
        .execute(Command::Meeting(meeting, table), &world.as_lead())
        .unwrap();
    let decision = Decision {
        youth_id: youth,
        coordinator: Some(world.counsellor),
        coordinating_caseworker: Some(world.lead),
        lead: Some(world.lead),
        actions: vec![kui_domain::values::DecisionAction {
            what: "find an FGU place".into(),
            department: Department::Uu,
            who: Some(world.counsellor),
            due: Some(date(2026, 2, 15)),
        }],
        documentation_needed: vec![],
        follow_up: Some(date(2026, 3, 3)),
        first_team_meeting: None,
    };
    let executed = world
        .engine
        .execute(
            Command::Meeting(meeting, MeetingCommand::RecordDecision(decision)),
            &world.as_lead(),
        )
        .unwrap();
    assert_eq!(executed.streams.len(), 2);
    let all = world
        .log
        .read_all(kui_log::Position(executed.first_position), 10)
        .unwrap();
    let types: Vec<&str> = all.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "DecisionRecorded",
            "CoordinatorAssigned",
            "CoordinatingCaseworkerAssigned"
        ]
    );
    assert_eq!(all[1].metadata.causation_id, Some(all[0].event_id));
    assert_eq!(all[2].metadata.causation_id, Some(all[0].event_id));
    assert_eq!(all[1].stream.as_str(), youth.stream_name());
    let (state, _) = world.engine.youth(youth).ok().flatten().expect("youth");
    assert_eq!(state.coordinator(), Some(world.counsellor));
}

#[test]
fn a_decision_the_young_person_cannot_accept_writes_neither_stream() {
    let world = world();
    let youth = world.refer("150309-4321");
    let ctx = world.as_counsellor();
    let offer = YouthCommand::Case(CaseCommand::OfferCoordinator {
        offered_by: world.counsellor,
    });
    world.engine.execute(Command::Youth(youth, offer), &ctx).unwrap();
    let decline = YouthCommand::Case(CaseCommand::DeclineCoordinator {
        declined_by: kui_domain::values::ConsentGiver::Youth,
        note: String::new(),
    });
    world.engine.execute(Command::Youth(youth, decline), &ctx).unwrap();
    let meeting = MeetingId(Uuid::from_u128(501));
    world.schedule(meeting, Forum::KMeeting, date(2026, 1, 20), 120);
    let table = MeetingCommand::TableCase {
        youth_id: youth,
        presenter: world.lead,
        complex: false,
    };
    world
        .engine
        .execute(Command::Meeting(meeting, table), &world.as_lead())
        .unwrap();
    let before = world.event_count();
    let decision = Decision {
        youth_id: youth,
        coordinator: Some(world.counsellor),
        coordinating_caseworker: None,
        lead: None,
        actions: vec![kui_domain::values::DecisionAction {
            what: "talk again".into(),
            department: Department::Uu,
            who: None,
            due: None,
        }],
        documentation_needed: vec![],
        follow_up: None,
        first_team_meeting: None,
    };
    let result = world.engine.execute(
        Command::Meeting(meeting, MeetingCommand::RecordDecision(decision)),
        &world.as_lead(),
    );
    assert!(
        matches!(result, Err(EngineError::Rejected(Rejection::CoordinatorDeclined))),
        "{result:?}"
    );
    assert_eq!(world.event_count(), before);
}

#[test]
fn concurrent_commands_on_one_stream_all_land_through_retries() {
    let world = world();
    let youth = world.refer("150309-4321");
    world.clock.set(noon(2026, 1, 16));
    let engine = world.engine.clone();
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let engine = engine.clone();
            let by = world.counsellor;
            std::thread::spawn(move || {
                let command = YouthCommand::Case(CaseCommand::RecordContact {
                    by,
                    on: date(2026, 1, 16),
                    offer_made: n % 2 == 0,
                });
                engine.execute(
                    Command::Youth(youth, command),
                    &kui_engine::CommandContext::by(kui_engine::Actor::system()),
                )
            })
        })
        .collect();
    let mut versions: Vec<u64> = handles
        .into_iter()
        .map(|h| h.join().expect("thread").unwrap().version)
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (3..=6).collect::<Vec<u64>>());
}
