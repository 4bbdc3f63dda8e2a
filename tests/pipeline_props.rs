//! The replay pipeline gives byte-identical outputs whatever the number of
//! threads: one engine on the calling thread, or a reader, several engine
//! shards and a writer (docs/architecture.md).

use bursar::config::EngineConfig;
use bursar::emit;
use bursar::gen::{self, GenSpec};
use bursar::runtime::replay::{replay_text_threads, ReplayOutputs};
use proptest::prelude::*;

/// Every output stream as the bytes a file replay writes.
fn streams(out: &ReplayOutputs) -> [Vec<String>; 4] {
    [
        out.findings.iter().map(emit::finding_json).collect(),
        out.windows.iter().map(emit::window_json).collect(),
        out.balances.iter().map(emit::balance_json).collect(),
        out.rejected.iter().map(emit::rejected_json).collect(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn outputs_are_byte_identical_whatever_the_number_of_threads(
        seed in 0u64..1_000_000,
        events in 50u64..3_000,
        credentials in 1u64..60,
        days in 1u32..40,
        partitions in 1i32..5,
        threads in 2usize..6,
    ) {
        let spec = GenSpec { seed, events, credentials, days, ..GenSpec::default() };
        let ents = gen::entitlements(&spec).join("\n");
        let usage: String = gen::usage(&spec).map(|l| l + "\n").collect();
        let config = EngineConfig::default();
        let one = replay_text_threads(&config, partitions, 1, &ents, &usage);
        let many = replay_text_threads(&config, partitions, threads, &ents, &usage);
        prop_assert!(!one.windows.is_empty());
        prop_assert_eq!(streams(&one), streams(&many));
    }
}

#[test]
fn more_threads_than_partitions_and_blocks_of_one_record_change_nothing() {
    let spec = GenSpec { seed: 5, events: 5_000, credentials: 40, days: 3, ..GenSpec::default() };
    let ents = gen::entitlements(&spec).join("\n");
    let usage: String = gen::usage(&spec).map(|l| l + "\n").collect();
    let config = EngineConfig::default();
    let one = streams(&replay_text_threads(&config, 3, 1, &ents, &usage));
    for threads in [2, 4, 9] {
        assert_eq!(one, streams(&replay_text_threads(&config, 3, threads, &ents, &usage)), "{threads} threads");
    }
    // A single record, and an empty input.
    let first = usage.lines().next().unwrap().to_string() + "\n";
    assert_eq!(streams(&replay_text_threads(&config, 2, 1, &ents, &first)), streams(&replay_text_threads(&config, 2, 3, &ents, &first)));
    assert_eq!(streams(&replay_text_threads(&config, 2, 3, &ents, "")), streams(&replay_text_threads(&config, 2, 1, &ents, "")));
}
