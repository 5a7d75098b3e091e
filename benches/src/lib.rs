//! Shared helpers for kui benchmarks.
