//! End-to-end tests: the real `kui` binary on temporary data directories.

// Helpers of an integration test are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod commands;
mod erasure;
mod fixture;
mod helpers;
mod integrity;
