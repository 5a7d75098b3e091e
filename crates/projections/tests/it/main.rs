//! Integration tests of the read models: golden reports of the committed fixture, one
//! scenario per alarm rule, restart from snapshots, live following, the decoders and the
//! folds kept as of past days.

// Helpers of an integration test are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod alarms;
mod caseload;
mod golden;
mod helpers;
mod past;
mod runtime;
mod statistics;
