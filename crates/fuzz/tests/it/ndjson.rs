//! The NDJSON target: the line parser and both imports on damaged exports.

use kui_fuzz::mutate::{random_ops, XorShift};
use kui_fuzz::seeds::seeds;

use crate::helpers::{corpus, rng, rounds, run};

/// Generated inputs per round: every one opens one or two logs.
const GENERATED: usize = 240;

#[test]
fn the_corpus_passes() {
    run("ndjson", kui_fuzz::ndjson, &corpus("ndjson"));
}

#[test]
fn seeded_mutations_pass() {
    let export = &seeds().export;
    for round in 0..rounds() {
        let mut rng = rng("ndjson", round);
        let inputs: Vec<(String, Vec<u8>)> = (0..GENERATED)
            .map(|index| {
                let input = match index % 4 {
                    0 => {
                        let mut input = vec![0];
                        input.extend(text_edit(&mut rng, export));
                        input
                    }
                    3 => {
                        let mut input = vec![0];
                        input.extend(rng.bytes_below(512));
                        input
                    }
                    _ => {
                        let mut input = vec![1];
                        let count = 1 + rng.below(2) as usize;
                        input.extend(random_ops(&mut rng, export.len(), count));
                        input
                    }
                };
                (format!("round {round}, input {index}"), input)
            })
            .collect();
        run("ndjson", kui_fuzz::ndjson, &inputs);
    }
}

/// An edit a person or a tool might make to an export: a line dropped, duplicated or
/// swapped, a digit changed, a field renamed, line endings changed.
fn text_edit(rng: &mut XorShift, export: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(export);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let line = rng.below(lines.len() as u64) as usize;
    match rng.below(7) {
        0 => {
            lines.remove(line);
        }
        1 => {
            let copy = lines[line].clone();
            lines.insert(line, copy);
        }
        2 => {
            let other = rng.below(lines.len() as u64) as usize;
            lines.swap(line, other);
        }
        3 => {
            let digits: Vec<usize> = lines[line]
                .match_indices(|c: char| c.is_ascii_digit())
                .map(|(at, _)| at)
                .collect();
            if !digits.is_empty() {
                let at = digits[rng.below(digits.len() as u64) as usize];
                let digit = char::from(b'0' + rng.below(10) as u8);
                lines[line].replace_range(at..at + 1, &digit.to_string());
            }
        }
        4 => lines[line] = lines[line].replacen("\"payload\"", "\"payload_hex\"", 1),
        5 => return lines.join("\r\n").into_bytes(),
        _ => return lines.join("\n").into_bytes(),
    }
    let mut joined = lines.join("\n");
    joined.push('\n');
    joined.into_bytes()
}
