//! Tuning changes only what it says: on the bundled example data, marking
//! keeps every finding, its uid and its place; dropping and switching off
//! remove exactly the matching findings; nothing else (windows, balances)
//! changes (docs/semantics.md, "Tuning and suppression").

use bursar::config::Config;
use bursar::runtime::replay::{replay_text, ReplayOutputs};

fn run(config: &str) -> ReplayOutputs {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let ents = std::fs::read_to_string(format!("{dir}/entitlements.jsonl")).expect("examples/entitlements.jsonl");
    let usage = std::fs::read_to_string(format!("{dir}/usage.jsonl")).expect("examples/usage.jsonl");
    let engine = Config::parse(config).and_then(|c| c.engine()).expect("valid config");
    replay_text(&engine, 4, &ents, &usage)
}

fn uids(out: &ReplayOutputs) -> Vec<String> {
    out.findings.iter().map(|f| f.uid()).collect()
}

#[test]
fn marking_keeps_every_finding_uid_and_order_and_changes_nothing_else() {
    let plain = run("");
    assert!(plain.findings.len() > 10 && plain.findings.iter().all(|f| f.suppressed.is_none()));
    let marked = run("[[suppress]]\ncredential = \"*\"\nreason = \"everything, for the test\"\n");
    assert_eq!(uids(&marked), uids(&plain));
    assert!(marked.findings.iter().all(|f| f.suppressed.as_ref().is_some_and(|s| &*s.reason == "everything, for the test")));
    assert_eq!((marked.windows, marked.balances), (plain.windows.clone(), plain.balances.clone()));
}

#[test]
fn dropping_and_switching_off_remove_exactly_the_matching_findings() {
    let plain = run("");
    let keep = |out: &ReplayOutputs, skip: &str| -> Vec<String> { out.findings.iter().filter(|f| f.rule.as_str() != skip).map(|f| f.uid()).collect() };
    for rule in ["scope.drift", "credential.unmanaged", "burst"] {
        assert!(plain.findings.iter().any(|f| f.rule.as_str() == rule), "the examples have {rule}");
        let dropped = run(&format!("[[suppress]]\nrule = \"{rule}\"\nreason = \"r\"\naction = \"drop\"\n"));
        assert_eq!(uids(&dropped), keep(&plain, rule), "{rule}");
        let off = run(&format!("[rules.\"{rule}\"]\nenabled = false\n"));
        assert_eq!(uids(&off), keep(&plain, rule), "{rule}");
        assert_eq!(off.balances, plain.balances);
    }
}
