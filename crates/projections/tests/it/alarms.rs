//! One scenario per alarm rule: it opens on the right day, names the right person and
//! who should act, and closes when the fact that satisfies it arrives.

use kui_domain::values::{Department, NeedLevel, SchoolStatus};
use kui_projections::models::alarms::Rule;

use crate::helpers::*;

#[test]
fn turning_18_without_an_adult_side_owner() {
    let y = youth(1);
    let mut s = Scenario::new();
    s.on(
        date(2023, 9, 1),
        referred(y, date(2008, 6, 15), date(2023, 9, 1), SchoolStatus::InEducation),
    );
    s.on(date(2023, 9, 2), need(y, NeedLevel::C));
    // Six months before the 18th birthday (15 June 2026).
    s.assert_opens_on(y, Rule::EighteenWithoutAdultOwner, date(2025, 12, 15));
    let alarm = s
        .model
        .alarms_of(y, date(2026, 1, 1))
        .into_iter()
        .find(|a| a.rule == Rule::EighteenWithoutAdultOwner)
        .expect("alarm");
    assert_eq!(
        (alarm.youth_id, alarm.due, alarm.act, alarm.act_as),
        (y, date(2026, 6, 15), Some(staff(1)), "referrer")
    );

    // A UU coordinator is not the adult side: the alarm stays, and names them.
    s.on(date(2026, 1, 5), assigned(y, staff(20), Department::Uu));
    let alarm = &s.model.alarms_of(y, date(2026, 1, 6))[0];
    assert_eq!(
        (alarm.rule, alarm.act, alarm.act_as),
        (Rule::EighteenWithoutAdultOwner, Some(staff(20)), "coordinator")
    );

    // A job-centre coordinating caseworker satisfies it.
    s.on(date(2026, 2, 1), caseworker(y, staff(21), Department::JobCentre));
    assert!(!s.fires(y, Rule::EighteenWithoutAdultOwner, date(2026, 2, 1)));
    assert!(!s.fires(y, Rule::EighteenWithoutAdultOwner, date(2026, 7, 1)));
}

#[test]
fn the_hand_over_to_team_3_or_closing_the_case_satisfies_the_18_rule() {
    let (a, b) = (youth(2), youth(3));
    let mut s = Scenario::new();
    for y in [a, b] {
        s.on(
            date(2023, 9, 1),
            referred(y, date(2008, 6, 15), date(2023, 9, 1), SchoolStatus::InEducation),
        );
    }
    assert!(s.fires(a, Rule::EighteenWithoutAdultOwner, date(2026, 3, 1)));
    s.on(date(2026, 3, 2), handed_over(a));
    s.on(date(2026, 3, 2), closed(b));
    assert!(!s.fires(a, Rule::EighteenWithoutAdultOwner, date(2026, 3, 2)));
    assert!(s.fires(a, Rule::ReferralNotTabled, date(2026, 3, 2)));
    assert!(s.open(b, date(2026, 3, 2)).is_empty(), "a closed case raises nothing");
}

#[test]
fn a_coordinating_team_that_has_not_met() {
    let y = youth(4);
    let (first, second) = (meeting(1), meeting(2));
    let mut s = Scenario::new();
    s.on(
        date(2025, 11, 1),
        referred(y, date(2010, 3, 10), date(2025, 11, 1), SchoolStatus::InEducation),
    );
    s.on(date(2025, 12, 1), scheduled(first, date(2026, 1, 10)));
    s.on(date(2025, 12, 1), tabled(first, y));
    s.on(
        date(2026, 1, 10),
        team_decision(first, y, staff(7), Some(date(2026, 2, 1))),
    );
    s.on(date(2026, 1, 10), held(first, date(2026, 1, 10)));
    // The decision's own meeting is not the team meeting; the first meeting was due 1 February.
    s.assert_opens_on(y, Rule::CoordinatingTeamNotMet, date(2026, 2, 2));
    let alarm = s
        .model
        .alarms_of(y, date(2026, 2, 2))
        .into_iter()
        .find(|a| a.rule == Rule::CoordinatingTeamNotMet)
        .expect("alarm");
    assert_eq!(
        (alarm.act, alarm.act_as, alarm.due),
        (Some(staff(7)), "lead", date(2026, 2, 1))
    );

    s.on(date(2026, 2, 3), scheduled(second, date(2026, 2, 20)));
    s.on(date(2026, 2, 3), tabled(second, y));
    assert!(
        s.fires(y, Rule::CoordinatingTeamNotMet, date(2026, 2, 19)),
        "tabling alone is not meeting"
    );
    s.on(date(2026, 2, 20), held(second, date(2026, 2, 20)));
    assert!(!s.fires(y, Rule::CoordinatingTeamNotMet, date(2026, 2, 20)));
}

