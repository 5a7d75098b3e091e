//! The `Meeting` aggregate: scheduling, the agenda, decisions, holding and evaluating.

use kui_domain::event::*;
use kui_domain::meeting::MeetingCommand;
use kui_domain::testing::{date, given};
use kui_domain::values::{DecisionAction, Department, Forum};
use kui_domain::{Decision, Meeting, Rejection};

use crate::helpers::*;

fn schedule(slot_minutes: u32) -> MeetingCommand {
    MeetingCommand::Schedule {
        meeting_id: meeting_id(),
        municipality: municipality(),
        forum: Forum::KMeeting,
        date: meeting_day(),
        slot_minutes,
        scheduled_by: team_lead(),
    }
}

fn table(youth_id: kui_domain::YouthId, complex: bool) -> MeetingCommand {
    MeetingCommand::TableCase {
        youth_id,
        presenter: counsellor(),
        complex,
    }
}

fn hold() -> MeetingCommand {
    MeetingCommand::Hold {
        held_on: meeting_day(),
        attendees: vec![team_lead(), counsellor()],
    }
}

fn cancel() -> MeetingCommand {
    MeetingCommand::Cancel {
        reason: "too few cases".into(),
    }
}

fn evaluate(score: u8) -> MeetingCommand {
    MeetingCommand::Evaluate {
        score,
        note: "good preparation".into(),
    }
}

/// The standard meeting, two hours, with the standard young person's case on the agenda.
fn agenda() -> Vec<kui_domain::Event> {
    vec![scheduled(120), tabled(youth_id(), false)]
}

#[test]
fn scheduling_records_the_meeting() {
    given::<Meeting>([]).when(schedule(120)).then([scheduled(120)]);
}

#[test]
fn a_scheduled_meeting_knows_its_municipality() {
    use kui_domain::Aggregate;
    assert_eq!(Meeting::from_events(&agenda()).municipality, Some(municipality()));
    assert_eq!(Meeting::default().municipality, None);
}

#[test]
fn scheduling_twice_is_rejected() {
    given::<Meeting>([scheduled(120)])
        .when(schedule(120))
        .then_rejected(Rejection::AlreadyExists {
            what: format!("meeting {}", meeting_id()),
        });
}

#[test]
fn slot_is_15_to_480_minutes() {
    for slot in [0, 14, 481] {
        given::<Meeting>([]).when(schedule(slot)).then_invalid("slot_minutes");
    }
    for slot in [15, 480] {
        given::<Meeting>([]).when(schedule(slot)).then([scheduled(slot)]);
    }
}

#[test]
fn commands_on_an_unscheduled_meeting_are_not_found() {
    let commands = [
        table(youth_id(), false),
        MeetingCommand::RecordDecision(decision(youth_id())),
        hold(),
        evaluate(4),
        cancel(),
    ];
    for command in commands {
        let outcome = given::<Meeting>([]).when(command.clone());
        assert_eq!(
            outcome.result,
            Err(Rejection::NotFound { what: "meeting".into() }),
            "{command:?}"
        );
    }
}

#[test]
fn tabled_case_takes_15_minutes_normally_and_30_when_complex() {
    given::<Meeting>([scheduled(120)])
        .when(table(youth_id(), false))
        .then([CaseTabled {
            meeting_id: meeting_id(),
            youth_id: youth_id(),
            presenter: counsellor(),
            minutes: 15,
            complex: false,
        }
        .into()]);
    given::<Meeting>([scheduled(120)])
        .when(table(youth_id(), true))
        .then([CaseTabled {
            meeting_id: meeting_id(),
            youth_id: youth_id(),
            presenter: counsellor(),
            minutes: 30,
            complex: true,
        }
        .into()]);
}

#[test]
fn tabling_the_same_young_person_twice_is_rejected() {
    given::<Meeting>(agenda())
        .when(table(youth_id(), true))
        .then_rejected(Rejection::CaseAlreadyTabled);
}

#[test]
fn agenda_cannot_exceed_the_slot() {
    let history = [scheduled(45), tabled(youth(1), false), tabled(youth(2), false)];
    given::<Meeting>(history.clone())
        .when(table(youth(3), true))
        .then_rejected(Rejection::AgendaFull { needed: 60, slot: 45 });
    // Filling the slot exactly is fine.
    given::<Meeting>(history)
        .when(table(youth(3), false))
        .then_types(&["CaseTabled"]);
}

#[test]
fn decision_is_recorded_for_a_tabled_case() {
    given::<Meeting>(agenda())
        .when(MeetingCommand::RecordDecision(decision(youth_id())))
        .then([decision_recorded(decision(youth_id()))]);
}

#[test]
fn decision_for_an_untabled_case_is_rejected() {
    given::<Meeting>(agenda())
        .when(MeetingCommand::RecordDecision(decision(youth(2))))
        .then_rejected(Rejection::CaseNotTabled);
}

#[test]
fn decision_must_name_who_does_what() {
    given::<Meeting>(agenda())
        .when(MeetingCommand::RecordDecision(Decision {
            actions: vec![],
            ..decision(youth_id())
        }))
        .then_rejected(Rejection::DecisionWithoutActions);
}

#[test]
fn decision_action_must_say_what_is_to_be_done() {
    let mut actions = decision(youth_id()).actions;
    actions.push(DecisionAction {
        what: "  ".into(),
        department: Department::JobCentre,
        who: Some(job_adviser()),
        due: None,
    });
    given::<Meeting>(agenda())
        .when(MeetingCommand::RecordDecision(Decision {
            actions,
            ..decision(youth_id())
        }))
        .then_invalid("actions");
}

