//! Hand-built outputs for the serialisation tests (tests/ocsf_validate.rs,
//! tests/schemas.rs): one finding per rule in every shape the engine can
//! produce (with and without a triggering event, src_ip, model, principal,
//! owner), and window, balance and rejected records. Built as values, not by
//! the engine, so the encoders are checked on their own.
#![allow(dead_code)]

use bursar::decode::RejectKind;
use bursar::engine::output::{BalanceRecord, GrantView, RejectedRecord, WindowRecord};
use bursar::rules::figures::{Dimension, Sum};
use bursar::rules::{Figures, Finding, Rule, Suppressed};
use bursar::model::net::Network;
use bursar::model::{BurstRule, CreditPlan, Entitlement, Scope, Status, UsageEvent};
use std::sync::Arc;

/// 2026-05-04T10:00:00.000Z.
pub const T0: i64 = 1_777_888_800_000;
/// May 2026 as a `Month`.
pub const MAY_2026: i32 = 2026 * 12 + 4;

/// A call with every optional field set.
pub fn full_event(credential: &str) -> UsageEvent {
    UsageEvent {
        id: "evt-0001".into(),
        time: T0,
        credential: credential.into(),
        capability: "chat".into(),
        model: Some("llama-3-70b".into()),
        credits: 75_500_000,
        tokens_in: 1200,
        tokens_out: 340,
        principal: Some("svc-ml-batch".into()),
        source: Some("gw-eu-1".into()),
        src_ip: Some("198.51.100.23".into()),
        exposed: false,
    }
}

/// A call with only the required fields.
pub fn bare_event(credential: &str) -> UsageEvent {
    UsageEvent { model: None, principal: None, source: None, src_ip: None, tokens_in: 0, tokens_out: 0, credits: 0, ..full_event(credential) }
}

/// Dedupe key parts, severity and figures of a rule, as the engine builds them.
pub fn rule_parts(rule: Rule) -> (Vec<String>, u8, Figures) {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    const MAY_2026: i32 = 2026 * 12 + 4;
    const MAY_4_2026: i32 = 20_577;
    let c = |credits: i64| credits * 1_000_000;
    match rule {
        Rule::Burst => (
            s(&["0", "5925962666"]),
            3,
            Figures::Burst {
                rule_index: 0,
                window_ms: 300_000,
                slice: 5_925_962_666,
                exceeded: vec![Dimension::Credits],
                credits: Some(Sum { sum: 75_500_000, limit: c(50) }),
                calls: Some(Sum { sum: 3, limit: 2000 }),
                tokens: None,
            },
        ),
        Rule::CreditsThreshold => (s(&["2026-05", "800"]), 2, Figures::CreditsThreshold { month: MAY_2026, threshold: 800_000, used: c(800), available_at_start: c(1000) }),
        Rule::CreditsOverdraft => (s(&["2026-05"]), 3, Figures::CreditsOverdraft { month: MAY_2026, overage: 250_000, used: 1_000_250_000, available_at_start: c(1000) }),
        Rule::BankingDrawdown => (s(&["2026-05"]), 3, Figures::BankingDrawdown { month: MAY_2026, used_banked: c(1500), banked_at_start: c(3000) }),
        Rule::BankingAccumulation => (s(&["2026-05"]), 2, Figures::BankingAccumulation { month: MAY_2026, banked: c(2000), monthly: c(1000) }),
        Rule::DormantReactivated => (s(&["1769904000000"]), 3, Figures::DormantReactivated { last_activity: 1_769_904_000_000, gap_ms: 7_984_800_000, dormancy_ms: 7_776_000_000 }),
        Rule::DormantIdle => (s(&["1769904000000"]), 1, Figures::DormantIdle { last_activity: 1_769_904_000_000, due: 1_777_680_000_000, dormancy_ms: 7_776_000_000 }),
        Rule::ScopeViolation => (
            s(&["image", "", "2026-05-04"]),
            4,
            Figures::ScopeViolation { capability: "image".into(), model: "".into(), day: MAY_4_2026, violated: vec!["capability"] },
        ),
        Rule::ScopePrincipal => (
            s(&["svc-ml-batch", "2026-05-04"]),
            4,
            Figures::ScopePrincipal { principal: "svc-ml-batch".into(), day: MAY_4_2026, allowed: vec!["spiffe://prod/ns/ml/*".into()] },
        ),
        Rule::ScopeNetwork => (
            s(&["198.51.100.23", "2026-05-04"]),
            4,
            Figures::ScopeNetwork { src_ip: "198.51.100.23".into(), address: true, day: MAY_4_2026, allowed: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()] },
        ),
        Rule::ScopeDrift => (s(&["model", "qwen-2"]), 2, Figures::ScopeDrift { dimension: "model", value: "qwen-2".into() }),
        Rule::CredentialShared => (
            s(&["principal", "2026-05-04"]),
            3,
            Figures::CredentialShared { dimension: "principal", day: MAY_4_2026, limit: 2, count: 3, values: vec!["pod-1".into(), "pod-2".into(), "svc-ml-batch".into()] },
        ),
        Rule::CredentialRevoked => (s(&["revoked", "2026-05-04"]), 5, Figures::CredentialRevoked { reason: "revoked", status: "revoked" }),
        Rule::CredentialUnmanaged => (s(&["2026-05-04"]), 3, Figures::CredentialUnmanaged { day: MAY_4_2026 }),
        Rule::CredentialExposed => (Vec::new(), 5, Figures::CredentialExposed),
    }
}

