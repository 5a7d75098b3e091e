//! The `Municipality` aggregate: the settings that make the age band, team cadence and
//! coordinator capacity per-municipality.

use kui_domain::aggregate::Aggregate;
use kui_domain::event::*;
use kui_domain::testing::given;
use kui_domain::values::AgeBand;
use kui_domain::{Municipality, MunicipalityCode, MunicipalityCommand};

use crate::helpers::*;

fn configure(settings: MunicipalityConfigured) -> MunicipalityCommand {
    MunicipalityCommand(settings)
}

#[test]
fn configuring_records_the_settings() {
    given::<Municipality>([])
        .when(configure(settings()))
        .then([settings().into()]);
}

#[test]
fn invalid_age_band_is_rejected() {
    for (from, until) in [(25, 15), (15, 15), (9, 25), (15, 36)] {
        let settings = MunicipalityConfigured {
            age_band: AgeBand { from, until },
            ..settings()
        };
        given::<Municipality>([])
            .when(configure(settings))
            .then_invalid("age band");
    }
}

#[test]
fn empty_name_is_rejected() {
    let settings = MunicipalityConfigured {
        name: " ".into(),
        ..settings()
    };
    given::<Municipality>([]).when(configure(settings)).then_invalid("name");
}

#[test]
fn every_team_meets_every_1_to_90_days() {
    for days in [0, 91] {
        let mut variants = [settings(), settings(), settings()];
        variants[0].cadence.team_1_days = days;
        variants[1].cadence.team_2_days = days;
        variants[2].cadence.team_3_days = days;
        for settings in variants {
            given::<Municipality>([])
                .when(configure(settings))
                .then_invalid("cadence");
        }
    }
    let mut edges = settings();
    edges.cadence = TeamCadence {
        team_1_days: 1,
        team_2_days: 90,
        team_3_days: 1,
    };
    given::<Municipality>([])
        .when(configure(edges.clone()))
        .then([edges.into()]);
}

#[test]
fn coordinator_capacity_is_1_to_200() {
    for capacity in [0, 201] {
        let settings = MunicipalityConfigured {
            coordinator_capacity: capacity,
            ..settings()
        };
        given::<Municipality>([])
            .when(configure(settings))
            .then_invalid("coordinator_capacity");
    }
}

#[test]
fn configuring_the_same_settings_again_changes_nothing() {
    given::<Municipality>([settings().into()])
        .when(configure(settings()))
        .then_rejected_by("no_change");
}

#[test]
fn reconfiguring_records_the_new_settings() {
    let widened = MunicipalityConfigured {
        coordinator_capacity: 30,
        ..settings()
    };
    given::<Municipality>([settings().into()])
        .when(configure(widened.clone()))
        .then([widened.into()]);
}

#[test]
fn municipality_code_cannot_change() {
    let moved = MunicipalityConfigured {
        municipality: MunicipalityCode::new(851).unwrap(),
        ..settings()
    };
    given::<Municipality>([settings().into()])
        .when(configure(moved))
        .then_invalid("municipality");
}

#[test]
fn unconfigured_municipality_uses_the_laws_band() {
    assert_eq!(Municipality::default().age_band(), band_15_25());
    let configured = Municipality::from_events(&[settings().into()]);
    assert_eq!(configured.age_band(), band_15_30());
}
