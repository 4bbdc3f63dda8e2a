//! Unit tests of the finding encoder: determinism, the fixed OCSF members,
//! the mapping of the triggering call, descriptions and headers.

use serde_json::{json, Value};

use super::{encode, finding_headers, finding_json, window_json};
use crate::engine::output::{Output, WindowRecord};
use crate::rules::figures::{Dimension, Figures, Sum};
use crate::rules::{Finding, Rule};
use crate::model::UsageEvent;

const T0: i64 = 1_777_888_800_000; // 2026-05-04T10:00:00.000Z

fn event() -> UsageEvent {
    UsageEvent {
        id: "evt-1".into(),
        time: T0,
        credential: "key_7f3a".into(),
        capability: "chat".into(),
        model: Some("llama-3-70b".into()),
        credits: 2_500_000,
        tokens_in: 10,
        tokens_out: 20,
        principal: Some("svc-batch".into()),
        source: Some("gw-1".into()),
        src_ip: Some("192.0.2.7".into()),
        exposed: false,
    }
}

/// Burst figures of a 5m rule on credits (and calls when `calls`).
fn burst_figures(calls: bool) -> Figures {
    let calls = calls.then_some(Sum { sum: 3, limit: 10 });
    Figures::Burst { rule_index: 0, window_ms: 300_000, slice: 42, exceeded: vec![Dimension::Credits], credits: Some(Sum { sum: 75_000_000, limit: 50_000_000 }), calls, tokens: None }
}

/// One figures value of each rule, as the rules build them.
fn figures_of(rule: Rule) -> Figures {
    match rule {
        Rule::Burst => burst_figures(false),
        Rule::CreditsThreshold => Figures::CreditsThreshold { month: 24_316, threshold: 800_000, used: 8_000_000, available_at_start: 10_000_000 },
        Rule::CreditsOverdraft => Figures::CreditsOverdraft { month: 24_316, overage: 1, used: 11_000_000, available_at_start: 10_000_000 },
        Rule::BankingDrawdown => Figures::BankingDrawdown { month: 24_316, used_banked: 1_000_000, banked_at_start: 3_000_000 },
        Rule::BankingAccumulation => Figures::BankingAccumulation { month: 24_316, banked: 2_000_000, monthly: 1_000_000 },
        Rule::DormantReactivated => Figures::DormantReactivated { last_activity: T0 - 8_000_000_000, gap_ms: 8_000_000_000, dormancy_ms: 7_776_000_000 },
        Rule::DormantIdle => Figures::DormantIdle { last_activity: T0, due: T0 + 1, dormancy_ms: 1 },
        Rule::ScopeViolation => Figures::ScopeViolation { capability: "chat".into(), model: "".into(), day: 20_577, violated: vec!["capability"] },
        Rule::ScopePrincipal => Figures::ScopePrincipal { principal: "svc-batch".into(), day: 20_577, allowed: vec!["svc-web-*".into()] },
        Rule::ScopeNetwork => Figures::ScopeNetwork { src_ip: "192.0.2.7".into(), address: true, day: 20_577, allowed: vec!["10.0.0.0/8".into()] },
        Rule::ScopeDrift => Figures::ScopeDrift { dimension: "model", value: "m".into() },
        Rule::CredentialShared => Figures::CredentialShared { dimension: "principal", day: 20_577, limit: 2, count: 3, values: vec!["a".into(), "b".into(), "c".into()] },
        Rule::CredentialRevoked => Figures::CredentialRevoked { reason: "not_yet_valid", status: "active" },
        Rule::CredentialUnmanaged => Figures::CredentialUnmanaged { day: 20_577 },
        Rule::CredentialExposed => Figures::CredentialExposed,
    }
}

fn burst(figures: Figures) -> Finding {
    Finding {
        rule: figures.rule(),
        credential: "key_7f3a".into(),
        dedupe: vec!["0".into(), "42".into()],
        time: T0,
        severity: 3,
        owner: Some("team-ml@example.com".into()),
        evidence: Some(event()),
        topic: "ai.usage".into(),
        partition: 1,
        offset: Some(17),
        figures,
        version: None,
        suppressed: None,
    }
}

fn parse(f: &Finding) -> Value {
    serde_json::from_str(&finding_json(f)).expect("finding is JSON")
}

