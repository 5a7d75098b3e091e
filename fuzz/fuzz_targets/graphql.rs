//! libFuzzer entry point of `kui_fuzz::graphql` (its docs list the properties checked).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kui_fuzz::graphql(data));