#[test]
fn without_a_planned_date_the_team_must_meet_by_the_17th_birthday() {
    let y = youth(5);
    let m = meeting(3);
    let mut s = Scenario::new();
    s.on(
        date(2025, 11, 1),
        referred(y, date(2010, 3, 10), date(2025, 11, 1), SchoolStatus::InEducation),
    );
    s.on(date(2025, 12, 1), scheduled(m, date(2026, 1, 10)));
    s.on(date(2025, 12, 1), tabled(m, y));
    s.on(date(2026, 1, 10), team_decision(m, y, staff(7), None));
    s.assert_opens_on(y, Rule::CoordinatingTeamNotMet, date(2027, 3, 11));
}

#[test]
fn a_missing_transition_form() {
    let (c, b) = (youth(6), youth(7));
    let mut s = Scenario::new();
    for y in [c, b] {
        s.on(
            date(2025, 8, 1),
            referred(y, date(2011, 5, 1), date(2025, 8, 1), SchoolStatus::PrimarySchool),
        );
    }
    s.on(date(2025, 8, 1), need(c, NeedLevel::C));
    s.on(date(2025, 8, 1), need(b, NeedLevel::B));
    // 14 already; C since 1 August; 30 days' grace.
    s.assert_opens_on(c, Rule::TransitionFormMissing, date(2025, 9, 1));
    assert!(
        !s.fires(b, Rule::TransitionFormMissing, date(2026, 1, 1)),
        "a B-need young person needs no form"
    );
    s.on(date(2025, 9, 5), form(c, 15));
    assert!(!s.fires(c, Rule::TransitionFormMissing, date(2025, 9, 5)));
}

#[test]
fn a_stale_transition_form_in_february_and_august() {
    let y = youth(8);
    let mut s = Scenario::new();
    s.on(
        date(2025, 8, 1),
        referred(y, date(2010, 5, 1), date(2025, 8, 1), SchoolStatus::InEducation),
    );
    s.on(date(2025, 9, 10), form(y, 12));
    s.assert_opens_on(y, Rule::TransitionFormStale, date(2026, 2, 1));
    let alarm = s
        .model
        .alarms_of(y, date(2026, 2, 1))
        .into_iter()
        .find(|a| a.rule == Rule::TransitionFormStale)
        .expect("alarm");
    assert_eq!((alarm.due, alarm.act), (date(2026, 1, 31), Some(staff(3))));
    s.on(date(2026, 2, 5), form(y, 12));
    assert!(!s.fires(y, Rule::TransitionFormStale, date(2026, 2, 5)));
    // Not updated in June or July: open again on 1 August.
    s.assert_opens_on(y, Rule::TransitionFormStale, date(2026, 8, 1));

    // A form expecting 10 hours or less is not kept up to date.
    let light = youth(9);
    s.on(
        date(2025, 8, 1),
        referred(light, date(2010, 5, 1), date(2025, 8, 1), SchoolStatus::InEducation),
    );
    s.on(date(2025, 9, 10), form(light, 10));
    assert!(!s.fires(light, Rule::TransitionFormStale, date(2026, 2, 1)));
}

