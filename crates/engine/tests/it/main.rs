//! Integration tests of the engine over a real sled log in a temporary directory.

mod cache;
mod commands;
mod helpers;
mod history;
mod tick;
mod transfer;
