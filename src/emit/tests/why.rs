//! Why-facts, remediation, titles and descriptions per rule
//! (docs/semantics.md, "Why-facts and remediation"): each rule's finding
//! says which fact of the version in force it was decided on, and what to do.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{burst, figures_of, parse, T0};
use crate::model::{BurstRule, CreditPlan, Entitlement, Scope, Status};
use crate::rules::figures::Figures;
use crate::rules::remediation::remediation;
use crate::rules::{Finding, Rule, Suppressed};

const DAY: i64 = 86_400_000;

fn version() -> Entitlement {
    Entitlement {
        credential: "key_7f3a".into(),
        owner: "team-ml@example.com".into(),
        status: Status::Active,
        updated_at: T0 - DAY,
        valid_from: Some(T0 + DAY),
        valid_until: Some(T0 + 30 * DAY),
        scope: Scope { capabilities: Some(vec!["chat".into(), "embeddings".into()]), models: Some(vec!["llama-*".into()]), ..Scope::default() },
        credits: Some(CreditPlan { monthly: 1_000_000_000, bank_months: 3, bank_cap: Some(2_500_000_000) }),
        burst: Some(vec![BurstRule { window_ms: 300_000, credits: Some(50_000_000), calls: None, tokens: None }]),
        dormancy_ms: Some(90 * DAY),
        max_principals: None,
        max_source_ips: None,
    }
}

/// The finding of `rule` with the version in force.
fn with_version(rule: Rule) -> Finding {
    Finding { version: Some(Arc::new(version())), ..burst(figures_of(rule)) }
}

fn desc(v: &Value) -> &str {
    v["finding_info"]["desc"].as_str().unwrap_or_default()
}

/// Sentences of a description whose texts hold no ". ".
fn sentences(d: &str) -> usize {
    d.matches(". ").count() + 1
}

/// What each rule's description must say of the version in force (None: nothing, it has none).
fn deciding_fact(rule: Rule) -> Option<&'static str> {
    match rule {
        Rule::CredentialExposed | Rule::CredentialUnmanaged => None,
        Rule::CredentialRevoked => Some("is valid from 2026-05-05T10:00:00.000Z"),
        Rule::ScopeViolation | Rule::ScopePrincipal | Rule::ScopeNetwork => Some("allows capabilities chat, embeddings and models llama-*"),
        Rule::CredentialShared => Some("leaves the limit of distinct principals a day to the configuration"),
        Rule::ScopeDrift => Some("allows capabilities chat, embeddings and models llama-*; confirm the new use with the owner"),
        Rule::DormantReactivated | Rule::DormantIdle => Some("sets a dormancy of 90d; confirm with the owner that the key is still needed"),
        Rule::Burst => Some("sets burst rule 1 of 1; check the volume with the owner"),
        Rule::CreditsOverdraft | Rule::CreditsThreshold | Rule::BankingDrawdown | Rule::BankingAccumulation => Some("grants 1000 credits a month, banked for 3 months up to 2500"),
    }
}

#[test]
fn every_rule_names_the_fact_of_the_version_it_was_decided_on_in_at_most_two_sentences() {
    for rule in Rule::ALL {
        let v = parse(&with_version(rule));
        let d = desc(&v);
        assert!((1..=2).contains(&sentences(d)) && d.ends_with('.'), "{rule:?}: {d}");
        match deciding_fact(rule) {
            Some(fact) => {
                assert!(d.contains("The entitlement in force (owner team-ml@example.com, updated 2026-05-03T10:00:00.000Z) "), "{rule:?}: {d}");
                assert!(d.contains(fact), "{rule:?}: {d}");
            }
            None => assert!(!d.contains("entitlement in force ("), "{rule:?}: {d}"),
        }
    }
}

#[test]
fn every_rule_carries_the_version_as_facts() {
    let want = json!({
        "entitlement": {"updated_at": "2026-05-03T10:00:00.000Z", "owner": "team-ml@example.com", "status": "active", "valid_from": "2026-05-05T10:00:00.000Z", "valid_until": "2026-06-03T10:00:00.000Z"},
        "scope": {"capabilities": ["chat", "embeddings"], "models": ["llama-*"]},
        "burst": [{"window": "5m", "credits": "50"}],
        "dormancy": "90d",
        "credits": {"monthly": "1000", "bank_months": 3, "bank_cap": "2500"}
    });
    for rule in Rule::ALL {
        let v = parse(&with_version(rule));
        assert_eq!(v["unmapped"]["bursar"]["facts"], want, "{rule:?}");
        assert_eq!(v["resources"][0]["modified_time"], T0 - DAY, "{rule:?}");
    }
}