#[test]
fn a_plan_untouched_for_90_days() {
    let y = youth(10);
    let mut s = Scenario::new();
    s.on(
        date(2024, 12, 1),
        referred(y, date(2006, 1, 1), date(2024, 12, 1), SchoolStatus::Inactive),
    );
    s.on(date(2024, 12, 1), need(y, NeedLevel::B));
    s.on(date(2025, 1, 10), plan_updated(y, 1));
    s.assert_opens_on(y, Rule::PlanStale, date(2025, 4, 11));
    let alarm = &s.model.alarms_of(y, date(2025, 4, 11))[0];
    assert_eq!(
        (alarm.rule, alarm.act, alarm.act_as),
        (Rule::PlanStale, Some(staff(4)), "plan owner")
    );
    s.on(date(2025, 4, 20), plan_updated(y, 2));
    assert!(!s.fires(y, Rule::PlanStale, date(2025, 4, 20)));
    s.assert_opens_on(y, Rule::PlanStale, date(2025, 7, 20));
}

#[test]
fn a_referral_never_tabled() {
    let (y, a) = (youth(11), youth(12));
    let m = meeting(4);
    let mut s = Scenario::new();
    s.on(
        date(2025, 3, 1),
        referred(y, date(2006, 1, 1), date(2025, 3, 1), SchoolStatus::Inactive),
    );
    s.on(
        date(2025, 3, 1),
        referred(a, date(2006, 1, 1), date(2025, 3, 1), SchoolStatus::Inactive),
    );
    s.on(date(2025, 3, 2), need(a, NeedLevel::A));
    s.assert_opens_on(y, Rule::ReferralNotTabled, date(2025, 4, 1));
    let alarm = &s.model.alarms_of(y, date(2025, 4, 1))[0];
    assert_eq!(
        (alarm.due, alarm.act, alarm.act_as),
        (date(2025, 3, 31), Some(staff(1)), "referrer")
    );
    assert!(
        s.open(a, date(2025, 6, 1)).is_empty(),
        "an A-need referral needs no team"
    );
    s.on(date(2025, 4, 3), scheduled(m, date(2025, 4, 10)));
    s.on(date(2025, 4, 3), tabled(m, y));
    // On an agenda is not discussed: the meeting must be held.
    assert!(s.fires(y, Rule::ReferralNotTabled, date(2025, 4, 9)));
    s.on(date(2025, 4, 10), held(m, date(2025, 4, 10)));
    assert!(!s.fires(y, Rule::ReferralNotTabled, date(2025, 4, 10)));
}

#[test]
fn a_cancelled_meeting_or_one_never_held_does_not_count_as_tabled() {
    let (y, z) = (youth(21), youth(22));
    let (cancelled_meeting, forgotten) = (meeting(21), meeting(22));
    let mut s = Scenario::new();
    for id in [y, z] {
        s.on(
            date(2025, 3, 1),
            referred(id, date(2006, 1, 1), date(2025, 3, 1), SchoolStatus::Inactive),
        );
    }
    s.on(date(2025, 3, 5), scheduled(cancelled_meeting, date(2025, 3, 12)));
    s.on(date(2025, 3, 5), tabled(cancelled_meeting, y));
    s.on(date(2025, 3, 10), cancelled(cancelled_meeting));
    s.on(date(2025, 3, 5), scheduled(forgotten, date(2025, 3, 12)));
    s.on(date(2025, 3, 5), tabled(forgotten, z));
    // 45 days later: neither was discussed.
    s.assert_opens_on(y, Rule::ReferralNotTabled, date(2025, 4, 1));
    s.assert_opens_on(z, Rule::ReferralNotTabled, date(2025, 4, 1));
    assert!(s.fires(y, Rule::ReferralNotTabled, date(2025, 4, 15)));
}