#[test]
fn follow_up_must_come_after_the_meeting() {
    for follow_up in [date(2026, 1, 19), meeting_day()] {
        given::<Meeting>(agenda())
            .when(MeetingCommand::RecordDecision(Decision {
                follow_up: Some(follow_up),
                ..decision(youth_id())
            }))
            .then_invalid("follow_up");
    }
    for follow_up in [Some(date(2026, 1, 21)), None] {
        let decision = Decision {
            follow_up,
            ..decision(youth_id())
        };
        given::<Meeting>(agenda())
            .when(MeetingCommand::RecordDecision(decision.clone()))
            .then([decision_recorded(decision)]);
    }
}

#[test]
fn decision_on_a_cancelled_meeting_is_rejected() {
    let mut history = agenda();
    history.push(meeting_cancelled());
    given::<Meeting>(history)
        .when(MeetingCommand::RecordDecision(decision(youth_id())))
        .then_rejected(Rejection::MeetingNotOpen { state: "cancelled" });
}

#[test]
fn decision_can_be_written_up_after_the_meeting_was_held() {
    let mut history = agenda();
    history.push(held());
    given::<Meeting>(history)
        .when(MeetingCommand::RecordDecision(decision(youth_id())))
        .then([decision_recorded(decision(youth_id()))]);
}

#[test]
fn holding_a_meeting_needs_attendees() {
    given::<Meeting>(agenda())
        .when(MeetingCommand::Hold {
            held_on: meeting_day(),
            attendees: vec![],
        })
        .then_invalid("attendees");
    given::<Meeting>(agenda()).when(hold()).then([held()]);
}

#[test]
fn evaluating_needs_a_held_meeting() {
    given::<Meeting>(agenda())
        .when(evaluate(4))
        .then_rejected(Rejection::MeetingNotOpen { state: "not held yet" });
    let mut cancelled = agenda();
    cancelled.push(meeting_cancelled());
    given::<Meeting>(cancelled)
        .when(evaluate(4))
        .then_rejected_by("meeting_not_open");
}

#[test]
fn evaluation_score_is_1_to_5() {
    let mut history = agenda();
    history.push(held());
    for score in [0, 6] {
        given::<Meeting>(history.clone())
            .when(evaluate(score))
            .then_invalid("score");
    }
    for score in [1, 5] {
        given::<Meeting>(history.clone())
            .when(evaluate(score))
            .then([MeetingEvaluated {
                meeting_id: meeting_id(),
                score,
                note: "good preparation".into(),
            }
            .into()]);
    }
}

#[test]
fn held_meeting_takes_no_new_cases_and_cannot_be_held_or_cancelled_again() {
    let mut history = agenda();
    history.push(held());
    for command in [table(youth(2), false), hold(), cancel()] {
        let outcome = given::<Meeting>(history.clone()).when(command.clone());
        assert_eq!(
            outcome.result,
            Err(Rejection::MeetingNotOpen { state: "held" }),
            "{command:?}"
        );
    }
}

#[test]
fn cancelled_meeting_takes_no_new_cases_and_cannot_be_held_or_cancelled_again() {
    let mut history = agenda();
    history.push(meeting_cancelled());
    for command in [table(youth(2), false), hold(), cancel()] {
        let outcome = given::<Meeting>(history.clone()).when(command.clone());
        assert_eq!(
            outcome.result,
            Err(Rejection::MeetingNotOpen { state: "cancelled" }),
            "{command:?}"
        );
    }
}

#[test]
fn cancelling_an_open_meeting_is_recorded() {
    given::<Meeting>(agenda()).when(cancel()).then([meeting_cancelled()]);
}

#[test]
fn the_fold_holds_everything_a_meeting_shows() {
    use kui_domain::meeting::{AgendaItem, Evaluation, MeetingStatus};
    use kui_domain::Aggregate;

    let mut history = agenda();
    history.push(tabled(youth(2), true));
    history.push(decision_recorded(decision(youth_id())));
    history.push(held());
    history.push(
        MeetingEvaluated {
            meeting_id: meeting_id(),
            score: 4,
            note: "good preparation".into(),
        }
        .into(),
    );
    let meeting = Meeting::from_events(&history);
    assert_eq!(meeting.id, Some(meeting_id()));
    assert_eq!(meeting.status, MeetingStatus::Held);
    assert_eq!(meeting.municipality, Some(municipality()));
    assert_eq!(meeting.scheduled_by, Some(team_lead()));
    assert_eq!(
        meeting.agenda,
        vec![
            AgendaItem {
                youth_id: youth_id(),
                presenter: counsellor(),
                minutes: 15,
                complex: false,
            },
            AgendaItem {
                youth_id: youth(2),
                presenter: counsellor(),
                minutes: 30,
                complex: true,
            },
        ]
    );
    assert_eq!(meeting.agenda_minutes(), 45);
    assert_eq!(meeting.decisions, vec![decision(youth_id()).recorded(meeting_id())]);
    assert!(meeting.is_decided(youth_id()) && !meeting.is_decided(youth(2)));
    assert_eq!(meeting.held_on, Some(meeting_day()));
    assert_eq!(meeting.attendees, vec![team_lead(), counsellor()]);
    assert_eq!(
        meeting.evaluation,
        Some(Evaluation {
            score: 4,
            note: "good preparation".into(),
        })
    );
    assert_eq!(meeting.cancel_reason, None);

    let mut cancelled = agenda();
    cancelled.push(meeting_cancelled());
    let meeting = Meeting::from_events(&cancelled);
    assert_eq!(meeting.status, MeetingStatus::Cancelled);
    assert_eq!(meeting.cancel_reason.as_deref(), Some("too few cases"));
}
