//! Running a target over a list of inputs, naming the input that failed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Instant;

use kui_fuzz::mutate::XorShift;

/// The committed corpus of a target.
pub fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target)
}

/// Every file of a target's committed corpus, by name, in name order.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
            (name, bytes)
        })
        .collect();
    inputs.sort();
    inputs
}

/// How many rounds of generated inputs to run (`KUI_FUZZ_SMOKE_ROUNDS`, default 1).
pub fn rounds() -> u64 {
    std::env::var("KUI_FUZZ_SMOKE_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(1)
}

/// A generator for round `round` of target `target`.
pub fn rng(target: &str, round: u64) -> XorShift {
    let name = target
        .bytes()
        .fold(0u64, |hash, byte| hash.wrapping_mul(31).wrapping_add(u64::from(byte)));
    XorShift::new(name ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Runs `target` on every input; a failure names the input and shows its bytes (hex),
/// so that it can be saved into the corpus and replayed.
pub fn run(target_name: &str, target: fn(&[u8]), inputs: &[(String, Vec<u8>)]) {
    let started = Instant::now();
    for (name, input) in inputs {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(input))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_default();
            let hex: String = input.iter().map(|byte| format!("{byte:02x}")).collect();
            panic!(
                "{target_name} failed on input {name} ({} bytes): {message}\ninput (hex): {hex}",
                input.len()
            );
        }
    }
    eprintln!("{target_name}: {} inputs in {:?}", inputs.len(), started.elapsed());
}
