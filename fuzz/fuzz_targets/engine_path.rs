//! cargo-fuzz target `engine_path`: the body and its invariants are `bursar::fuzz::engine_path`
//! (shared with the stable harness, tests/fuzz_smoke.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bursar::fuzz::engine_path(data));
