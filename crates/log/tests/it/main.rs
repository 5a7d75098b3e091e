//! The conformance suite against [`kui_log::MemoryLog`], the contract's own reference.

// Helpers of an integration test are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use kui_log::contract::Subject;
use kui_log::MemoryLog;

kui_log::contract_tests!(|| Subject::new(Arc::new(MemoryLog::new()), ()));