#[test]
fn the_same_finding_always_encodes_to_the_same_bytes() {
    let f = burst(burst_figures(true));
    let a = finding_json(&f);
    assert_eq!(a, finding_json(&f.clone()));
}

#[test]
fn a_finding_carries_the_fixed_detection_finding_members() {
    let v = parse(&burst(burst_figures(false)));
    for (k, want) in [("class_uid", json!(2004)), ("category_uid", json!(2)), ("activity_id", json!(1)), ("type_uid", json!(200401))] {
        assert_eq!(v[k], want, "{k}");
    }
    assert_eq!((v["is_alert"].clone(), v["status_id"].clone(), v["status"].clone()), (json!(true), json!(1), json!("New")));
    assert_eq!((v["severity_id"].clone(), v["severity"].clone()), (json!(3), json!("Medium")));
    assert_eq!(v["time"], json!(T0));
    assert_eq!(v["finding_info"]["created_time"], json!(T0));
    assert_eq!(v["metadata"]["version"], "1.7.0");
    assert_eq!(v["metadata"]["product"], json!({"name": "bursar", "vendor_name": "bursar", "version": env!("CARGO_PKG_VERSION")}));
    let uid = burst(burst_figures(false)).uid();
    assert_eq!((v["metadata"]["uid"].as_str(), v["finding_info"]["uid"].as_str()), (Some(uid.as_str()), Some(uid.as_str())));
    assert_eq!(v["finding_info"]["types"], json!(["burst"]));
    assert_eq!(v["finding_info"]["analytic"], json!({"uid": "bursar.burst", "name": "burst", "type_id": 1, "type": "Rule"}));
}

#[test]
fn severity_captions_follow_ocsf() {
    for (id, caption) in [(1, "Informational"), (2, "Low"), (3, "Medium"), (4, "High"), (5, "Critical")] {
        let mut f = burst(burst_figures(false));
        f.severity = id;
        assert_eq!(parse(&f)["severity"], caption);
    }
}

#[test]
fn the_triggering_call_is_the_evidence_and_its_ip_an_observable() {
    let v = parse(&burst(burst_figures(false)));
    let e = &v["evidences"][0];
    assert_eq!(e["actor"]["user"]["programmatic_credentials"], json!([{"uid": "key_7f3a", "type": "API Key"}]));
    assert_eq!(e["actor"]["user"]["uid"], "svc-batch");
    assert_eq!(e["api"], json!({"operation": "chat", "request": {"uid": "evt-1"}, "service": {"name": "llama-3-70b"}}));
    assert_eq!(e["src_endpoint"], json!({"ip": "192.0.2.7"}));
    assert_eq!(e["data"]["credits"], "2.5");
    assert_eq!(e["data"]["time"], "2026-05-04T10:00:00.000Z");
    assert_eq!(v["resources"], json!([{"uid": "key_7f3a", "name": "key_7f3a", "type": "API Key", "owner": {"name": "team-ml@example.com", "email_addr": "team-ml@example.com"}}]));
    let obs: Vec<(i64, &str)> = v["observables"].as_array().unwrap().iter().map(|o| (o["type_id"].as_i64().unwrap(), o["value"].as_str().unwrap())).collect();
    assert_eq!(obs, [(19, "key_7f3a"), (4, "svc-batch"), (2, "192.0.2.7")]);
    assert_eq!(v["observables"][1]["name"], "evidences.actor.user.name");
}

