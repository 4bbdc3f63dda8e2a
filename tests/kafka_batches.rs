//! When a live batch's outputs are sent (docs/semantics.md "Live
//! processing"): under at_least_once records go through the engine while
//! their batch fills, so findings reach their topic before the batch
//! commits; under exactly_once nothing is produced before the batch closes.
//! A linger far longer than the test keeps the batch open meanwhile.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bursar::emit;
use bursar::engine::output::Output;
use common::*;

/// Longer than the test waits: the batch never closes on its own.
const LINGER: &str = "batch_linger = \"40s\"";

fn expected_findings(s: &Setup, ents: &[String], usage: &[String]) -> BTreeSet<Vec<u8>> {
    let reference = reference(&s.config.engine().unwrap(), s.config.topics.partitions, &ents.join("\n"), usage);
    reference.iter().filter_map(|o| if let Output::Finding(f) = o { Some(emit::finding_json(f).into_bytes()) } else { None }).collect()
}

fn findings_on_topic(s: &Setup, read_committed: bool) -> BTreeSet<Vec<u8>> {
    consume_all(&s.bootstrap, &s.config.topics.findings, read_committed, Duration::from_secs(10)).into_iter().filter_map(|r| r.value).collect()
}

fn setup(b: &str, name: &str, guarantee: &str) -> (Setup, BTreeSet<Vec<u8>>, i64) {
    let s = Setup::new(b, name, 2, &format!("guarantee = \"{guarantee}\""));
    let text = std::fs::read_to_string(&s.path).unwrap().replace("batch_size = 500", "batch_size = 1000000").replace("batch_linger = \"50ms\"", LINGER);
    std::fs::write(&s.path, text).unwrap();
    let (ents, usage) = workload(3_000, 60, 41);
    produce(&s.config, &ents, &usage);
    let expected = expected_findings(&s, &ents, &usage);
    assert!(!expected.is_empty(), "the workload should produce findings");
    (s, expected, usage.len() as i64)
}

#[test]
fn at_least_once_sends_findings_while_the_batch_fills_and_commits_at_its_end() {
    let Some(b) = bootstrap() else { return };
    let (s, expected, records) = setup(&b, "stream-alo", "at_least_once");
    let mut child = s.spawn("a");
    let started = Instant::now();
    let mut seen = BTreeSet::new();
    while seen != expected && started.elapsed() < Duration::from_secs(25) {
        std::thread::sleep(Duration::from_millis(500));
        seen = findings_on_topic(&s, false);
    }
    assert_eq!(seen, expected, "every finding should be on its topic while the batch is still open");
    assert_eq!(s.committed(), 0, "the batch should not have committed yet (its linger is 40 s)");
    terminate(&mut child);
    assert!(child.wait().unwrap().success());
    assert_eq!(s.committed(), records, "at shutdown the open batch commits");
    assert_eq!(findings_on_topic(&s, true), expected, "no finding was sent twice or changed");
}

#[test]
fn exactly_once_produces_nothing_before_the_batch_closes() {
    let Some(b) = bootstrap() else { return };
    let (s, expected, records) = setup(&b, "stream-eos", "exactly_once");
    let mut child = s.spawn("a");
    // Long enough for the whole input to be consumed (as the test above shows).
    std::thread::sleep(Duration::from_secs(8));
    assert!(findings_on_topic(&s, false).is_empty(), "under exactly_once the outputs wait for the complete batch");
    assert_eq!(s.committed(), 0);
    terminate(&mut child);
    assert!(child.wait().unwrap().success());
    assert_eq!(s.committed(), records, "at shutdown the open batch commits");
    assert_eq!(findings_on_topic(&s, true), expected);
}
