//! Integration tests of kui-log, against a real sled directory per test.

// Helpers of an integration test are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod append;
mod crash;
mod damage;
mod helpers;
mod ndjson;
mod read;
mod recovery;
mod subscription;
mod verify;

mod conformance {
    //! The log contract's conformance suite, on segment logs in temporary directories
    //! (durable, as in production).

    use std::sync::Arc;

    use kui_log::contract::Subject;
    use kui_log_segment::{Acknowledge, LogOptions, SegmentLog};

    kui_log::contract_tests!(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let options = LogOptions {
            fsync: true,
            cache_capacity_bytes: 8 * 1024 * 1024,
            persist_every_events: 64,
            acknowledge: Acknowledge::Synced,
        };
        let log = SegmentLog::open(dir.path(), options).expect("open");
        Subject::new(Arc::new(log), dir)
    });
}