#[test]
fn a_coordinator_who_leaves_raises_an_alarm_until_someone_takes_over() {
    let y = youth(23);
    let mut s = Scenario::new();
    s.on(date(2025, 3, 1), registered(staff(5), Department::JobCentre));
    s.on(
        date(2025, 3, 1),
        referred(y, date(2008, 1, 1), date(2025, 3, 1), SchoolStatus::Inactive),
    );
    s.on(date(2025, 3, 2), need(y, NeedLevel::B));
    s.on(date(2025, 3, 3), assigned(y, staff(5), Department::JobCentre));
    assert!(!s.fires(y, Rule::OwnerDeparted, date(2025, 6, 1)));
    s.on(date(2025, 6, 1), departed(staff(5), date(2025, 6, 30)));
    s.assert_opens_on(y, Rule::OwnerDeparted, date(2025, 6, 30));
    let alarm = s
        .model
        .alarms_of(y, date(2025, 7, 1))
        .into_iter()
        .find(|a| a.rule == Rule::OwnerDeparted)
        .expect("open");
    assert_eq!((alarm.act, alarm.act_as), (None, "team lead"));
    assert!(
        alarm.detail.contains("coordinator (job_centre) left on 2025-06-30"),
        "{}",
        alarm.detail
    );
    s.on(date(2025, 7, 2), assigned(y, staff(6), Department::JobCentre));
    assert!(!s.fires(y, Rule::OwnerDeparted, date(2025, 7, 2)));
}

#[test]
fn nobody_who_left_is_asked_to_act() {
    let y = youth(25);
    let mut s = Scenario::new();
    s.on(date(2025, 3, 1), registered(staff(1), Department::Uu));
    s.on(
        date(2025, 3, 1),
        referred(y, date(2006, 1, 1), date(2025, 3, 1), SchoolStatus::Inactive),
    );
    // The referrer is asked while they are there, their team lead once they have left.
    let act = |s: &Scenario, day| {
        s.model
            .alarms_of(y, day)
            .into_iter()
            .find(|a| a.rule == Rule::ReferralNotTabled)
            .map(|a| (a.act, a.act_as))
    };
    assert_eq!(act(&s, date(2025, 4, 2)), Some((Some(staff(1)), "referrer")));
    s.on(date(2025, 4, 10), departed(staff(1), date(2025, 4, 10)));
    assert_eq!(act(&s, date(2025, 4, 11)), Some((None, "team lead")));
}

#[test]
fn a_follow_up_date_passing_without_a_follow_up_meeting_raises_an_alarm() {
    let y = youth(24);
    let m = meeting(24);
    let next = meeting(25);
    let mut s = Scenario::new();
    s.on(
        date(2025, 3, 1),
        referred(y, date(2008, 1, 1), date(2025, 3, 1), SchoolStatus::Inactive),
    );
    s.on(date(2025, 3, 2), need(y, NeedLevel::B));
    s.on(date(2025, 3, 5), scheduled(m, date(2025, 3, 10)));
    s.on(date(2025, 3, 5), tabled(m, y));
    s.on(date(2025, 3, 10), held(m, date(2025, 3, 10)));
    s.on(date(2025, 3, 10), follow_up_decision(m, y, staff(7), date(2025, 5, 1)));
    s.assert_opens_on(y, Rule::FollowUpOverdue, date(2025, 5, 2));
    let alarm = s
        .model
        .alarms_of(y, date(2025, 5, 2))
        .into_iter()
        .find(|a| a.rule == Rule::FollowUpOverdue)
        .expect("open");
    assert_eq!(
        (alarm.due, alarm.act, alarm.act_as),
        (date(2025, 5, 1), Some(staff(7)), "lead")
    );
    s.on(date(2025, 5, 6), scheduled(next, date(2025, 5, 8)));
    s.on(date(2025, 5, 6), tabled(next, y));
    assert!(s.fires(y, Rule::FollowUpOverdue, date(2025, 5, 7)));
    s.on(date(2025, 5, 8), held(next, date(2025, 5, 8)));
    assert!(!s.fires(y, Rule::FollowUpOverdue, date(2025, 5, 8)));
}

