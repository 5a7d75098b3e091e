//! Integration tests of kui-log, against a real sled directory per test.

mod append;
mod crash;
mod damage;
mod helpers;
mod ndjson;
mod read;
mod recovery;
mod subscription;
mod verify;
