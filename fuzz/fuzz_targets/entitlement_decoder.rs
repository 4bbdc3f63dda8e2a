//! cargo-fuzz target `entitlement_decoder`: the body and its invariants are `bursar::fuzz::entitlement_decoder`
//! (shared with the stable harness, tests/fuzz_smoke.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bursar::fuzz::entitlement_decoder(data));