#[test]
fn a_dropout_without_contact_and_without_an_offer() {
    let y = youth(13);
    let mut s = Scenario::new();
    s.on(
        date(2024, 9, 1),
        referred(y, date(2009, 1, 1), date(2024, 9, 1), SchoolStatus::InEducation),
    );
    s.on(date(2024, 9, 1), need(y, NeedLevel::B));
    s.on(date(2025, 3, 3), school(y, SchoolStatus::DroppedOut, date(2025, 3, 3)));
    s.assert_opens_on(y, Rule::DropoutNoContact, date(2025, 3, 9));
    let alarm = &s.model.alarms_of(y, date(2025, 3, 9))[0];
    assert_eq!(
        (alarm.due, alarm.act, alarm.act_as),
        (date(2025, 3, 8), None, "youth guidance (UU)")
    );
    s.on(date(2025, 3, 10), contact(y, date(2025, 3, 10), false));
    assert!(!s.fires(y, Rule::DropoutNoContact, date(2025, 3, 10)));
    s.assert_opens_on(y, Rule::DropoutNoOffer, date(2025, 4, 3));
    s.on(date(2025, 4, 7), contact(y, date(2025, 4, 7), true));
    assert!(s.open(y, date(2025, 4, 7)).is_empty());
}

#[test]
fn a_dropout_back_in_education_or_over_17_raises_nothing() {
    let (back, adult) = (youth(14), youth(15));
    let mut s = Scenario::new();
    s.on(
        date(2024, 9, 1),
        referred(back, date(2009, 1, 1), date(2024, 9, 1), SchoolStatus::InEducation),
    );
    s.on(
        date(2024, 9, 1),
        referred(adult, date(2005, 1, 1), date(2024, 9, 1), SchoolStatus::InEducation),
    );
    for y in [back, adult] {
        s.on(date(2024, 9, 1), need(y, NeedLevel::B));
        s.on(date(2025, 3, 3), school(y, SchoolStatus::DroppedOut, date(2025, 3, 3)));
    }
    s.on(
        date(2025, 3, 5),
        school(back, SchoolStatus::InEducation, date(2025, 3, 5)),
    );
    assert!(s.open(back, date(2025, 5, 1)).is_empty());
    assert!(
        s.open(adult, date(2025, 5, 1)).is_empty(),
        "the dropout rules are for 15-17 year olds"
    );
}

#[test]
fn a_case_in_good_order_raises_nothing_on_any_day() {
    let y = youth(16);
    let m = meeting(5);
    let mut s = Scenario::new();
    s.on(
        date(2024, 9, 1),
        referred(y, date(2009, 1, 1), date(2024, 9, 1), SchoolStatus::InEducation),
    );
    s.on(date(2024, 9, 2), need(y, NeedLevel::C));
    s.on(date(2024, 9, 3), scheduled(m, date(2024, 9, 10)));
    s.on(date(2024, 9, 3), tabled(m, y));
    s.on(date(2024, 9, 10), held(m, date(2024, 9, 10)));
    s.on(date(2024, 9, 10), assigned(y, staff(30), Department::JobCentre));
    s.on(date(2024, 9, 15), form(y, 15));
    let mut day = date(2024, 9, 16);
    let mut revision = 0;
    while day <= date(2026, 12, 31) {
        use chrono::Datelike;
        if day.day() == 1 && day.month() % 2 == 1 {
            revision += 1;
            s.on(day, plan_updated(y, revision));
        }
        if day.day() == 15 && (day.month() == 1 || day.month() == 6) {
            s.on(day, form(y, 15));
        }
        assert!(s.open(y, day).is_empty(), "alarm on {day}: {:?}", s.open(y, day));
        day = day.succ_opt().expect("date");
    }
}

