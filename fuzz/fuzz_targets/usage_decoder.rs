//! cargo-fuzz target `usage_decoder`: the body and its invariants are `bursar::fuzz::usage_decoder`
//! (shared with the stable harness, tests/fuzz_smoke.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bursar::fuzz::usage_decoder(data));
