//! The review's reading of outputs and its ranking of keys to look at first.

use super::review::{Keep, Reason, Review};
use super::source::Kind;

fn finding(credential: &str, rule: &str, time: i64, severity: u8) -> String {
    serde_json::json!({
        "time": time, "severity_id": severity,
        "finding_info": {"uid": format!("{rule}-{time}"), "desc": "d", "types": [rule]},
        "resources": [{"owner": {"name": "owner-from-finding"}}],
        "unmapped": {"bursar": {"rule": rule, "credential": credential}},
    })
    .to_string()
}

fn window(credential: &str, start: &str, end: &str, calls: u64, credits: &str) -> String {
    format!(r#"{{"credential":"{credential}","window":"1h","start":"{start}","end":"{end}","calls":{calls},"credits":"{credits}","tokens_in":0,"tokens_out":0,"capabilities":{{}},"distinct_models":0}}"#)
}

fn balance(credential: &str, banked_at_start: &str, grants: &[(&str, &str)]) -> String {
    let grants: Vec<String> = grants.iter().map(|(m, left)| format!(r#"{{"month":"{m}","amount":"100","remaining":"{left}","expires":"2026-09-01T00:00:00.000Z"}}"#)).collect();
    format!(
        r#"{{"credential":"{credential}","as_of":"2026-04-01T00:00:00.000Z","month":"2026-04","available_at_start":"400","banked_at_start":"{banked_at_start}","used":"0","used_banked":"0","remaining":"0","overage":"0","granted_total":"0","burned_total":"0","expired_total":"0","grants":[{}]}}"#,
        grants.join(",")
    )
}

fn entitlement(credential: &str, cap: &str) -> String {
    format!(r#"{{"credential":"{credential}","owner":"team@example.com","updated_at":"2026-01-01T00:00:00Z","credits":{{"monthly":"100","bank_months":3,"bank_cap":"{cap}"}}}}"#)
}

fn review(records: &[(Kind, String)]) -> Review {
    let mut r = Review::new(None, Keep { findings: 10, windows: 5 });
    for (kind, line) in records {
        r.add(*kind, line.as_bytes());
    }
    r
}

const APRIL: i64 = 1_775_001_600_000; // 2026-04-01T00:00:00Z

#[test]
fn a_dormant_key_with_a_month_of_credit_banked_is_flagged_and_one_used_since_is_not() {
    let mut records = vec![(Kind::Entitlements, entitlement("k", "1000"))];
    records.push((Kind::Windows, window("k", "2026-01-05T10:00:00.000Z", "2026-01-05T11:00:00.000Z", 3, "1.5")));
    records.push((Kind::Findings, finding("k", "dormant.idle", APRIL, 1)));
    records.push((Kind::Balances, balance("k", "200", &[("2026-02", "100"), ("2026-03", "100"), ("2026-04", "100")])));
    let r = review(&records);
    assert_eq!(r.keys["k"].reasons(), vec![Reason::DormantWithBank]);
    records.push((Kind::Windows, window("k", "2026-04-02T10:00:00.000Z", "2026-04-02T11:00:00.000Z", 1, "0.5")));
    assert!(review(&records).keys["k"].reasons().is_empty(), "used again after the idle finding");
}

#[test]
fn carryover_at_ninety_percent_of_the_cap_is_near_it() {
    let at = |banked: &str| review(&[(Kind::Entitlements, entitlement("k", "300")), (Kind::Balances, balance("k", banked, &[("2026-04", "100")]))]).keys["k"].reasons();
    assert_eq!(at("270"), vec![Reason::NearBankCap]);
    assert!(at("269.999999").is_empty());
}

#[test]
fn keys_rank_by_their_most_urgent_reason_then_severity_and_rules_it_does_not_know_count() {
    let r = review(&[
        (Kind::Findings, finding("net", "scope.network", APRIL, 5)),
        (Kind::Findings, finding("shared", "credential.shared", APRIL, 3)),
        (Kind::Findings, finding("revoked", "credential.revoked", APRIL, 4)),
        (Kind::Findings, finding("exposed", "credential.exposed", APRIL, 2)),
        (Kind::Findings, finding("burst", "burst", APRIL, 5)),
        (Kind::Findings, finding("drift", "scope.drift", APRIL, 2)),
    ]);
    let order: Vec<&str> = r.look_first().iter().map(|(k, _)| k.credential.as_str()).collect();
    assert_eq!(order, ["exposed", "revoked", "shared", "net", "drift"]);
    assert_eq!(r.keys["net"].owner(), "owner-from-finding", "no entitlement: the owner the findings name");
}

#[test]
fn usage_per_day_counts_one_window_size_and_the_latest_balance_wins() {
    let hour = window("k", "2026-01-05T10:00:00.000Z", "2026-01-05T11:00:00.000Z", 3, "1.5");
    let day = window("k", "2026-01-05T00:00:00.000Z", "2026-01-06T00:00:00.000Z", 3, "1.5").replace("\"1h\"", "\"1d\"");
    let r = review(&[(Kind::Windows, hour), (Kind::Windows, day), (Kind::Balances, balance("k", "0", &[("2026-03", "40"), ("2026-04", "100")]))]);
    assert_eq!(r.usage_per_day.values().copied().collect::<Vec<_>>(), vec![(3, 1_500_000)], "the 1d window repeats the 1h ones");
    let b = r.keys["k"].balance.as_ref().unwrap();
    assert_eq!((b.this_month(), b.banked()), (100_000_000, 40_000_000));
}

#[test]
fn a_tombstone_forgets_the_versions_before_it_and_a_raw_secret_id_is_redacted() {
    let secret = format!("sk-live-{}", "Zq8rT2vX9kLm4Np7Qs1Wd6Yh3Jb5Fc0G");
    let r = review(&[
        (Kind::Entitlements, entitlement("k", "1")),
        (Kind::Entitlements, r#"{"credential":"k","tombstone":true}"#.to_string()),
        (Kind::Entitlements, entitlement(&secret, "1")),
    ]);
    assert!(r.keys["k"].versions.is_empty());
    assert!(!r.keys.keys().any(|k| k.contains("Zq8rT2vX9kLm4")), "{:?}", r.keys.keys().collect::<Vec<_>>());
}