#[test]
fn without_a_version_the_facts_say_none_was_in_force_and_a_bare_version_only_its_required_members() {
    let v = parse(&burst(figures_of(Rule::CredentialUnmanaged)));
    assert_eq!(v["unmapped"]["bursar"]["facts"], json!({"entitlement": null}));
    assert_eq!(v["resources"][0].get("modified_time"), None);
    let bare = Entitlement { valid_from: None, valid_until: None, scope: Scope::default(), credits: None, burst: None, dormancy_ms: None, max_principals: None, max_source_ips: None, ..version() };
    let v = parse(&Finding { version: Some(Arc::new(bare)), ..burst(figures_of(Rule::DormantIdle)) });
    assert_eq!(v["unmapped"]["bursar"]["facts"], json!({"entitlement": {"updated_at": "2026-05-03T10:00:00.000Z", "owner": "team-ml@example.com", "status": "active"}}));
    assert!(desc(&v).contains("leaves the dormancy to the configuration"), "{}", desc(&v));
}

#[test]
fn every_rule_carries_its_remediation() {
    for rule in Rule::ALL {
        let r = remediation(rule);
        let v = parse(&with_version(rule));
        let refs: Vec<&str> = r.references.to_vec();
        let want = if refs.is_empty() { json!({"desc": r.desc}) } else { json!({"desc": r.desc, "references": refs}) };
        assert_eq!(v["remediation"], want, "{rule:?}");
    }
}

#[test]
fn the_origin_scope_and_day_limits_are_facts_and_why() {
    let scope = Scope { principals: Some(vec!["svc-*".into()]), networks: Some(vec![crate::model::net::Network::parse("10.0.0.0/8").unwrap()]), ..Scope::default() };
    let v = Entitlement { scope, max_principals: Some(4), max_source_ips: Some(8), ..version() };
    let f = parse(&Finding { version: Some(Arc::new(v)), ..burst(figures_of(Rule::ScopeNetwork)) });
    let facts = &f["unmapped"]["bursar"]["facts"];
    assert_eq!((&facts["scope"], &facts["max_principals"], &facts["max_source_ips"]), (&json!({"principals": ["svc-*"], "networks": ["10.0.0.0/8"]}), &json!(4), &json!(8)));
    assert!(desc(&f).contains("allows principals svc-* and networks 10.0.0.0/8"), "{}", desc(&f));
    let v = Entitlement { max_principals: Some(4), ..version() };
    let f = parse(&Finding { version: Some(Arc::new(v)), ..burst(figures_of(Rule::CredentialShared)) });
    assert!(desc(&f).contains("allows 4 distinct principals a day"), "{}", desc(&f));
}

#[test]
fn credential_revoked_is_titled_by_its_reason_and_dated() {
    let cases = [
        ("revoked", Status::Revoked, "Use of a revoked credential", "has status revoked: block the key and find the caller"),
        ("suspended", Status::Suspended, "Use of a suspended credential", "has status suspended"),
        ("expired", Status::Active, "Use of an expired credential", "expired at 2026-06-03T10:00:00.000Z"),
        ("not_yet_valid", Status::Active, "Use of a credential before its validity starts", "is valid from 2026-05-05T10:00:00.000Z"),
    ];
    for (reason, status, title, fact) in cases {
        let figures = Figures::CredentialRevoked { reason, status: crate::emit::facts::status_name(status) };
        let f = Finding { version: Some(Arc::new(Entitlement { status, ..version() })), ..burst(figures) };
        let v = parse(&f);
        assert_eq!(v["finding_info"]["title"], title, "{reason}");
        assert!(!(reason == "not_yet_valid" && title.contains("revoked")));
        assert!(desc(&v).contains(fact), "{reason}: {}", desc(&v));
    }
    assert_eq!(parse(&burst(figures_of(Rule::Burst)))["finding_info"]["title"], Rule::Burst.info().title);
}

#[test]
fn a_suppressed_finding_has_status_3_and_its_reason() {
    let f = Finding { suppressed: Some(Suppressed { reason: "QA keys".into() }), ..with_version(Rule::ScopeDrift) };
    let v = parse(&f);
    assert_eq!((v["status_id"].as_i64(), v["status"].as_str(), v["status_detail"].as_str()), (Some(3), Some("Suppressed"), Some("QA keys")));
    assert_eq!(v["unmapped"]["bursar"]["suppressed"], json!({"reason": "QA keys"}));
    let v = parse(&with_version(Rule::ScopeDrift));
    assert_eq!((v["status_id"].as_i64(), v.get("status_detail"), v["unmapped"]["bursar"].get("suppressed")), (Some(1), None, None));
}
