//! Fuzz targets for kui: each is a `pub fn target(data: &[u8])` that panics when one of
//! its properties fails, so that any fuzzer (cargo-fuzz's libFuzzer in `fuzz/` at the
//! repository root, or the seeded smoke run in this crate's tests) can drive it.
//!
//! The targets reach the product only through the public APIs of kui-log, kui-engine and
//! kui-api, so they keep working when the internals change; where a property needs a fact
//! of the on-disk format (the watermark slots), it names the ADR that documents it.
//!
//! Each target checks properties, not only "no panic":
//!
//! - [`segment`]: the segment decoder, recovery and `repair::inspect` on arbitrary bytes
//!   and on mutations of a small valid log. Error kinds are the documented ones, a
//!   read-only open and `inspect` change no byte, a writable open cuts only the
//!   interrupted write it reports and never an acknowledged event, and a planned repair
//!   leaves a log that opens and verifies, losing only what the plan says.
//! - [`ndjson`]: the NDJSON line parser, `EventLog::import` through
//!   `kui_log::ndjson::import_ndjson`, and the engine's import. A failed import leaves
//!   the log's head and bytes as they were, an accepted one verifies and exports back
//!   line for line.
//! - [`graphql`]: requests to the real router. No 5xx for malformed input, an answer
//!   within a bound, bounded memory over many requests, and nothing written to either log
//!   by a request that is refused.
//!
//! Layout:
//! - `mutate`: a small xorshift generator and the byte mutations (flips, zeroed ranges,
//!   truncation, appended bytes, spliced ranges) the targets apply to their seeds.
//! - `seeds`: the small valid log and export the targets mutate, built once per process.
//! - `segment`, `ndjson`, `graphql`: the targets.
//! - `files`: reading a directory's files, to show that nothing changed them.
#![warn(missing_docs)]

mod files;
mod graphql;
pub mod mutate;
mod ndjson;
pub mod seeds;
mod segment;

pub use graphql::graphql;
pub use ndjson::ndjson;
pub use segment::{segment, segment_input_file};

/// The longest time one input may take in any target (debug builds on a loaded machine
/// included); a hang or an unbounded loop fails the target instead of stalling the run.
pub const INPUT_TIME_BOUND: std::time::Duration = std::time::Duration::from_secs(20);
