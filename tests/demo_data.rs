//! The bundled data of `bursar demo` (examples/*.jsonl) tells a story in
//! which every rule of docs/semantics.md fires and a few records are rejected.

use std::collections::BTreeMap;

use bursar::config::Config;
use bursar::decode::RejectKind;
use bursar::rules::Rule;
use bursar::runtime::replay::{replay_text, ReplayOutputs};

const ENTITLEMENTS: &str = include_str!("../examples/entitlements.jsonl");
const USAGE: &str = include_str!("../examples/usage.jsonl");
const CONFIG: &str = include_str!("../examples/demo.toml");

fn replay() -> ReplayOutputs {
    let config = Config::parse(CONFIG).expect("examples/demo.toml is valid").engine().expect("valid engine settings");
    replay_text(&config, 1, ENTITLEMENTS, USAGE)
}

fn by_rule(out: &ReplayOutputs) -> BTreeMap<Rule, Vec<String>> {
    let mut map: BTreeMap<Rule, Vec<String>> = BTreeMap::new();
    for f in &out.findings {
        map.entry(f.rule).or_default().push(f.credential.clone());
    }
    map
}

#[test]
fn every_rule_fires_at_least_once_on_the_demo_data() {
    let out = replay();
    let rules = by_rule(&out);
    let missing: Vec<&str> = Rule::ALL.iter().filter(|r| !rules.contains_key(r)).map(|r| r.as_str()).collect();
    let counts: Vec<(&str, usize)> = rules.iter().map(|(r, v)| (r.as_str(), v.len())).collect();
    assert!(missing.is_empty(), "rules that never fire: {missing:?}; fired: {counts:?}");
}

#[test]
fn each_rule_fires_for_the_credential_whose_story_it_is() {
    let rules = by_rule(&replay());
    let expect = [
        (Rule::Burst, "key_support_bot"),
        (Rule::Burst, "key_ml_batch"),
        (Rule::CreditsThreshold, "key_support_bot"),
        (Rule::CreditsOverdraft, "key_support_bot"),
        (Rule::BankingAccumulation, "key_ml_batch"),
        (Rule::BankingDrawdown, "key_ml_batch"),
        (Rule::DormantIdle, "key_legacy_etl"),
        (Rule::DormantReactivated, "key_legacy_etl"),
        (Rule::ScopeViolation, "key_search_indexer"),
        (Rule::ScopeDrift, "key_support_bot"),
        (Rule::ScopeDrift, "key_ml_batch"),
        (Rule::ScopePrincipal, "key_support_bot"),
        (Rule::ScopeNetwork, "key_ml_batch"),
        (Rule::CredentialShared, "key_search_indexer"),
        (Rule::CredentialRevoked, "key_intern_2025"),
        (Rule::CredentialRevoked, "key_contractor_acme"),
        (Rule::CredentialRevoked, "key_partner_beta"),
        (Rule::CredentialUnmanaged, "key_shadow_it"),
        (Rule::CredentialUnmanaged, "key_retired_poc"),
    ];
    for (rule, credential) in expect {
        let hit = rules.get(&rule).is_some_and(|creds| creds.iter().any(|c| c == credential));
        assert!(hit, "{} never fires for {credential}", rule.as_str());
    }
    let exposed = rules.get(&Rule::CredentialExposed).cloned().unwrap_or_default();
    assert!(exposed.len() == 1 && exposed[0].starts_with("sha256:"), "{exposed:?}");
}

#[test]
fn the_demo_data_has_rejected_records_of_several_kinds() {
    let out = replay();
    let kinds: std::collections::BTreeSet<RejectKind> = out.rejected.iter().map(|r| r.kind).collect();
    assert!(out.rejected.len() >= 5, "{} rejected", out.rejected.len());
    for kind in [RejectKind::InvalidJson, RejectKind::MissingField, RejectKind::InvalidField, RejectKind::InvalidCloudevent] {
        assert!(kinds.contains(&kind), "no {kind:?} in {kinds:?}");
    }
    assert!(out.entitlement_errors.is_empty(), "{:?}", out.entitlement_errors);
}

#[test]
fn no_raw_secret_survives_into_any_output() {
    let out = replay();
    let raw = "sk-demo-NOTAREALKEY";
    assert!(USAGE.contains(raw));
    for f in &out.findings {
        assert!(!format!("{f:?}").contains(raw));
    }
    for r in &out.rejected {
        assert!(!format!("{r:?}").contains(raw) && !String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).contains(raw));
    }
}

/// `cargo test --test demo_data -- --ignored --nocapture` prints the story's findings.
#[test]
#[ignore]
fn prints_the_findings_of_the_demo_story() {
    let out = replay();
    let mut counts: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for f in &out.findings {
        *counts.entry((f.credential.clone(), f.rule.as_str())).or_default() += 1;
    }
    for ((credential, rule), n) in counts {
        println!("{credential:28} {rule:22} {n}");
    }
    for r in &out.rejected {
        println!("rejected line {:?}: {} ({})", r.line, r.kind.as_str(), r.reason);
    }
    println!("{} windows, {} balances", out.windows.len(), out.balances.len());
}
