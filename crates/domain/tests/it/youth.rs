//! The `Youth` aggregate: referral, the coordinator scheme, the 18th birthday, the plan,
//! consent, teams and closing.

use kui_domain::aggregate::Aggregate;
use kui_domain::event::*;
use kui_domain::testing::{date, given, noon};
use kui_domain::values::{
    AgeBand, CloseReason, ConsentGiver, Department, Destination, NeedLevel, Plan, PlanKind, ReleaseReason,
    SchoolStatus, Team, TeamReason,
};
use kui_domain::youth::CaseStatus;
use kui_domain::{CaseCommand, CoordinatorChoice, Referral, Rejection, Youth, YouthInput};

use crate::helpers::*;

/// Assigning a coordinator the way the municipality does it: the team lead chooses.
fn assign(coordinator: kui_domain::StaffId) -> YouthInput {
    YouthInput::AssignCoordinator {
        coordinator,
        department: Department::Uu,
        chosen_by: CoordinatorChoice::Staff(team_lead()),
    }
}

fn update_plan(based_on_revision: Option<u32>, kind: PlanKind, plan: Plan) -> CaseCommand {
    CaseCommand::UpdatePlan {
        based_on_revision,
        kind,
        plan,
        updated_by: counsellor(),
    }
}

/// One command of every kind except `Refer`, each valid on an ordinary open case.
fn every_command_but_refer() -> Vec<YouthInput> {
    vec![
        CaseCommand::AssessNeed {
            level: NeedLevel::B,
            assessed_by: counsellor(),
            note: String::new(),
        }
        .into(),
        CaseCommand::AssessReadiness {
            education_ready: true,
            academic: true,
            social: true,
            personal: true,
            grade: 9,
            assessed_by: counsellor(),
        }
        .into(),
        CaseCommand::ChangeSchoolStatus {
            status: SchoolStatus::InEducation,
            on: today(),
        }
        .into(),
        CaseCommand::RecordContact {
            by: counsellor(),
            on: today(),
            offer_made: false,
        }
        .into(),
        CaseCommand::GiveConsent {
            given_by: ConsentGiver::Youth,
            departments: vec![Department::Uu],
        }
        .into(),
        CaseCommand::WithdrawConsent {
            withdrawn_by: ConsentGiver::Youth,
        }
        .into(),
        CaseCommand::OfferCoordinator {
            offered_by: counsellor(),
        }
        .into(),
        assign(counsellor()),
        CaseCommand::DeclineCoordinator {
            declined_by: ConsentGiver::Youth,
            note: String::new(),
        }
        .into(),
        CaseCommand::JudgeCoordinatorNotRelevant {
            judged_by: team_lead(),
            reason: String::new(),
        }
        .into(),
        CaseCommand::ReleaseCoordinator {
            reason: ReleaseReason::Completed,
        }
        .into(),
        YouthInput::AssignCoordinatingCaseworker {
            caseworker: job_adviser(),
            department: Department::JobCentre,
            meeting: None,
        },
        CaseCommand::AssignTeam { team: None }.into(),
        CaseCommand::AssignTeam {
            team: Some(Team::Team3),
        }
        .into(),
        update_plan(None, PlanKind::EducationPlan, plan("start at FGU")).into(),
        CaseCommand::RecordTransitionForm {
            expected_weekly_hours: 12,
            recorded_by: counsellor(),
            note: String::new(),
        }
        .into(),
        CaseCommand::MarkEighteen.into(),
        CaseCommand::MarkAgedOut { band: band_15_25() }.into(),
        CaseCommand::RecordDestination {
            destination: Destination::Work,
            on: today(),
        }
        .into(),
        CaseCommand::Close {
            reason: CloseReason::NoLongerNeeded,
            note: String::new(),
        }
        .into(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Referral.

#[test]
fn referral_in_primary_school_opens_the_case_in_team_1() {
    let referral = Referral {
        school_status: SchoolStatus::PrimarySchool,
        ..referral(PUPIL_15)
    };
    given::<Youth>([]).when(refer(referral.clone())).then([
        referred(&referral, today()),
        team_assigned(Team::Team1, TeamReason::SchoolStatus),
    ]);
}

#[test]
fn referral_out_of_school_under_18_opens_the_case_in_team_2() {
    let referral = referral(YOUTH_16);
    given::<Youth>([]).when(refer(referral.clone())).then([
        referred(&referral, today()),
        team_assigned(Team::Team2, TeamReason::SchoolStatus),
    ]);
}

#[test]
fn referral_at_18_or_over_opens_the_case_in_team_3_whatever_the_school_status() {
    let referral = Referral {
        school_status: SchoolStatus::InEducation,
        ..referral(ADULT_20)
    };
    given::<Youth>([]).when(refer(referral.clone())).then([
        referred(&referral, today()),
        team_assigned(Team::Team3, TeamReason::Age),
    ]);
}

#[test]
fn referral_on_the_18th_birthday_opens_the_case_in_team_3() {
    let referral = referral(TURNS_18_TODAY);
    given::<Youth>([]).when(refer(referral.clone())).then([
        referred(&referral, today()),
        team_assigned(Team::Team3, TeamReason::Age),
    ]);
    given::<Youth>([])
        .at(noon(2026, 1, 14))
        .when(refer(referral.clone()))
        .then([
            referred(&referral, date(2026, 1, 14)),
            team_assigned(Team::Team2, TeamReason::SchoolStatus),
        ]);
}

#[test]
fn referral_records_the_name_trimmed() {
    let referral = Referral {
        name: "  Freja Nielsen \n".into(),
        ..referral(YOUTH_16)
    };
    let events = given::<Youth>([])
        .when(refer(referral))
        .then_types(&["YouthReferred", "TeamAssigned"]);
    match &events[0] {
        Event::YouthReferred(e) => assert_eq!(e.name, "Freja Nielsen"),
        other => panic!("expected YouthReferred, got {other:?}"),
    }
}

#[test]
fn referral_below_the_age_band_is_rejected() {
    given::<Youth>([])
        .when(refer(referral(CHILD_14)))
        .then_rejected(Rejection::OutsideAgeBand {
            age: 14,
            from: 15,
            until: 25,
        });
}

#[test]
fn referral_at_the_end_of_the_age_band_is_rejected() {
    given::<Youth>([])
        .when(refer(referral(ADULT_25)))
        .then_rejected(Rejection::OutsideAgeBand {
            age: 25,
            from: 15,
            until: 25,
        });
}

#[test]
fn age_band_includes_its_first_age_and_excludes_its_last() {
    given::<Youth>([])
        .when(refer(referral(TURNS_15_TODAY)))
        .then_types(&["YouthReferred", "TeamAssigned"]);
    given::<Youth>([])
        .when(refer(referral(LAST_DAY_AT_24)))
        .then_types(&["YouthReferred", "TeamAssigned"]);
    given::<Youth>([])
        .at(noon(2026, 1, 16))
        .when(refer(referral(LAST_DAY_AT_24)))
        .then_rejected(Rejection::OutsideAgeBand {
            age: 25,
            from: 15,
            until: 25,
        });
}

#[test]
fn age_band_is_the_municipalitys_a_15_30_band_accepts_a_27_year_old() {
    given::<Youth>([])
        .when(YouthInput::Refer {
            youth_id: youth_id(),
            referral: referral(ADULT_27),
            age_band: band_15_30(),
        })
        .then_types(&["YouthReferred", "TeamAssigned"]);
    given::<Youth>([])
        .when(refer(referral(ADULT_27)))
        .then_rejected(Rejection::OutsideAgeBand {
            age: 27,
            from: 15,
            until: 25,
        });
}

#[test]
fn age_band_starting_at_13_accepts_a_14_year_old() {
    let aalborg = AgeBand::new(13, 30).unwrap();
    given::<Youth>([])
        .when(YouthInput::Refer {
            youth_id: youth_id(),
            referral: referral(CHILD_14),
            age_band: aalborg,
        })
        .then_types(&["YouthReferred", "TeamAssigned"]);
}

#[test]
fn referral_with_an_empty_name_is_rejected() {
    given::<Youth>([])
        .when(refer(Referral {
            name: " \t ".into(),
            ..referral(YOUTH_16)
        }))
        .then_invalid("name");
}

#[test]
fn second_referral_of_an_open_case_is_rejected() {
    given::<Youth>(case())
        .when(refer(referral(YOUTH_16)))
        .then_rejected(Rejection::CaseAlreadyOpen);
}

#[test]
fn closed_case_rejects_every_command_but_a_referral() {
    let history = case_with([closed(CloseReason::NoLongerNeeded, "")]);
    for command in every_command_but_refer() {
        let outcome = given::<Youth>(history.clone()).when(command.clone());
        assert_eq!(outcome.result, Err(Rejection::CaseClosed), "{command:?}");
    }
}

#[test]
fn new_referral_re_opens_a_closed_case() {
    let mut history = case_with([closed(CloseReason::NoLongerNeeded, "")]);
    let events = given::<Youth>(history.clone())
        .when(refer(referral(YOUTH_16)))
        .then_types(&["YouthReferred", "TeamAssigned"]);
    history.extend(events);
    let youth = Youth::from_events(&history);
    assert_eq!(youth.status, CaseStatus::Open);
    assert_eq!(youth.referrals, 2);
    assert_eq!(youth.first_referred_on, Some(opened_on()));
}

#[test]
fn re_referral_with_a_different_cpr_is_rejected() {
    let history = case_with([closed(CloseReason::NoLongerNeeded, "")]);
    given::<Youth>(history)
        .when(refer(referral(PUPIL_15)))
        .then_invalid("cpr");
}

#[test]
fn commands_on_a_never_referred_youth_are_not_found() {
    for command in every_command_but_refer() {
        let outcome = given::<Youth>([]).when(command.clone());
        assert_eq!(
            outcome.result,
            Err(Rejection::NotFound {
                what: "youth case".into()
            }),
            "{command:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The coordinator (contact person) scheme.

#[test]
fn coordinator_scheme_is_voluntary_a_decline_blocks_assignment_until_a_new_offer() {
    let mut history = case_with([offered()]);

    let events = given::<Youth>(history.clone())
        .when(CaseCommand::DeclineCoordinator {
            declined_by: ConsentGiver::Youth,
            note: "does not want more meetings".into(),
        })
        .then_types(&["CoordinatorDeclined"]);
    assert_eq!(events, [declined()]);
    history.extend(events);

    given::<Youth>(history.clone())
        .when(assign(counsellor()))
        .then_rejected(Rejection::CoordinatorDeclined);

    let events = given::<Youth>(history.clone())
        .when(CaseCommand::OfferCoordinator {
            offered_by: counsellor(),
        })
        .then_types(&["CoordinatorOffered"]);
    history.extend(events);

    given::<Youth>(history)
        .when(assign(counsellor()))
        .then([assigned(counsellor())]);
}

#[test]
fn young_person_cannot_choose_the_coordinator() {
    given::<Youth>(case_with([offered()]))
        .when(YouthInput::AssignCoordinator {
            coordinator: counsellor(),
            department: Department::Uu,
            chosen_by: CoordinatorChoice::YoungPerson,
        })
        .then_rejected(Rejection::YouthCannotChooseCoordinator);
}

#[test]
fn coordinator_chosen_by_a_meeting_records_the_meeting() {
    given::<Youth>(case_with([offered()]))
        .when(YouthInput::AssignCoordinator {
            coordinator: counsellor(),
            department: Department::Uu,
            chosen_by: CoordinatorChoice::Meeting(meeting_id(), team_lead()),
        })
        .then([CoordinatorAssigned {
            youth_id: youth_id(),
            coordinator: counsellor(),
            department: Department::Uu,
            assigned_by: team_lead(),
            meeting: Some(meeting_id()),
        }
        .into()]);
}

#[test]
fn assigning_the_same_coordinator_again_is_rejected() {
    given::<Youth>(case_with([offered(), assigned(counsellor())]))
        .when(assign(counsellor()))
        .then_rejected(Rejection::SameCoordinator);
}

#[test]
fn assigning_another_coordinator_hands_over_from_the_current_one() {
    given::<Youth>(case_with([offered(), assigned(counsellor())]))
        .when(assign(job_adviser()))
        .then([
            released(counsellor(), ReleaseReason::HandedOver),
            assigned(job_adviser()),
        ]);
}

#[test]
fn offering_the_scheme_twice_or_while_assigned_changes_nothing() {
    let offer = CaseCommand::OfferCoordinator {
        offered_by: counsellor(),
    };
    given::<Youth>(case_with([offered()]))
        .when(offer.clone())
        .then_rejected_by("no_change");
    given::<Youth>(case_with([offered(), assigned(counsellor())]))
        .when(offer.clone())
        .then_rejected_by("no_change");
    given::<Youth>(case()).when(offer).then([offered()]);
}

#[test]
fn declining_without_a_pending_offer_is_rejected() {
    let decline = CaseCommand::DeclineCoordinator {
        declined_by: ConsentGiver::Youth,
        note: String::new(),
    };
    given::<Youth>(case())
        .when(decline.clone())
        .then_rejected(Rejection::NoPendingOffer);
    given::<Youth>(case_with([offered(), assigned(counsellor())]))
        .when(decline)
        .then_rejected(Rejection::NoPendingOffer);
}

#[test]
fn releasing_without_a_coordinator_is_rejected() {
    let release = CaseCommand::ReleaseCoordinator {
        reason: ReleaseReason::Completed,
    };
    given::<Youth>(case())
        .when(release.clone())
        .then_rejected(Rejection::NoCoordinator);
    given::<Youth>(case_with([offered(), assigned(counsellor())]))
        .when(release)
        .then([released(counsellor(), ReleaseReason::Completed)]);
}

#[test]
fn coordinator_cannot_be_judged_not_relevant_while_assigned() {
    let judge = CaseCommand::JudgeCoordinatorNotRelevant {
        judged_by: team_lead(),
        reason: "single-discipline need".into(),
    };
    given::<Youth>(case_with([offered(), assigned(counsellor())]))
        .when(judge.clone())
        .then_rejected_by("no_change");
    given::<Youth>(case()).when(judge).then([CoordinatorJudgedNotRelevant {
        youth_id: youth_id(),
        judged_by: team_lead(),
        reason: "single-discipline need".into(),
    }
    .into()]);
}

#[test]
fn appointing_the_same_coordinating_caseworker_again_changes_nothing() {
    let appoint = YouthInput::AssignCoordinatingCaseworker {
        caseworker: job_adviser(),
        department: Department::JobCentre,
        meeting: Some(meeting_id()),
    };
    let appointed = CoordinatingCaseworkerAssigned {
        youth_id: youth_id(),
        caseworker: job_adviser(),
        department: Department::JobCentre,
        meeting: Some(meeting_id()),
    };
    given::<Youth>(case())
        .when(appoint.clone())
        .then([appointed.clone().into()]);
    given::<Youth>(case_with([appointed.into()]))
        .when(appoint)
        .then_rejected_by("no_change");
}

// ---------------------------------------------------------------------------------------------
// The 18th birthday.

#[test]
fn turned_eighteen_is_not_recorded_before_the_birthday() {
    given::<Youth>(case())
        .at(noon(2027, 6, 14))
        .when(CaseCommand::MarkEighteen)
        .then_rejected(Rejection::NotYetEighteen {
            birthday: date(2027, 6, 15),
        });
}

#[test]
fn turned_eighteen_on_the_birthday_hands_the_case_from_team_2_to_team_3() {
    given::<Youth>(case())
        .at(noon(2027, 6, 15))
        .when(CaseCommand::MarkEighteen)
        .then([
            TurnedEighteen {
                youth_id: youth_id(),
                birthday: date(2027, 6, 15),
            }
            .into(),
            team_handed_over(Team::Team2, Team::Team3),
        ]);
}

#[test]
fn turned_eighteen_records_the_birthday_even_when_marked_late() {
    given::<Youth>(case())
        .at(noon(2027, 7, 1))
        .when(CaseCommand::MarkEighteen)
        .then([
            TurnedEighteen {
                youth_id: youth_id(),
                birthday: date(2027, 6, 15),
            }
            .into(),
            team_handed_over(Team::Team2, Team::Team3),
        ]);
}

#[test]
fn turned_eighteen_in_team_3_already_needs_no_hand_over() {
    given::<Youth>(case_with([team_handed_over(Team::Team2, Team::Team3)]))
        .at(noon(2027, 6, 15))
        .when(CaseCommand::MarkEighteen)
        .then([TurnedEighteen {
            youth_id: youth_id(),
            birthday: date(2027, 6, 15),
        }
        .into()]);
}

#[test]
fn turned_eighteen_is_recorded_exactly_once() {
    let mut history = case();
    let events = given::<Youth>(history.clone())
        .at(noon(2027, 6, 15))
        .when(CaseCommand::MarkEighteen)
        .then_types(&["TurnedEighteen", "TeamHandedOver"]);
    history.extend(events);
    given::<Youth>(history.clone())
        .at(noon(2027, 6, 16))
        .when(CaseCommand::MarkEighteen)
        .then_rejected(Rejection::AlreadyEighteen);

    // A re-referral does not make the young person turn 18 again.
    history.push(closed(CloseReason::Other, ""));
    history.extend(
        given::<Youth>(history.clone())
            .at(noon(2027, 8, 1))
            .when(refer(referral(YOUTH_16)))
            .then_types(&["YouthReferred", "TeamAssigned"]),
    );
    given::<Youth>(history)
        .at(noon(2027, 8, 2))
        .when(CaseCommand::MarkEighteen)
        .then_rejected(Rejection::AlreadyEighteen);
}

#[test]
fn leap_day_child_turns_eighteen_on_the_first_of_march_in_a_common_year() {
    let history = opened(&referral(LEAP_DAY), Team::Team2);
    given::<Youth>(history.clone())
        .at(noon(2026, 2, 28))
        .when(CaseCommand::MarkEighteen)
        .then_rejected(Rejection::NotYetEighteen {
            birthday: date(2026, 3, 1),
        });
    given::<Youth>(history)
        .at(noon(2026, 3, 1))
        .when(CaseCommand::MarkEighteen)
        .then([
            TurnedEighteen {
                youth_id: youth_id(),
                birthday: date(2026, 3, 1),
            }
            .into(),
            team_handed_over(Team::Team2, Team::Team3),
        ]);
}

#[test]
fn first_referred_after_the_18th_birthday_never_records_turned_eighteen() {
    given::<Youth>(adult_case_with([]))
        .when(CaseCommand::MarkEighteen)
        .then_rejected_by("no_change");
}

// ---------------------------------------------------------------------------------------------
// The plan.

#[test]
fn first_plan_is_revision_1() {
    given::<Youth>(case())
        .when(update_plan(None, PlanKind::EducationPlan, plan("start at FGU")))
        .then([plan_updated(1, PlanKind::EducationPlan, plan("start at FGU"))]);
}

#[test]
fn each_plan_update_takes_the_next_revision() {
    given::<Youth>(case_with([plan_updated(
        1,
        PlanKind::EducationPlan,
        plan("start at FGU"),
    )]))
    .when(update_plan(
        Some(1),
        PlanKind::EducationPlan,
        plan("start at FGU in August"),
    ))
    .then([plan_updated(2, PlanKind::EducationPlan, plan("start at FGU in August"))]);
}

#[test]
fn plan_update_based_on_a_stale_revision_is_rejected() {
    let history = case_with([
        plan_updated(1, PlanKind::EducationPlan, plan("start at FGU")),
        plan_updated(2, PlanKind::EducationPlan, plan("start at FGU in August")),
    ]);
    given::<Youth>(history)
        .when(update_plan(
            Some(1),
            PlanKind::EducationPlan,
            plan("start an apprenticeship"),
        ))
        .then_rejected(Rejection::StalePlan { based_on: 1, actual: 2 });
}

#[test]
fn job_plan_under_18_is_rejected() {
    given::<Youth>(case())
        .when(update_plan(None, PlanKind::JobPlan, plan("find a job")))
        .then_rejected(Rejection::WrongPlanKind {
            kind: "job_plan",
            age: 16,
        });
    given::<Youth>(adult_case_with([]))
        .when(update_plan(None, PlanKind::JobPlan, plan("find a job")))
        .then([plan_updated(1, PlanKind::JobPlan, plan("find a job"))]);
}

#[test]
fn plan_without_goals_or_with_an_empty_goal_or_action_is_rejected() {
    let empty_goal = Plan {
        goals: vec!["start at FGU".into(), "  ".into()],
        ..plan("")
    };
    let mut empty_action = plan("start at FGU");
    empty_action.actions[0].description = " ".into();
    for bad in [Plan::default(), plan(""), empty_goal, empty_action] {
        given::<Youth>(case())
            .when(update_plan(None, PlanKind::EducationPlan, bad))
            .then_invalid("plan");
    }
}

#[test]
fn unchanged_plan_is_rejected() {
    given::<Youth>(case_with([plan_updated(
        1,
        PlanKind::EducationPlan,
        plan("start at FGU"),
    )]))
    .when(update_plan(Some(1), PlanKind::EducationPlan, plan("start at FGU")))
    .then_rejected_by("no_change");
}

// ---------------------------------------------------------------------------------------------
// Consent.

#[test]
fn withdrawing_consent_needs_consent_on_record() {
    let withdraw = CaseCommand::WithdrawConsent {
        withdrawn_by: ConsentGiver::Youth,
    };
    given::<Youth>(case())
        .when(withdraw.clone())
        .then_rejected(Rejection::NoConsent);
    given::<Youth>(case_with([consent_given(ConsentGiver::Youth)]))
        .when(withdraw)
        .then([ConsentWithdrawn {
            youth_id: youth_id(),
            withdrawn_by: ConsentGiver::Youth,
        }
        .into()]);
}

#[test]
fn guardian_cannot_consent_after_18() {
    let consent = |given_by| CaseCommand::GiveConsent {
        given_by,
        departments: vec![Department::Uu, Department::JobCentre],
    };
    given::<Youth>(adult_case_with([]))
        .when(consent(ConsentGiver::Guardian))
        .then_invalid("given_by");
    given::<Youth>(adult_case_with([]))
        .when(consent(ConsentGiver::Youth))
        .then([consent_given(ConsentGiver::Youth)]);
    given::<Youth>(case())
        .when(consent(ConsentGiver::Guardian))
        .then([consent_given(ConsentGiver::Guardian)]);
}

#[test]
fn after_18_a_guardian_can_neither_withdraw_consent_nor_decline_the_coordinator() {
    given::<Youth>(adult_case_with([consent_given(ConsentGiver::Youth)]))
        .when(CaseCommand::WithdrawConsent {
            withdrawn_by: ConsentGiver::Guardian,
        })
        .then_invalid("withdrawn_by");
    given::<Youth>(adult_case_with([offered()]))
        .when(CaseCommand::DeclineCoordinator {
            declined_by: ConsentGiver::Guardian,
            note: String::new(),
        })
        .then_invalid("declined_by");
    given::<Youth>(adult_case_with([offered()]))
        .when(CaseCommand::DeclineCoordinator {
            declined_by: ConsentGiver::Youth,
            note: String::new(),
        })
        .then_types(&["CoordinatorDeclined"]);
}

#[test]
fn consent_must_name_a_department() {
    given::<Youth>(case())
        .when(CaseCommand::GiveConsent {
            given_by: ConsentGiver::Youth,
            departments: vec![],
        })
        .then_invalid("departments");
}

// ---------------------------------------------------------------------------------------------
// Ageing out and closing.

#[test]
fn ageing_out_before_the_end_of_the_band_is_rejected() {
    given::<Youth>(adult_case_with([]))
        .at(noon(2030, 5, 19))
        .when(CaseCommand::MarkAgedOut { band: band_15_25() })
        .then_rejected(Rejection::NotYetAgedOut {
            date: date(2030, 5, 20),
        });
    given::<Youth>(adult_case_with([]))
        .at(noon(2030, 5, 20))
        .when(CaseCommand::MarkAgedOut { band: band_15_30() })
        .then_rejected(Rejection::NotYetAgedOut {
            date: date(2035, 5, 20),
        });
}

#[test]
fn ageing_out_releases_the_coordinator_and_closes_the_case() {
    given::<Youth>(adult_case_with([offered(), assigned(job_adviser())]))
        .at(noon(2030, 5, 20))
        .when(CaseCommand::MarkAgedOut { band: band_15_25() })
        .then([
            AgedOut {
                youth_id: youth_id(),
                on: date(2030, 5, 20),
                band_until: 25,
            }
            .into(),
            released(job_adviser(), ReleaseReason::CaseClosed),
            closed(CloseReason::AgedOut, ""),
        ]);
}

#[test]
fn ageing_out_without_a_coordinator_closes_the_case() {
    given::<Youth>(adult_case_with([]))
        .at(noon(2030, 6, 1))
        .when(CaseCommand::MarkAgedOut { band: band_15_25() })
        .then([
            AgedOut {
                youth_id: youth_id(),
                on: date(2030, 5, 20),
                band_until: 25,
            }
            .into(),
            closed(CloseReason::AgedOut, ""),
        ]);
}

#[test]
fn closing_releases_the_coordinator_first() {
    let close = CaseCommand::Close {
        reason: CloseReason::MovedAway,
        note: "moved to Aarhus".into(),
    };
    given::<Youth>(case_with([offered(), assigned(counsellor())]))
        .when(close.clone())
        .then([
            released(counsellor(), ReleaseReason::CaseClosed),
            closed(CloseReason::MovedAway, "moved to Aarhus"),
        ]);
    given::<Youth>(case())
        .when(close)
        .then([closed(CloseReason::MovedAway, "moved to Aarhus")]);
}

// ---------------------------------------------------------------------------------------------
// Teams.

#[test]
fn team_without_an_explicit_choice_follows_age_and_school_status() {
    let assign_team = CaseCommand::AssignTeam { team: None };
    let out_of_school = referral(YOUTH_16);
    given::<Youth>([referred(&out_of_school, opened_on())])
        .when(assign_team.clone())
        .then([team_assigned(Team::Team2, TeamReason::SchoolStatus)]);

    let pupil = Referral {
        school_status: SchoolStatus::PrimarySchool,
        ..referral(PUPIL_15)
    };
    given::<Youth>([referred(&pupil, opened_on())])
        .when(assign_team.clone())
        .then([team_assigned(Team::Team1, TeamReason::SchoolStatus)]);

    let adult = referral(ADULT_20);
    given::<Youth>([referred(&adult, opened_on())])
        .when(assign_team)
        .then([team_assigned(Team::Team3, TeamReason::Age)]);
}

#[test]
fn team_follows_a_change_of_school_status() {
    let pupil = Referral {
        school_status: SchoolStatus::PrimarySchool,
        ..referral(PUPIL_15)
    };
    let mut history = opened(&pupil, Team::Team1);
    history.push(
        SchoolStatusChanged {
            youth_id: youth_id(),
            status: SchoolStatus::InEducation,
            on: today(),
        }
        .into(),
    );
    given::<Youth>(history)
        .when(CaseCommand::AssignTeam { team: None })
        .then([team_handed_over(Team::Team1, Team::Team2)]);
}

#[test]
fn explicit_team_hands_over_when_already_in_a_team() {
    given::<Youth>(case())
        .when(CaseCommand::AssignTeam {
            team: Some(Team::Team3),
        })
        .then([team_handed_over(Team::Team2, Team::Team3)]);
    given::<Youth>([referred(&referral(YOUTH_16), opened_on())])
        .when(CaseCommand::AssignTeam {
            team: Some(Team::Team3),
        })
        .then([team_assigned(Team::Team3, TeamReason::Explicit)]);
}

#[test]
fn assigning_the_current_team_changes_nothing() {
    given::<Youth>(case())
        .when(CaseCommand::AssignTeam {
            team: Some(Team::Team2),
        })
        .then_rejected_by("no_change");
    given::<Youth>(case())
        .when(CaseCommand::AssignTeam { team: None })
        .then_rejected_by("no_change");
}

// ---------------------------------------------------------------------------------------------
// Assessments and records.

#[test]
fn readiness_is_assessed_in_grades_7_to_10_only() {
    let assess = |grade| CaseCommand::AssessReadiness {
        education_ready: false,
        academic: true,
        social: false,
        personal: true,
        grade,
        assessed_by: counsellor(),
    };
    for grade in [0, 6, 11] {
        given::<Youth>(case()).when(assess(grade)).then_invalid("grade");
    }
    for grade in [7, 10] {
        given::<Youth>(case()).when(assess(grade)).then([ReadinessAssessed {
            youth_id: youth_id(),
            education_ready: false,
            academic: true,
            social: false,
            personal: true,
            grade,
            assessed_by: counsellor(),
        }
        .into()]);
    }
}

#[test]
fn transition_form_cannot_expect_more_hours_than_a_week_has() {
    let form = |expected_weekly_hours| CaseCommand::RecordTransitionForm {
        expected_weekly_hours,
        recorded_by: counsellor(),
        note: String::new(),
    };
    given::<Youth>(case())
        .when(form(169))
        .then_invalid("expected_weekly_hours");
    given::<Youth>(case()).when(form(168)).then([TransitionFormRecorded {
        youth_id: youth_id(),
        expected_weekly_hours: 168,
        recorded_by: counsellor(),
        note: String::new(),
    }
    .into()]);
}

#[test]
fn contact_cannot_be_recorded_in_the_future() {
    let contact = |on| CaseCommand::RecordContact {
        by: counsellor(),
        on,
        offer_made: true,
    };
    given::<Youth>(case())
        .when(contact(date(2026, 1, 16)))
        .then_invalid("on");
    given::<Youth>(case()).when(contact(today())).then([ContactRecorded {
        youth_id: youth_id(),
        by: counsellor(),
        on: today(),
        offer_made: true,
    }
    .into()]);
}

#[test]
fn destination_cannot_be_recorded_in_the_future() {
    let reach = |on| CaseCommand::RecordDestination {
        destination: Destination::Education,
        on,
    };
    given::<Youth>(case()).when(reach(date(2026, 1, 16))).then_invalid("on");
    given::<Youth>(case()).when(reach(today())).then([DestinationReached {
        youth_id: youth_id(),
        destination: Destination::Education,
        on: today(),
    }
    .into()]);
}

#[test]
fn unchanged_school_status_is_rejected() {
    given::<Youth>(case())
        .when(CaseCommand::ChangeSchoolStatus {
            status: SchoolStatus::DroppedOut,
            on: today(),
        })
        .then_rejected_by("no_change");
    given::<Youth>(case())
        .when(CaseCommand::ChangeSchoolStatus {
            status: SchoolStatus::InEducation,
            on: today(),
        })
        .then([SchoolStatusChanged {
            youth_id: youth_id(),
            status: SchoolStatus::InEducation,
            on: today(),
        }
        .into()]);
}

#[test]
fn need_assessment_is_recorded() {
    given::<Youth>(case())
        .when(CaseCommand::AssessNeed {
            level: NeedLevel::C,
            assessed_by: counsellor(),
            note: "several departments involved".into(),
        })
        .then([NeedAssessed {
            youth_id: youth_id(),
            level: NeedLevel::C,
            assessed_by: counsellor(),
            note: "several departments involved".into(),
        }
        .into()]);
}