#[test]
fn a_timer_finding_has_only_the_credential_as_evidence() {
    let mut f = burst(burst_figures(false));
    f.rule = Rule::DormantIdle;
    f.evidence = None;
    f.offset = None;
    f.owner = None;
    let v = parse(&f);
    assert_eq!(v["evidences"], json!([{"actor": {"user": {"credential_uid": "key_7f3a", "programmatic_credentials": [{"uid": "key_7f3a", "type": "API Key"}]}}}]));
    assert_eq!(v["observables"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["resources"][0].get("owner"), None);
    assert_eq!(v["unmapped"]["bursar"]["source"], json!({"topic": "ai.usage", "partition": 1, "offset": null}));
}

#[test]
fn unmapped_bursar_holds_rule_credential_dedupe_key_figures_facts_then_source() {
    let f = burst(burst_figures(false));
    let text = finding_json(&f);
    let tail = &text[text.find(r#""unmapped""#).unwrap()..];
    assert!(
        tail.starts_with(r#""unmapped":{"bursar":{"rule":"burst","credential":"key_7f3a","dedupe_key":"0|42","exceeded":["credits"],"limit_credits":"50","rule_index":0,"slice":42,"sum_credits":"75","window":"5m","facts":{"entitlement":null},"source":{"topic":"ai.usage","partition":1,"offset":17}}}"#),
        "{tail}"
    );
}

#[test]
fn attacks_map_burst_to_hijacking_and_identity_rules_to_valid_accounts() {
    let sub = |rule: Rule| {
        let v = parse(&burst(figures_of(rule)));
        v["finding_info"]["attacks"].as_array().map(|a| a.iter().map(|x| x["sub_technique"]["uid"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>())
    };
    assert_eq!(sub(Rule::Burst), Some(vec!["T1496.004".to_string()]));
    for rule in [Rule::DormantReactivated, Rule::DormantIdle, Rule::CredentialRevoked, Rule::ScopeViolation, Rule::ScopeDrift] {
        let subs = sub(rule).unwrap_or_default();
        assert!(!subs.is_empty() && subs.iter().all(|s| s == "T1078.004"), "{rule:?}");
    }
    for rule in [Rule::CreditsThreshold, Rule::CreditsOverdraft, Rule::BankingDrawdown, Rule::BankingAccumulation, Rule::CredentialUnmanaged, Rule::CredentialExposed] {
        assert_eq!(sub(rule), None, "{rule:?}");
    }
}

#[test]
fn a_burst_description_names_the_sum_the_window_and_the_limit() {
    let v = parse(&burst(burst_figures(true)));
    assert_eq!(v["finding_info"]["title"], "Burst threshold breached");
    assert_eq!(v["finding_info"]["desc"], "Credential key_7f3a exceeded a burst limit: credits 75 over 5m exceeds the limit 50.");
}

#[test]
fn descriptions_are_sentences_with_or_without_figures() {
    for rule in Rule::ALL {
        let desc = parse(&burst(figures_of(rule)))["finding_info"]["desc"].as_str().unwrap_or_default().to_string();
        assert!(desc.ends_with('.') && !desc.contains('?') && !desc.contains("None") && !desc.contains("  "), "{rule:?}: {desc}");
    }
    let f = burst(figures_of(Rule::CreditsThreshold));
    assert_eq!(parse(&f)["finding_info"]["desc"], "Credential key_7f3a used 8 credits in 2026-05, 80% or more of the 10 available at the month start.");
}

#[test]
fn strings_from_input_are_escaped() {
    let mut f = burst(Figures::ScopeDrift { dimension: "model", value: "a\"b\\c\u{1}".into() });
    f.credential = "k \"1\"\n".into();
    f.owner = Some("ö\t".into());
    let v = parse(&f);
    assert_eq!(v["unmapped"]["bursar"]["credential"], "k \"1\"\n");
    assert_eq!(v["unmapped"]["bursar"]["value"], "a\"b\\c\u{1}");
    assert_eq!(v["resources"][0]["owner"]["name"], "ö\t");
}

#[test]
fn finding_headers_are_cloudevents_binary_mode() {
    let f = burst(burst_figures(false));
    let h = finding_headers(&f);
    let want: Vec<(&str, String)> = vec![
        ("ce_specversion", "1.0".into()),
        ("ce_id", f.uid()),
        ("ce_source", "bursar".into()),
        ("ce_type", "io.bursar.finding.v1".into()),
        ("ce_subject", "key_7f3a".into()),
        ("ce_time", "2026-05-04T10:00:00.000Z".into()),
        ("content-type", "application/json".into()),
    ];
    assert_eq!(h, want);
}

#[test]
fn encode_dispatches_on_the_output_kind() {
    let f = burst(burst_figures(false));
    assert_eq!(encode(&Output::Finding(Box::new(f.clone()))), finding_json(&f));
    let w = WindowRecord {
        credential: "k".into(),
        size_ms: 3_600_000,
        start: T0,
        end: T0 + 3_600_000,
        calls: 1,
        credits: 0,
        tokens_in: 0,
        tokens_out: 0,
        capabilities: smallvec::smallvec![("chat".into(), 1)],
        distinct_models: 0,
    };
    assert_eq!(encode(&Output::Window(w.clone())), window_json(&w));
    assert!(window_json(&w).contains(r#""window":"1h""#) && window_json(&w).contains(r#""credits":"0""#));
}

mod oracle;

mod writers;
mod why;
