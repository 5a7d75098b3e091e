//! The statistics: every month has its row.

use kui_domain::values::SchoolStatus;
use kui_projections::fact::{Fact, Stamp};
use kui_projections::models::{Projector, Statistics};

use crate::helpers::*;

#[test]
fn a_month_without_any_flow_still_has_its_row_and_its_table() {
    let mut statistics = Statistics::default();
    let referrals = [(youth(41), date(2025, 1, 10)), (youth(42), date(2025, 3, 10))];
    for (position, (id, on)) in referrals.into_iter().enumerate() {
        let event = referred(id, date(2008, 1, 1), on, SchoolStatus::Inactive);
        let fact = Fact::decode(event.event_type(), event.schema_version(), &event.to_payload()).expect("decodes");
        statistics.apply(
            Stamp {
                position: position as u64 + 1,
                on,
            },
            &fact,
        );
    }
    let report = statistics.report(None, date(2025, 3, 31));
    let months: Vec<&str> = report.months.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(months, ["2025-01", "2025-02", "2025-03"]);
    assert_eq!(report.months[1].referrals, 0);
    assert_eq!(report.viborg_by_month.len(), 3);
}
