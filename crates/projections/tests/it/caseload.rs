//! The caseload: who coordinates how many, and the cases nobody coordinates.

use kui_domain::values::{Department, NeedLevel, SchoolStatus};
use kui_projections::fact::{Fact, Stamp};
use kui_projections::models::{Caseload, Directory, Projector};

use crate::helpers::*;

#[test]
fn a_coordinator_who_left_counts_no_case_and_their_c_need_cases_are_unassigned() {
    let (mut directory, mut caseload) = (Directory::default(), Caseload::default());
    let y = youth(31);
    let events = [
        registered(staff(5), Department::JobCentre),
        referred(y, date(2008, 1, 1), date(2025, 3, 1), SchoolStatus::Inactive),
        need(y, NeedLevel::C),
        assigned(y, staff(5), Department::JobCentre),
    ];
    let mut position = 0;
    let mut fold = |event: kui_domain::Event, directory: &mut Directory, caseload: &mut Caseload| {
        position += 1;
        let fact = Fact::decode(event.event_type(), event.schema_version(), &event.to_payload()).expect("decodes");
        let stamp = Stamp {
            position,
            on: date(2025, 3, 1),
        };
        directory.apply(stamp, &fact);
        caseload.apply(stamp, &fact);
    };
    for event in events {
        fold(event, &mut directory, &mut caseload);
    }
    let before = caseload.report(&directory, None);
    assert_eq!(before.coordinators.iter().map(|c| c.active).sum::<usize>(), 1);
    assert!(before.unassigned_c_need.is_empty());
    fold(departed(staff(5), date(2025, 6, 30)), &mut directory, &mut caseload);
    let after = caseload.report(&directory, None);
    assert!(after.coordinators.is_empty(), "{:?}", after.coordinators);
    assert_eq!(
        after.unassigned_c_need.iter().map(|u| u.youth_id).collect::<Vec<_>>(),
        vec![y]
    );
}
