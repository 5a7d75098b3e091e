//! The age-milestone scheduler.

use kui_domain::testing::{date, noon};
use kui_engine::EngineError;
use kui_log::{EventLog, StreamId, Version};

use crate::helpers::world;

fn types_of(world: &crate::helpers::World, youth: kui_domain::YouthId) -> Vec<String> {
    let stream = StreamId::new(youth.stream_name()).unwrap();
    world
        .log
        .read_stream(&stream, Version(1))
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

#[test]
fn turned_eighteen_is_recorded_on_the_birthday_and_only_once() {
    let world = world();
    // Born 1 March 2008: 17 on the referral day, 18 on 1 March 2026.
    let youth = world.refer("010308-4321");
    world.clock.set(noon(2026, 2, 28));
    let early = world.engine.tick(date(2026, 2, 28), &mut |_| {}).unwrap();
    assert_eq!(early.turned_eighteen, 0);
    world.clock.set(noon(2026, 3, 1));
    let on_the_day = world.engine.tick(date(2026, 3, 1), &mut |_| {}).unwrap();
    assert_eq!(on_the_day.turned_eighteen, 1);
    let again = world.engine.tick(date(2026, 3, 1), &mut |_| {}).unwrap();
    assert_eq!(again.turned_eighteen, 0);
    let types = types_of(&world, youth);
    assert_eq!(types.iter().filter(|t| *t == "TurnedEighteen").count(), 1);
    assert!(types.contains(&"TeamHandedOver".to_owned()), "{types:?}");
}

#[test]
fn a_tick_after_downtime_catches_up_dated_on_the_birthday() {
    let world = world();
    let youth = world.refer("010308-4321");
    world.clock.set(noon(2026, 6, 1));
    let report = world.engine.tick(date(2026, 6, 1), &mut |_| {}).unwrap();
    assert_eq!(report.turned_eighteen, 1);
    let history = world.engine.history(youth, None).unwrap();
    let eighteen = history.entries.iter().find(|e| e.event_type == "TurnedEighteen");
    let occurred = eighteen.map(|e| e.occurred_at.date_naive());
    assert_eq!(occurred, Some(date(2026, 3, 1)));
    assert_eq!(eighteen.map(|e| e.actor.role.as_str()), Some("system"));
}

#[test]
fn concurrent_ticks_record_each_milestone_once() {
    let world = world();
    let a = world.refer("010308-4321");
    let b = world.refer("020308-4321");
    world.clock.set(noon(2026, 4, 1));
    let engine = world.engine.clone();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let engine = engine.clone();
            std::thread::spawn(move || engine.tick(date(2026, 4, 1), &mut |_| {}))
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread").unwrap();
    }
    for youth in [a, b] {
        let count = types_of(&world, youth)
            .iter()
            .filter(|t| *t == "TurnedEighteen")
            .count();
        assert_eq!(count, 1);
    }
}

#[test]
fn ageing_out_of_the_band_closes_the_case() {
    let world = world();
    // Born 10 February 1997: 28 in January 2026, 30 (the band's end) on 10 February 2027.
    let youth = world.refer("100297-1234");
    world.clock.set(noon(2027, 2, 10));
    let report = world.engine.tick(date(2027, 2, 10), &mut |_| {}).unwrap();
    assert_eq!(report.aged_out, 1);
    let types = types_of(&world, youth);
    assert_eq!(
        types[types.len() - 2..],
        ["AgedOut".to_owned(), "CaseClosed".to_owned()]
    );
    // Referred at 28, so no TurnedEighteen is invented for an adult referral.
    assert!(!types.contains(&"TurnedEighteen".to_owned()));
}

#[test]
fn a_tick_cannot_run_into_the_future() {
    let world = world();
    let result = world.engine.tick(date(2030, 1, 1), &mut |_| {});
    assert!(matches!(result, Err(EngineError::Invalid(_))), "{result:?}");
}
