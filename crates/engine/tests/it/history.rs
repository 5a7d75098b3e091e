//! The auditor's replay and verification.

use kui_domain::testing::{date, noon};
use kui_domain::values::{ActionStatus, Department, Forum, Plan, PlanAction, PlanKind};
use kui_domain::{CaseCommand, MeetingCommand, MeetingId, YouthCommand};
use kui_engine::Command;
use uuid::Uuid;

use crate::helpers::world;

#[test]
fn history_follows_the_young_person_across_streams_and_as_of_a_date() {
    let world = world();
    let youth = world.refer("150309-4321");
    let other = world.refer("160309-4321");
    let meeting = MeetingId(Uuid::from_u128(900));
    world.schedule(meeting, Forum::Team2, date(2026, 2, 3), 90);
    world.clock.set(noon(2026, 2, 1));
    for id in [youth, other] {
        let table = MeetingCommand::TableCase {
            youth_id: id,
            presenter: world.lead,
            complex: false,
        };
        world
            .engine
            .execute(Command::Meeting(meeting, table), &world.as_lead())
            .unwrap();
    }
    world.clock.set(noon(2026, 3, 1));
    let plan = Plan {
        goals: vec!["start at FGU in August".into()],
        actions: vec![PlanAction {
            description: "visit FGU".into(),
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

    let full = world.engine.history(youth, None).unwrap();
    let types: Vec<&str> = full.entries.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["YouthReferred", "TeamAssigned", "CaseTabled", "PlanUpdated"]);
    assert!(full.entries.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(full.entries[2].stream, meeting.stream_name());
    assert_eq!(
        full.state.as_ref().and_then(|s| s.plan.clone()),
        Some("education_plan revision 1".into())
    );
    assert!(full.entries.iter().all(|e| e.hash.len() == 64));

    let then = world.engine.history(youth, Some(date(2026, 2, 15))).unwrap();
    assert_eq!(then.entries.len(), 3);
    assert_eq!(then.state.as_ref().and_then(|s| s.plan.clone()), None);
}

#[test]
fn a_clean_log_verifies() {
    let world = world();
    world.refer("150309-4321");
    let verified = world.engine.verify(&mut |_, _| {}).unwrap();
    assert_eq!(verified.youth, 1);
    assert_eq!(verified.log.events, world.event_count());
}
