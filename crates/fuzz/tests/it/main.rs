//! A short, deterministic run of every fuzz target, so that the test suite (and CI)
//! exercises each one: the committed corpus (the seeds and every input that once found a
//! bug), then a few hundred inputs from a seeded generator.
//!
//! `KUI_FUZZ_SMOKE_ROUNDS=N` runs N times as many generated inputs (each round with
//! other seeds), for a longer run on the stable toolchain without a fuzzer.

mod corpus;
mod graphql;
mod helpers;
mod ndjson;
mod segment;
