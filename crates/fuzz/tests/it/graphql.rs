//! The GraphQL target: requests to the real router.

use kui_fuzz::mutate::XorShift;

use crate::helpers::{corpus, rng, rounds, run};

/// Generated requests per round.
const GENERATED: usize = 600;

/// Pieces of GraphQL that generated queries are made of.
const PIECES: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "...",
    "@skip(if: true)",
    "@include(if: $x)",
    "query",
    "mutation",
    "subscription",
    "fragment F on QueryRoot",
    "...F",
    "$x",
    "($x: Int)",
    "youth",
    "(cpr: \"010308-4321\")",
    "(id: \"00000000-0000-0000-0000-000000000000\")",
    "name",
    "age",
    "history",
    "youngPeople",
    "(first: 100000)",
    "edges",
    "node",
    "caseload",
    "alarms",
    "(asOf: \"2026-06-30\")",
    "statistics",
    "verifyLog",
    "ok",
    "events",
    "teams",
    "meetings",
    "__schema",
    "__type(name: \"QueryRoot\")",
    "types",
    "fields",
    "a: ",
    "b: ",
    "__typename",
    "refer",
    "\"\\u0000\"",
    "\"unterminated",
    "#",
    "\n",
    "12345678901234567890",
    "-1",
    "1e400",
    "null",
    "true",
    "\u{1f600}",
];

#[test]
fn the_corpus_passes() {
    run("graphql", kui_fuzz::graphql, &corpus("graphql"));
}

#[test]
fn seeded_requests_pass() {
    let seeds = corpus("graphql");
    for round in 0..rounds() {
        let mut rng = rng("graphql", round);
        let inputs: Vec<(String, Vec<u8>)> = (0..GENERATED)
            .map(|index| {
                let token = rng.below(9) as u8;
                let input = match index % 4 {
                    0 | 1 => {
                        let mut input = vec![token, 0];
                        input.extend(pieces(&mut rng).into_bytes());
                        input
                    }
                    2 => {
                        let (_, seed) = &seeds[rng.below(seeds.len() as u64) as usize];
                        let mut input = seed.clone();
                        for _ in 0..1 + rng.below(4) {
                            if input.len() > 2 {
                                let at = 2 + rng.below(input.len() as u64 - 2) as usize;
                                match rng.below(3) {
                                    0 => input[at] = rng.next_u64() as u8,
                                    1 => input.truncate(at),
                                    _ => input.insert(at, b"{}()[]:$@!\""[rng.below(11) as usize]),
                                }
                            }
                        }
                        input
                    }
                    _ => {
                        let mut input = vec![token, 2 + (rng.below(2) as u8)];
                        input.extend(rng.bytes_below(256));
                        input
                    }
                };
                (format!("round {round}, input {index}"), input)
            })
            .collect();
        run("graphql", kui_fuzz::graphql, &inputs);
    }
}

/// A query of up to 40 random pieces.
fn pieces(rng: &mut XorShift) -> String {
    (0..1 + rng.below(40))
        .map(|_| PIECES[rng.below(PIECES.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}