/// A finding of `rule` triggered by `evidence` (None: a timer finding).
pub fn finding(rule: Rule, evidence: Option<UsageEvent>, owner: Option<&str>) -> Finding {
    let credential = if rule == Rule::CredentialExposed { "sha256:840f44082483037c" } else { "key_7f3a" };
    let (dedupe, severity, figures) = rule_parts(rule);
    let offset = evidence.as_ref().map(|_| 41);
    let evidence = evidence.map(|e| UsageEvent { credential: credential.into(), exposed: rule == Rule::CredentialExposed, ..e });
    Finding {
        rule,
        credential: credential.to_string(),
        dedupe,
        time: T0,
        severity,
        owner: owner.map(str::to_string),
        evidence,
        topic: "ai.usage".into(),
        partition: 3,
        offset,
        figures,
        version: None,
        suppressed: None,
    }
}

/// An entitlement version that sets every optional member.
pub fn full_version(owner: &str) -> Entitlement {
    Entitlement {
        credential: "key_7f3a".into(),
        owner: owner.into(),
        status: Status::Active,
        updated_at: T0 - 86_400_000,
        valid_from: Some(T0 - 86_400_000),
        valid_until: Some(T0 + 365 * 86_400_000),
        scope: Scope {
            capabilities: Some(vec!["chat".into(), "embeddings".into()]),
            models: Some(vec!["llama-*".into()]),
            principals: Some(vec!["svc-ml-*".into()]),
            networks: Some(vec![Network::parse("10.0.0.0/8").expect("a network"), Network::parse("2001:db8::/32").expect("a network")]),
        },
        credits: Some(CreditPlan { monthly: 1_000_000_000, bank_months: 3, bank_cap: Some(2_500_000_000) }),
        burst: Some(vec![BurstRule { window_ms: 300_000, credits: Some(50_000_000), calls: Some(100), tokens: None }]),
        dormancy_ms: Some(90 * 86_400_000),
        max_principals: Some(4),
        max_source_ips: Some(8),
    }
}

/// A version with only the required members.
pub fn bare_version(owner: &str) -> Entitlement {
    Entitlement { valid_from: None, valid_until: None, scope: Scope::default(), credits: None, burst: None, dormancy_ms: None, max_principals: None, max_source_ips: None, ..full_version(owner) }
}

/// Every rule in four shapes: a full call, an owner e-mail and a full
/// entitlement version; a bare call and no owner (no version); no call, an
/// owner that is not an e-mail and a bare version, marked suppressed; no
/// call and no owner; plus one with hostile strings that must be escaped.
pub fn all_findings() -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in Rule::ALL {
        let mut full = finding(rule, Some(full_event("key_7f3a")), Some("team-ml@example.com"));
        full.version = Some(Arc::new(full_version("team-ml@example.com")));
        out.push(full);
        out.push(finding(rule, Some(bare_event("key_7f3a")), None));
        let mut timer = finding(rule, None, Some("team ml"));
        timer.version = Some(Arc::new(bare_version("team ml")));
        timer.suppressed = Some(Suppressed { reason: "QA keys, ticket \"SEC-1\"".into() });
        out.push(timer);
        out.push(finding(rule, None, None));
    }
    let mut odd = finding(Rule::ScopeDrift, Some(full_event("k")), Some("o\"wner\\\u{1}"));
    odd.credential = "key \"quoted\" \u{7f} ünï€ \n".into();
    odd.figures = Figures::ScopeDrift { dimension: "model", value: "model\twith\ttabs".into() };
    out.push(odd);
    out
}

/// A window record with two capabilities.
pub fn window() -> WindowRecord {
    WindowRecord {
        credential: "key_7f3a".into(),
        size_ms: 60_000,
        start: T0,
        end: T0 + 60_000,
        calls: 3,
        credits: 12_500_000,
        tokens_in: 10,
        tokens_out: 20,
        capabilities: smallvec::smallvec![("chat".into(), 2), ("embeddings".into(), 1)],
        distinct_models: 2,
    }
}

/// A balance record with a banked grant, a current one and a negative figure.
pub fn balance() -> BalanceRecord {
    BalanceRecord {
        credential: "key_7f3a".into(),
        as_of: T0,
        month: MAY_2026,
        available_at_start: -3_250_000,
        banked_at_start: 500_000_000,
        used: 1,
        used_banked: 1,
        remaining: 1_499_999_999,
        overage: 0,
        granted_total: 3_000_000_000,
        burned_total: 1_000_000_001,
        expired_total: 500_000_000,
        grants: smallvec::smallvec![
            GrantView { month: MAY_2026 - 1, amount: 1_000_000_000, remaining: 499_999_999, expires: MAY_2026 + 2 },
            GrantView { month: MAY_2026, amount: 1_000_000_000, remaining: 1_000_000_000, expires: MAY_2026 + 3 },
        ],
    }
}

/// A rejected record from a file (with a line) or a broker (headers, no line,
/// no key, a value that is not UTF-8).
pub fn rejected(from_file: bool) -> RejectedRecord {
    match from_file {
        true => RejectedRecord {
            partition: 0,
            offset: 7,
            line: Some(9),
            kind: RejectKind::MissingField,
            reason: "field `id` is required".into(),
            key: Some(b"key_7f3a".to_vec()),
            value: Some(br#"{"time":"2026-05-04T10:00:00Z"}"#.to_vec()),
            headers: Vec::new(),
        },
        false => RejectedRecord {
            partition: 2,
            offset: 1234,
            line: None,
            kind: RejectKind::InvalidJson,
            reason: "value is not UTF-8".into(),
            key: None,
            value: Some(vec![0xff, 0xfe, b'{']),
            headers: vec![("traceparent".into(), Some(b"00-abc-def-01".to_vec())), ("empty".into(), None)],
        },
    }
}
