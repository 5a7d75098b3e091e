//! kui's personal-data keys: a key per young person, kept apart from the log so that
//! destroying it erases that person's personal fields while the log and its hash chain
//! stay exactly as they are.
//!
//! - `master`: the master key file the key store is sealed under.
//! - `store`: `KeyStore`, the keys, the keyed CPR lookup and the pseudonym secret, in a file
//!   of sealed records (or in memory for tests and tools).
//! - `seal`: sealing and opening the personal fields of one event payload.
//! - `error`: `KeyError`.
//!
//! Invariants: a key is durable before any event sealed under it is appended (`register`
//! returns after the fsync); an erased person's key and lookup entry are gone from the
//! file when `complete_erasure` returns (the file is rewritten, not appended to); nothing
//! in this crate writes a personal value in clear to disk or into an error message.
#![warn(missing_docs)]

pub mod error;
pub mod master;
pub mod seal;
pub mod store;

pub use error::KeyError;
pub use master::MasterKey;
pub use seal::{is_sealed, open, seal, SealError};
pub use store::{KeyState, KeyStore, Opened, PersonKey};