#[test]
fn an_unanswered_alarm_escalates_and_an_answer_stops_it() {
    let (y, z) = (youth(26), youth(27));
    let mut s = Scenario::new();
    for id in [y, z] {
        s.on(
            date(2025, 3, 1),
            referred(id, date(2006, 1, 1), date(2025, 3, 1), SchoolStatus::Inactive),
        );
    }
    let alarm = |s: &Scenario, id, day| {
        s.model
            .alarms_of(id, day)
            .into_iter()
            .find(|a| a.rule == Rule::ReferralNotTabled)
            .expect("open")
    };
    // Opens on 1 April; 7 days to answer, then the team lead, 7 more, then the youth coordinator.
    assert_eq!(alarm(&s, y, date(2025, 4, 7)).escalation, 0);
    assert_eq!(alarm(&s, y, date(2025, 4, 8)).escalation, 1);
    assert_eq!(alarm(&s, y, date(2025, 4, 15)).escalation, 2);
    let due = alarm(&s, y, date(2025, 4, 1)).due;
    s.on(
        date(2025, 4, 16),
        answered(
            y,
            "referral_not_tabled",
            due,
            kui_domain::event::AlarmAnswer::Acknowledged,
        ),
    );
    let acknowledged = alarm(&s, y, date(2025, 4, 16));
    assert!(acknowledged.acknowledged);
    assert_eq!(acknowledged.escalation, 0);
    // Assigned: the named person acts; snoozed: nothing escalates until the day after.
    s.on(
        date(2025, 4, 2),
        answered(
            z,
            "referral_not_tabled",
            due,
            kui_domain::event::AlarmAnswer::Snoozed {
                until: date(2025, 4, 20),
                reason: "meeting on the 19th".into(),
            },
        ),
    );
    assert_eq!(alarm(&s, z, date(2025, 4, 19)).snoozed_until, Some(date(2025, 4, 20)));
    assert_eq!(alarm(&s, z, date(2025, 4, 19)).escalation, 0);
    assert_eq!(alarm(&s, z, date(2025, 4, 26)).escalation, 0);
    assert_eq!(alarm(&s, z, date(2025, 4, 27)).escalation, 1);
    s.on(
        date(2025, 4, 27),
        answered(
            z,
            "referral_not_tabled",
            due,
            kui_domain::event::AlarmAnswer::Assigned { to: staff(8) },
        ),
    );
    let assigned = alarm(&s, z, date(2025, 4, 28));
    assert_eq!(
        (assigned.act, assigned.act_as, assigned.escalation),
        (Some(staff(8)), "assigned", 0)
    );
}

#[test]
fn aftercare_ending_without_an_adult_side_owner() {
    let y = youth(28);
    let mut s = Scenario::new();
    s.on(
        date(2024, 1, 10),
        referred(y, date(2006, 1, 1), date(2024, 1, 10), SchoolStatus::Inactive),
    );
    s.on(
        date(2024, 2, 1),
        kui_domain::event::AftercareDecided {
            youth_id: y,
            until: date(2027, 6, 30),
            decided_by: staff(1),
        }
        .into(),
    );
    // 60 days before the last day, nobody on the adult side: the alarm opens.
    s.assert_opens_on(y, Rule::AftercareEndsWithoutAdultOwner, date(2027, 5, 1));
    // Ended early: due that day; an adult-side coordinator closes it.
    s.on(
        date(2025, 3, 1),
        kui_domain::event::AftercareEnded {
            youth_id: y,
            on: date(2025, 3, 1),
        }
        .into(),
    );
    assert!(s.fires(y, Rule::AftercareEndsWithoutAdultOwner, date(2025, 3, 1)));
    s.on(date(2025, 3, 5), assigned(y, staff(6), Department::JobCentre));
    assert!(!s.fires(y, Rule::AftercareEndsWithoutAdultOwner, date(2025, 3, 5)));
}
