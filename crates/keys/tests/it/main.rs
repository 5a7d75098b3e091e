//! The key store as its callers use it: on disk, reopened, damaged, erased.
#![allow(clippy::unwrap_used)]

mod store;
