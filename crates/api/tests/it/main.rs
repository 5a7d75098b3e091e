//! Integration tests of the API: a real server on port 0 over temporary logs, driven
//! over HTTP and WebSocket.

// Helpers of an integration test are test code too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod conflicts;
mod erasure;
mod helpers;
mod lifecycle;
mod limits;
mod need_to_know;
mod privacy;
mod read_models;
mod roles;
mod schema;
mod subscription;
