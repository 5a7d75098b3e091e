//! The models as of past days, kept: a kept day answers exactly what a fold of the whole
//! log answers, reads only what was appended since, folds in a backdated event, keeps
//! what a stopped fold did, and stays within its bounds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use kui_domain::values::SchoolStatus;
use kui_log::EventLog;
use kui_projections::{MemoryStore, Options, ProjectionError, Projections, ReadModels};

use crate::helpers::*;

fn open(log: Arc<dyn EventLog>, past_days: usize, past_bytes: usize) -> Arc<Projections> {
    let options = Options {
        workers: 2,
        save_every: 1_000_000,
        save_after: std::time::Duration::ZERO,
        past_days,
        past_bytes,
    };
    Projections::open(log, Arc::new(MemoryStore::default()), options, &[], &mut |_, _| {})
        .expect("open")
        .0
}

/// The kept models of `day`, brought up to date.
fn kept(projections: &Projections, day: NaiveDate) -> ReadModels {
    let past = projections.past_day(day);
    projections
        .answer_as_of(&past, 2, &mut |_, _| {}, &AtomicBool::new(false), |models| {
            models.clone()
        })
        .expect("as of")
}

fn fresh(log: &dyn EventLog, day: NaiveDate) -> ReadModels {
    Projections::as_of(log, day, 2, &mut |_, _| {}).expect("fresh fold")
}

fn head(log: &dyn EventLog) -> u64 {
    log.head_position().expect("head")
}

#[test]
fn a_kept_day_answers_as_a_fold_of_the_whole_log_and_is_read_once() {
    let log = fixture_log();
    let projections = open(log.clone(), 8, usize::MAX);
    let day = date(2023, 6, 30);
    let first = kept(&projections, day);
    assert!(first == fresh(log.as_ref(), day));
    assert!(first.teams.members.len() < projections.read().teams.members.len());
    let second = kept(&projections, day);
    assert!(second == first);
    let stats = projections.past_stats();
    assert_eq!(stats.from_scratch, 1);
    assert_eq!(stats.events_read, head(log.as_ref()), "the second answer read nothing");
    assert_eq!(stats.days.len(), 1);
    assert_eq!((stats.days[0].0, stats.days[0].1), (day, head(log.as_ref())));
    assert!(stats.days[0].2 > 0, "charged its size");
}

#[test]
fn events_dated_after_a_kept_day_are_only_read_and_a_backdated_one_is_folded_in() {
    let log = fixture_log();
    let projections = open(log.clone(), 8, usize::MAX);
    let day = date(2024, 1, 31);
    let before = kept(&projections, day);
    let stats = projections.past_stats();

    // Today's referral: read, not folded; the day's answer does not change.
    let today = youth(9_001);
    append_on(
        log.as_ref(),
        referred(today, date(2009, 5, 1), date(2026, 3, 2), SchoolStatus::InEducation),
        date(2026, 3, 2),
    );
    let after_today = kept(&projections, day);
    assert!(!after_today.teams.members.contains_key(&today));
    assert!(after_today.teams == before.teams && after_today.alarms == before.alarms);
    let now = projections.past_stats();
    assert_eq!(now.from_scratch, 1);
    assert_eq!(now.events_read, stats.events_read + 1);
    assert_eq!(now.events_folded, stats.events_folded);
    assert!(after_today == fresh(log.as_ref(), day));

    // A referral recorded now but dated before the day changes the day: it is folded in.
    let backdated = youth(9_002);
    append_on(
        log.as_ref(),
        referred(
            backdated,
            date(2008, 5, 1),
            date(2024, 1, 10),
            SchoolStatus::InEducation,
        ),
        date(2024, 1, 10),
    );
    let after_backdated = kept(&projections, day);
    assert!(after_backdated.teams.members.contains_key(&backdated));
    assert!(after_backdated.alarms.watches.contains_key(&backdated));
    let then = projections.past_stats();
    assert_eq!(then.from_scratch, 1, "no fold of the whole log again");
    assert_eq!(then.events_read, now.events_read + 1);
    assert_eq!(then.events_folded, now.events_folded + 1);
    assert!(after_backdated == fresh(log.as_ref(), day));
    // A day before the backdated event is not changed by it.
    let earlier = kept(&projections, date(2024, 1, 9));
    assert!(!earlier.teams.members.contains_key(&backdated));
}

#[test]
fn a_stopped_fold_keeps_what_it_folded_for_the_next_question() {
    let log = fixture_log();
    let projections = open(log.clone(), 8, usize::MAX);
    let day = date(2030, 1, 1);
    let past = projections.past_day(day);
    let stop = AtomicBool::new(false);
    // Asked to stop after the first block of events.
    let stopped = projections.answer_as_of(&past, 2, &mut |_, _| stop.store(true, Ordering::Relaxed), &stop, |_| ());
    assert!(matches!(stopped, Err(ProjectionError::Stopped)), "{stopped:?}");
    let partial = projections.past_stats();
    let reached = partial.days[0].1;
    assert!(reached > 0 && reached < head(log.as_ref()), "{partial:?}");
    assert_eq!(past.behind(log.as_ref()).expect("behind"), head(log.as_ref()) - reached);

    let whole = kept(&projections, day);
    assert!(
        whole == *projections.read(),
        "as of a day after the last event: the live models"
    );
    let stats = projections.past_stats();
    assert_eq!(
        stats.from_scratch, 1,
        "the second question went on from where the first stopped"
    );
    assert_eq!(stats.events_read, head(log.as_ref()));
}

#[test]
fn the_kept_days_are_bounded_in_number_and_in_bytes() {
    let log = fixture_log();
    let projections = open(log.clone(), 2, usize::MAX);
    let days = [date(2022, 1, 31), date(2023, 1, 31), date(2024, 1, 31)];
    for day in days {
        kept(&projections, day);
    }
    let stats = projections.past_stats();
    let kept_days: Vec<NaiveDate> = stats.days.iter().map(|(day, _, _)| *day).collect();
    assert_eq!(kept_days, vec![days[2], days[1]], "the least recently asked went first");
    let two_latest: usize = stats.days.iter().map(|(_, _, bytes)| *bytes).sum();
    // Asking about the dropped day folds it again, and drops the next least recent.
    kept(&projections, days[0]);
    let stats = projections.past_stats();
    assert_eq!(stats.from_scratch, 4);
    let kept_days: Vec<NaiveDate> = stats.days.iter().map(|(day, _, _)| *day).collect();
    assert_eq!(kept_days, vec![days[0], days[2]]);

    // A budget smaller than one fold: every question is answered, none is kept.
    let tight = open(log.clone(), 8, 1_000);
    let answered = kept(&tight, days[0]);
    assert!(answered == fresh(log.as_ref(), days[0]));
    assert!(tight.past_stats().days.is_empty());
    kept(&tight, days[0]);
    assert_eq!(tight.past_stats().from_scratch, 2);

    // A budget of the two latest days' folds keeps them and drops the earliest.
    let two = open(log, 8, two_latest);
    for day in days {
        kept(&two, day);
    }
    let kept_days: Vec<NaiveDate> = two.past_stats().days.iter().map(|(day, _, _)| *day).collect();
    assert_eq!(kept_days, vec![days[2], days[1]]);
}
