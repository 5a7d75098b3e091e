//! The `Staff` aggregate: registration, capacity and departure.

use kui_domain::event::*;
use kui_domain::staff::StaffCommand;
use kui_domain::testing::{date, given};
use kui_domain::values::Department;
use kui_domain::{Rejection, Staff};

use crate::helpers::*;

fn register(name: &str, capacity: u16) -> StaffCommand {
    StaffCommand::Register {
        staff_id: counsellor(),
        name: name.into(),
        department: Department::Uu,
        municipality: municipality(),
        capacity,
    }
}

fn departed() -> Event {
    StaffDeparted {
        staff_id: counsellor(),
        on: date(2026, 1, 9),
    }
    .into()
}

#[test]
fn registering_records_the_staff_member_with_the_name_trimmed() {
    given::<Staff>([])
        .when(register(" Mette Holm ", 25))
        .then([staff_registered(25)]);
}

#[test]
fn registering_twice_is_rejected() {
    given::<Staff>([staff_registered(25)])
        .when(register("Mette Holm", 25))
        .then_rejected(Rejection::AlreadyExists {
            what: format!("staff member {}", counsellor()),
        });
}

#[test]
fn registering_without_a_name_is_rejected() {
    given::<Staff>([]).when(register("  ", 25)).then_invalid("name");
}

#[test]
fn capacity_is_at_most_200() {
    given::<Staff>([])
        .when(register("Mette Holm", 201))
        .then_invalid("capacity");
    given::<Staff>([])
        .when(register("Mette Holm", 200))
        .then([staff_registered(200)]);
    given::<Staff>([staff_registered(25)])
        .when(StaffCommand::ChangeCapacity { capacity: 201 })
        .then_invalid("capacity");
    given::<Staff>([staff_registered(25)])
        .when(StaffCommand::ChangeCapacity { capacity: 200 })
        .then([StaffCapacityChanged {
            staff_id: counsellor(),
            capacity: 200,
        }
        .into()]);
}

#[test]
fn changing_capacity_to_the_same_value_changes_nothing() {
    given::<Staff>([staff_registered(25)])
        .when(StaffCommand::ChangeCapacity { capacity: 25 })
        .then_rejected_by("no_change");
}

#[test]
fn departed_staff_member_is_inactive() {
    let inactive = Rejection::StaffInactive {
        staff: counsellor().to_string(),
    };
    given::<Staff>([staff_registered(25), departed()])
        .when(StaffCommand::ChangeCapacity { capacity: 30 })
        .then_rejected(inactive.clone());
    given::<Staff>([staff_registered(25), departed()])
        .when(StaffCommand::Depart { on: date(2026, 1, 10) })
        .then_rejected(inactive);
    given::<Staff>([staff_registered(25)])
        .when(StaffCommand::Depart { on: date(2026, 1, 9) })
        .then([departed()]);
    let staff = kui_domain::Aggregate::from_events(&[staff_registered(25), departed()]);
    assert!(!Staff::is_active(&staff));
}

#[test]
fn commands_on_an_unregistered_staff_member_are_not_found() {
    for command in [
        StaffCommand::ChangeCapacity { capacity: 30 },
        StaffCommand::Depart { on: today() },
    ] {
        let outcome = given::<Staff>([]).when(command.clone());
        assert_eq!(
            outcome.result,
            Err(Rejection::NotFound {
                what: "staff member".into()
            }),
            "{command:?}"
        );
    }
}
