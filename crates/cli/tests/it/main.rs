//! End-to-end tests: the real `kui` binary on temporary data directories.

mod commands;
mod fixture;
mod helpers;
mod integrity;
