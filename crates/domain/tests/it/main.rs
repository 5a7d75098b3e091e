//! kui-domain's integration tests: every business rule as given events, when a command,
//! then events or a rejection. No runtime, no disk.
//!
//! Layout:
//! - `helpers`: ids, dates, CPR numbers, the standard age bands, event builders and `samples()`.
//! - `youth`, `meeting`, `staff`, `municipality`: the aggregates' rules.
//! - `decode`: the event catalogue round-trips; old versions upcast; unknown ones fail.
//! - `schemas`: the JSON Schemas in `schemas/events/` match the catalogue (`UPDATE_EXPECT=1` rewrites them).

// Helpers of an integration test are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod helpers;

mod decode;
mod meeting;
mod municipality;
mod schemas;
mod staff;
mod youth;
