//! The segment target: recovery, `verify` and `inspect` on damaged segments.

use kui_fuzz::mutate::random_ops;
use kui_fuzz::seeds::seeds;

use crate::helpers::{corpus, rng, rounds, run};

/// Generated inputs per round: every one opens a log three times, so they are few.
const GENERATED: usize = 240;

#[test]
fn the_corpus_passes() {
    run("segment", kui_fuzz::segment, &corpus("segment"));
}

#[test]
fn seeded_mutations_pass() {
    let len = seeds().closed.bytes.len();
    for round in 0..rounds() {
        let mut rng = rng("segment", round);
        let inputs: Vec<(String, Vec<u8>)> = (0..GENERATED)
            .map(|index| {
                let mode = [2u8, 3, 2, 3, 1, 0][index % 6];
                let mut input = vec![mode];
                match mode {
                    // Mostly one operation: one changed byte is what must always be
                    // reported, never cut.
                    2 | 3 => {
                        let count = [1, 1, 1, 2, 3][rng.below(5) as usize];
                        input.extend(random_ops(&mut rng, len, count));
                    }
                    1 => {
                        let records = &seeds().closed.bytes[4096..];
                        let cut = rng.below(records.len() as u64) as usize;
                        input.extend_from_slice(&records[..cut]);
                        input.extend(rng.bytes_below(64));
                    }
                    _ => input.extend(rng.bytes_below(9000)),
                }
                (format!("round {round}, input {index}"), input)
            })
            .collect();
        run("segment", kui_fuzz::segment, &inputs);
    }
}

/// The seeds stand for what their names say, so that the fuzzer starts from each case
/// recovery tells apart.
#[test]
fn the_seeds_are_the_cases_they_name() {
    let open = |name: &str| {
        let input = std::fs::read(crate::helpers::corpus_dir("segment").join(name)).expect("a committed seed");
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("events.seg"), kui_fuzz::segment_input_file(&input)).expect("writing");
        let opened = kui_log_segment::SegmentLog::open_read_only(dir.path());
        opened.map(|log| {
            (
                kui_log::EventLog::head_position(&log).expect("a head"),
                log.interrupted().cloned(),
            )
        })
    };
    let events = seeds().events.len() as u64;
    assert!(matches!(open("seed-closed-log"), Ok((head, None)) if head == events));
    assert!(matches!(open("seed-lagging-log"), Ok((head, None)) if head == events));
    assert!(matches!(open("seed-whole-file"), Ok((head, None)) if head == events));
    assert!(matches!(open("seed-records-only"), Ok((head, None)) if head == events));
    let lagging = seeds().lagging.acknowledged;
    assert!(
        lagging.position < events,
        "the lagging seed's watermark covers every event"
    );
    match open("seed-lagging-zeroed-tail") {
        Ok((head, Some(interrupted))) => {
            assert!(head >= lagging.position && head < events, "head {head}");
            assert!(interrupted.offset >= lagging.offset);
        }
        other => panic!("the zeroed tail after the watermark is not an interrupted write: {other:?}"),
    }
    for damaged in [
        "seed-closed-zeroed-tail",
        "seed-closed-truncated",
        "seed-lagging-flipped-byte",
    ] {
        assert!(
            matches!(
                open(damaged),
                Err(kui_log_segment::OpenError::Log(kui_log::LogError::Corrupt { .. }))
            ),
            "{damaged}: {:?}",
            open(damaged)
        );
    }
}
