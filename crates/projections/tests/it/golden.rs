//! The committed small fixture through every read model, compared with committed,
//! readable JSON reports. `UPDATE_EXPECT=1 cargo test -p kui-projections --test
//! integration golden` rewrites them after a deliberate change.

use std::collections::BTreeMap;
use std::sync::Arc;

use kui_projections::{MemoryStore, Options, Projections, ReadModels};
use serde_json::Value;

use crate::helpers::*;

fn fixture_models() -> ReadModels {
    let log = fixture_log();
    let options = Options {
        workers: 2,
        save_every: 50_000,
        save_after: std::time::Duration::ZERO,
        past_days: 8,
        past_bytes: 512 * 1024 * 1024,
    };
    let (projections, _) =
        Projections::open(log, Arc::new(MemoryStore::default()), options, &[], &mut |_, _| {}).expect("open");
    let models = projections.read().clone();
    models
}

#[test]
fn golden_reports_of_the_small_fixture() {
    let models = fixture_models();
    let as_of = date(2026, 11, 1);
    let json = |value: &dyn erased::Report| value.to_json();
    let mut timeline: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (youth, positions) in &models.timeline.related {
        timeline.insert(youth.to_string(), positions.clone());
    }
    let reports: Vec<(&str, Value)> = vec![
        (
            "teams",
            json(
                &models
                    .teams
                    .report(&models.directory, &models.meetings, None, as_of, 90),
            ),
        ),
        ("meetings", json(&models.meetings.report(None, None, as_of, 40))),
        ("caseload", json(&models.caseload.report(&models.directory, None))),
        ("alarms", json(&models.alarms.report(None, None, as_of))),
        ("stats", json(&models.statistics.report(None, as_of))),
        ("timeline", json(&timeline)),
    ];
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut stale = Vec::new();
    for (name, report) in reports {
        let path = workspace_root().join(format!("crates/projections/tests/golden/{name}.json"));
        let text = serde_json::to_string_pretty(&report).expect("json") + "\n";
        if update {
            std::fs::write(&path, &text).expect("write golden file");
        } else {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            if committed != text {
                stale.push(format!("{name}:\n{}", diff(&committed, &text)));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "golden reports differ:\n{}\nreview the change, then run \
         UPDATE_EXPECT=1 cargo test -p kui-projections --test integration golden",
        stale.join("\n")
    );
}

#[test]
fn the_golden_fixture_has_something_in_every_report() {
    let models = fixture_models();
    let as_of = date(2026, 11, 1);
    let teams = models
        .teams
        .report(&models.directory, &models.meetings, None, as_of, 90);
    assert!(teams.teams.iter().all(|team| team.count > 0), "every team has members");
    let meetings = models.meetings.report(None, None, as_of, 40);
    assert!(!meetings.past.is_empty());
    let caseload = models.caseload.report(&models.directory, None);
    assert!(!caseload.coordinators.is_empty());
    let alarms = models.alarms.report(None, None, as_of);
    assert!(
        alarms.counts.len() >= 3,
        "several rules fire on the fixture: {:?}",
        alarms.counts
    );
    let stats = models.statistics.report(None, as_of);
    assert!(stats.viborg.total > 0 && stats.handover.birthdays > 0);
    assert_eq!(
        stats.viborg.total,
        stats.viborg.assigned + stats.viborg.declined + stats.viborg.not_relevant + stats.viborg.completed
    );
    assert!(!models.timeline.related.is_empty());
}

/// Serialising differently typed reports through one closure.
mod erased {
    pub trait Report {
        fn to_json(&self) -> serde_json::Value;
    }

    impl<T: serde::Serialize> Report for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("reports serialise")
        }
    }
}

#[test]
fn the_young_people_listing_filters_across_models() {
    use kui_domain::values::{NeedLevel, Team};
    use kui_projections::queries::YouthFilter;
    let models = fixture_models();
    let as_of = date(2026, 11, 1);
    let everyone = models.young_people(&YouthFilter::default(), as_of);
    assert_eq!(everyone.len(), models.teams.members.len());
    let team_3 = models.young_people(
        &YouthFilter {
            team: Some(Team::Team3),
            open: Some(true),
            ..YouthFilter::default()
        },
        as_of,
    );
    assert!(!team_3.is_empty() && team_3.iter().all(|row| row.team == Some(Team::Team3) && row.open));
    let with_alarm = models.young_people(
        &YouthFilter {
            has_alarm: Some(true),
            ..YouthFilter::default()
        },
        as_of,
    );
    let mut alarmed: Vec<_> = models.alarms.alarms(as_of).into_iter().map(|a| a.youth_id).collect();
    alarmed.sort();
    alarmed.dedup();
    assert_eq!(with_alarm.len(), alarmed.len());
    let coordinator = everyone
        .iter()
        .find_map(|row| row.coordinator)
        .expect("someone is coordinated")
        .0;
    let theirs = models.young_people(
        &YouthFilter {
            coordinator: Some(coordinator),
            ..YouthFilter::default()
        },
        as_of,
    );
    assert!(
        !theirs.is_empty()
            && theirs
                .iter()
                .all(|row| row.coordinator.map(|c| c.0) == Some(coordinator))
    );
    let c_need_teens = models.young_people(
        &YouthFilter {
            need: Some(NeedLevel::C),
            min_age: Some(15),
            max_age: Some(17),
            ..YouthFilter::default()
        },
        as_of,
    );
    assert!(c_need_teens
        .iter()
        .all(|row| row.need == Some(NeedLevel::C) && (15..=17).contains(&row.age)));
}

#[test]
fn one_coordinators_load_is_their_row_of_the_report() {
    let models = fixture_models();
    let report = models.caseload.report(&models.directory, None);
    for row in &report.coordinators {
        assert_eq!(
            models
                .caseload
                .coordinator_load(&models.directory, row.staff_id)
                .as_ref(),
            Some(row)
        );
    }
    let reported: Vec<_> = report.coordinators.iter().map(|row| row.staff_id).collect();
    let idle = models
        .directory
        .staff
        .keys()
        .copied()
        .find(|staff| !reported.contains(staff))
        .expect("the fixture has staff who coordinate nobody");
    let load = models
        .caseload
        .coordinator_load(&models.directory, idle)
        .expect("a registered staff member has a load");
    assert_eq!((load.active, load.over_capacity), (0, false));
    assert_eq!(load.capacity, models.directory.capacity_of(idle));
    let stranger = kui_domain::StaffId(uuid::Uuid::from_u128(7));
    assert_eq!(models.caseload.coordinator_load(&models.directory, stranger), None);
}

/// The first lines of a unified diff from the committed report to the computed one.
fn diff(committed: &str, computed: &str) -> String {
    let diff = similar::TextDiff::from_lines(committed, computed)
        .unified_diff()
        .context_radius(2)
        .header("committed", "computed")
        .to_string();
    diff.lines().take(60).collect::<Vec<_>>().join("\n")
}
