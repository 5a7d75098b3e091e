//! Integration tests of the API: a real server on port 0 over temporary logs, driven
//! over HTTP and WebSocket.

mod conflicts;
mod helpers;
mod lifecycle;
mod limits;
mod privacy;
mod read_models;
mod roles;
mod schema;
mod subscription;
