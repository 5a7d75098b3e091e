//! Integration tests of the engine over a real sled log in a temporary directory.

// Helpers of an integration test are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod cache;
mod commands;
mod erasure;
mod helpers;
mod history;
mod migrate;
mod tick;
mod transfer;
