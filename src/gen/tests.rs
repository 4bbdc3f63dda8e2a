use super::*;
use crate::model::credits;
use crate::model::time::parse_rfc3339_any;
use serde_json::Value;

fn small(seed: u64) -> GenSpec {
    GenSpec { seed, events: 20_000, credentials: 200, ..GenSpec::default() }
}

fn event_time(v: &Value) -> Option<i64> {
    parse_rfc3339_any(v.get("time")?.as_str()?).ok()
}

#[test]
fn the_same_seed_yields_identical_output() {
    let spec = small(7);
    assert_eq!(entitlements(&spec), entitlements(&spec));
    assert!(usage(&spec).eq(usage(&spec)));
}

#[test]
fn different_seeds_yield_different_output() {
    assert_ne!(entitlements(&small(1)), entitlements(&small(2)));
    let a: Vec<String> = usage(&small(1)).take(100).collect();
    let b: Vec<String> = usage(&small(2)).take(100).collect();
    assert_ne!(a, b);
}

#[test]
fn usage_yields_exactly_the_requested_number_of_lines() {
    let spec = small(3);
    assert_eq!(usage(&spec).count() as u64, spec.events);
    assert_eq!(usage(&spec).size_hint(), (20_000, Some(20_000)));
}

#[test]
fn without_bad_lines_every_line_is_a_valid_usage_object() {
    let spec = GenSpec { bad_lines: false, ..small(11) };
    let mut cloudevents = 0;
    for line in usage(&spec) {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let fields = if v.get("specversion").is_some() {
            cloudevents += 1;
            assert!(v["subject"].is_string() && v["source"].is_string(), "{line}");
            &v["data"]
        } else {
            assert!(v["id"].as_str().is_some_and(|s| !s.is_empty()), "{line}");
            assert!(v["credential"].is_string(), "{line}");
            &v
        };
        assert!(event_time(&v).is_some(), "{line}");
        assert!(fields["capability"].as_str().is_some_and(|s| !s.is_empty()), "{line}");
        let micros = match &fields["credits"] {
            Value::String(s) => credits::parse_decimal_string(s),
            Value::Number(n) => credits::parse_json_number(&n.to_string()),
            other => panic!("credits {other}: {line}"),
        };
        assert!(micros.is_ok_and(|m| m >= 0), "{line}");
        assert!(line.len() < 2_000, "{line}");
    }
    assert!(cloudevents > 100, "{cloudevents} CloudEvents");
}

#[test]
fn bad_lines_are_few_and_include_every_rejection_shape() {
    let spec = GenSpec { events: 200_000, ..small(5) };
    let (mut not_json, mut not_object, mut too_large, mut bad_envelope) = (0, 0, 0, 0);
    for line in usage(&spec) {
        if line.len() > 65_536 {
            too_large += 1;
        }
        match serde_json::from_str::<Value>(&line) {
            Err(_) => not_json += 1,
            Ok(Value::Object(m)) => {
                if m.get("specversion").is_some_and(|v| v != "1.0") || (m.contains_key("specversion") && !m.contains_key("source")) {
                    bad_envelope += 1;
                }
            }
            Ok(_) => not_object += 1,
        }
    }
    assert!(not_json > 10 && not_json < 400, "{not_json}");
    assert!(not_object > 0 && too_large > 0 && bad_envelope > 0, "{not_object} {too_large} {bad_envelope}");
}

#[test]
fn event_time_rises_with_only_bounded_disorder() {
    let spec = GenSpec { bad_lines: false, ..small(9) };
    let (mut max, mut late, mut first, mut last) = (i64::MIN, 0, None, 0);
    let mut seen = std::collections::HashSet::new();
    for line in usage(&spec) {
        if !seen.insert(line.clone()) {
            continue; // a re-sent duplicate keeps its original event time
        }
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let Some(t) = event_time(&v) else { continue };
        first.get_or_insert(t);
        last = t;
        if t < max.saturating_sub(30_000) {
            late += 1;
            assert!(t >= max - 45 * 60_000, "{line}");
        }
        max = max.max(t);
    }
    assert!(late > 0 && late < 100, "{late} late");
    let span = last - first.unwrap_or(0);
    assert!(span > 110 * 86_400_000 && span <= 120 * 86_400_000, "{span}");
}

#[test]
fn entitlements_cover_versions_statuses_tombstones_and_unmanaged_keys() {
    let spec = small(4);
    let lines = entitlements(&spec);
    let mut managed = std::collections::BTreeSet::new();
    let joined = lines.join("\n");
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        managed.insert(v["credential"].as_str().unwrap_or_default().to_string());
        if v.get("tombstone").is_none() {
            assert!(v["owner"].is_string() && v["updated_at"].is_string(), "{line}");
        }
    }
    assert!(lines.len() > managed.len(), "some credentials have several versions");
    assert!((managed.len() as u64) < spec.credentials, "some credentials are unmanaged");
    for needle in ["\"revoked\"", "\"suspended\"", "\"tombstone\":true", "valid_until", "bank_cap", "\"bank_months\":3", "\"tokens\"", "\"5m\"", "\"1h\"", "\"30d\"", "*\""] {
        assert!(joined.contains(needle), "no {needle}");
    }
}

#[test]
fn raw_secrets_appear_only_in_usage_of_exposed_credentials() {
    let spec = small(8);
    let ents = entitlements(&spec).join("\n");
    assert!(!ents.contains("sk-") && !ents.contains("AKIA") && !ents.contains("ghp_"));
    let exposed = usage(&spec).filter(|l| l.contains("\"credential\":\"sk-") || l.contains("\"credential\":\"AKIA") || l.contains("\"credential\":\"ghp_")).count();
    assert!(exposed > 0);
}

#[test]
fn generation_is_fast() {
    let spec = GenSpec { events: 200_000, credentials: 20_000, ..GenSpec::default() };
    let start = std::time::Instant::now();
    let bytes: usize = usage(&spec).map(|l| l.len()).sum();
    let secs = start.elapsed().as_secs_f64();
    assert!(bytes > 0);
    // Generous: debug builds are far slower than release.
    assert!(secs < 20.0, "{secs}s");
}


#[test]
fn every_entitlement_line_decodes() {
    let spec = GenSpec { credentials: 2_000, ..small(12) };
    let text = entitlements(&spec).join("\n");
    let (records, skipped) = crate::decode::entitlement::read_entitlements(&text);
    assert!(skipped.is_empty(), "{:?}", skipped.first());
    assert!(records.len() > 1_500);
}

#[test]
fn the_decoder_accepts_clean_lines_and_rejects_each_bad_kind() {
    use crate::engine::output::RejectKind;
    let spec = GenSpec { events: 100_000, ..small(13) };
    let mut kinds = std::collections::BTreeMap::new();
    let mut exposed = 0;
    for line in usage(&spec) {
        match crate::decode::decode_usage(line.as_bytes(), &[], 65_536) {
            Ok(e) => exposed += usize::from(e.exposed),
            Err(r) => *kinds.entry(r.kind).or_insert(0usize) += 1,
        }
    }
    for kind in RejectKind::ALL {
        assert!(kinds.get(&kind).is_some_and(|&n| n > 0), "no {kind:?} in {kinds:?}");
    }
    let rejected: usize = kinds.values().sum();
    assert!(rejected < 200, "{kinds:?}");
    assert!(exposed > 0);
    let clean = GenSpec { bad_lines: false, ..spec };
    for line in usage(&clean) {
        assert!(crate::decode::decode_usage(line.as_bytes(), &[], 65_536).is_ok(), "{line}");
    }
}

#[test]
fn a_generated_workload_fires_every_rule_and_every_rejection_kind() {
    use crate::engine::output::{RejectKind, Rule};
    let spec = GenSpec { events: 60_000, credentials: 300, ..small(21) };
    let ents = entitlements(&spec).join("\n");
    let usage: String = usage(&spec).map(|l| l + "\n").collect();
    let out = crate::runtime::replay::replay_text(&crate::config::EngineConfig::default(), 1, &ents, &usage);
    let fired: std::collections::BTreeSet<Rule> = out.findings.iter().map(|f| f.rule).collect();
    let missing: Vec<&str> = Rule::ALL.iter().filter(|r| !fired.contains(r)).map(|r| r.as_str()).collect();
    assert!(missing.is_empty(), "never fired: {missing:?}");
    let kinds: std::collections::BTreeSet<RejectKind> = out.rejected.iter().map(|r| r.kind).collect();
    assert_eq!(kinds.len(), RejectKind::ALL.len(), "{kinds:?}");
    assert!(out.entitlement_errors.is_empty());
}

/// sha256 of the lines of `lines`, each followed by a newline (as `bursar gen` writes them).
fn sha256_of_lines(lines: impl Iterator<Item = String>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for line in lines {
        h.update(line.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_sparse_shape_is_byte_identical_to_its_pinned_digests() {
    // Digests of `bursar gen` output: the first two taken when the principal,
    // network and shared-key kinds were added (the anomaly casting changed
    // then), the third (no anomalies) unchanged since cf4d331, before
    // `--shape dense` was added.
    let cases = [
        (
            GenSpec { seed: 3, events: 5_000, credentials: 100, ..GenSpec::default() },
            "ca7fc5f6f941f8618228156a0223adbfd77a0c12f90a5898a49ade7f42962d73",
            "aae249decdc3d562da42b74e6cbf5c91ea80831b12a84ae75882e78c9fcc4f47",
        ),
        (
            GenSpec { seed: 7, events: 3_000, credentials: 50, days: 10, ..GenSpec::default() },
            "60434018677c64d877a9003fe1405de160412de19cbe9eb5c97ff3c327f34c89",
            "83667e29fdf4a59717c8f737ee22b1346fc062b7136ed9c6e3d256254dae8030",
        ),
        (
            GenSpec { seed: 1, events: 2_000, credentials: 40, anomalies: false, bad_lines: false, ..GenSpec::default() },
            "51dbd7d99c257b996368a3f9d9eb6ff1f11bb4e93d552440347b3848e5dc9cd0",
            "0996742bcc8eb48425209512e8b51947023e59f2d73e800ee9d23ac3576dea87",
        ),
    ];
    for (spec, ents, use_) in cases {
        assert_eq!(sha256_of_lines(entitlements(&spec).into_iter()), ents, "{spec:?}");
        assert_eq!(sha256_of_lines(usage(&spec)), use_, "{spec:?}");
    }
}

fn dense(seed: u64, events: u64) -> GenSpec {
    GenSpec { seed, events, credentials: 500, shape: Shape::Dense, ..GenSpec::default() }
}

/// The credential of a usage line (native or CloudEvent), if it parses.
fn credential_of(line: &str) -> Option<String> {
    let v: Value = serde_json::from_str(line).ok()?;
    let c = v.get("credential").or_else(|| v.get("subject"))?;
    Some(c.as_str()?.to_string())
}

#[test]
fn the_dense_shape_with_the_same_seed_yields_identical_bytes() {
    let spec = dense(7, 20_000);
    assert_eq!(entitlements(&spec), entitlements(&spec));
    assert!(usage(&spec).eq(usage(&spec)));
    assert_eq!(usage(&spec).count() as u64, spec.events);
    assert_ne!(entitlements(&spec), entitlements(&dense(8, 20_000)));
    assert!(!usage(&spec).take(100).eq(usage(&dense(8, 20_000)).take(100)));
}

#[test]
fn dense_call_rates_are_skewed_a_few_keys_carry_a_large_share() {
    let spec = dense(3, 200_000);
    let mut calls = std::collections::HashMap::new();
    for line in usage(&spec) {
        if let Some(c) = credential_of(&line) {
            *calls.entry(c).or_insert(0u64) += 1;
        }
    }
    let mut counts: Vec<u64> = calls.values().copied().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = counts.iter().sum();
    let top = counts.len().div_ceil(100);
    let top_share = counts[..top].iter().sum::<u64>() as f64 / total as f64;
    assert!(counts.len() > 450, "{} keys used", counts.len());
    // Uniform rates would give the top 1% of keys 1% of the calls.
    assert!(top_share > 0.15, "top 1% of keys carry {top_share:.3}");
    let minutes = f64::from(spec.hours) * 60.0;
    let median = counts[counts.len() / 2] as f64 / minutes;
    assert!(median < 10.0, "median key calls {median:.1} times a minute");
    // At 1M events the busiest key calls several times a second; at 200k, a fifth of that.
    assert!(counts[0] as f64 / (minutes * 60.0) > 1.0, "busiest key {} calls", counts[0]);
}

#[test]
fn the_dense_stream_is_json_lines_apart_from_the_injected_bad_lines() {
    use crate::engine::output::RejectKind;
    let spec = dense(5, 60_000);
    let mut kinds = std::collections::BTreeMap::new();
    let (mut cloudevents, mut seen, mut dups) = (0usize, std::collections::HashSet::new(), 0usize);
    for line in usage(&spec) {
        match crate::decode::decode_usage(line.as_bytes(), &[], 65_536) {
            Ok(_) => cloudevents += usize::from(line.starts_with("{\"specversion\"")),
            Err(r) => *kinds.entry(r.kind).or_insert(0usize) += 1,
        }
        if !seen.insert(line) {
            dups += 1;
        }
    }
    for kind in RejectKind::ALL {
        assert!(kinds.get(&kind).is_some_and(|&n| n > 0), "no {kind:?} in {kinds:?}");
    }
    let rejected: usize = kinds.values().sum();
    assert!(rejected < 150, "{kinds:?}");
    let share = cloudevents as f64 / spec.events as f64;
    assert!((0.08..0.12).contains(&share), "{share} CloudEvents");
    assert!(dups > 20 && dups < 300, "{dups} duplicates");
    let clean = GenSpec { bad_lines: false, ..spec };
    for line in usage(&clean) {
        assert!(serde_json::from_str::<Value>(&line).is_ok_and(|v| v.is_object()), "{line}");
        assert!(crate::decode::decode_usage(line.as_bytes(), &[], 65_536).is_ok(), "{line}");
    }
}

#[test]
fn dense_event_time_rises_over_the_hours_with_only_bounded_disorder() {
    let spec = GenSpec { bad_lines: false, ..dense(9, 100_000) };
    let (mut max, mut late, mut jittered, mut first, mut last) = (i64::MIN, 0, 0, None, 0);
    let mut seen = std::collections::HashSet::new();
    for line in usage(&spec) {
        if !seen.insert(line.clone()) {
            continue; // a re-sent duplicate keeps its original event time
        }
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let Some(t) = event_time(&v) else { continue };
        first.get_or_insert(t);
        last = t;
        if t < max.saturating_sub(30_000) {
            late += 1;
            assert!(t >= max - 11 * 60_000, "{line}");
        } else if t < max {
            jittered += 1;
        }
        max = max.max(t);
    }
    assert!(late > 20 && late < 300, "{late} late");
    assert!(jittered > 1_000, "{jittered} out of order");
    let span = last - first.unwrap_or(0);
    assert!(span > 5 * 3_600_000 && span <= 6 * 3_600_000, "{span}");
}

#[test]
fn dense_entitlements_are_mostly_managed_with_credits_burst_rules_and_scopes() {
    let spec = dense(4, 20_000);
    let lines = entitlements(&spec);
    let (records, skipped) = crate::decode::entitlement::read_entitlements(&lines.join("\n"));
    assert!(skipped.is_empty(), "{:?}", skipped.first());
    assert_eq!(records.len(), lines.len());
    let managed = lines.len() as u64;
    assert!(managed > spec.credentials * 9 / 10 && managed < spec.credentials, "{managed} managed");
    let count = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count() as u64;
    assert_eq!(count("\"monthly\""), managed);
    assert!(count("\"burst\"") > managed / 2);
    assert!(count("\"scope\"") > managed / 2);
}

#[test]
fn a_dense_workload_replays_with_busy_windows_bursts_and_every_rejection_kind() {
    use crate::engine::output::RejectKind;
    let spec = GenSpec { hours: 1, ..dense(21, 60_000) };
    let ents = entitlements(&spec).join("\n");
    let usage: String = usage(&spec).map(|l| l + "\n").collect();
    for partitions in [1, 4] {
        let out = crate::runtime::replay::replay_text(&crate::config::EngineConfig::default(), partitions, &ents, &usage);
        assert!(out.entitlement_errors.is_empty(), "{:?}", out.entitlement_errors.first());
        let fired: std::collections::BTreeSet<&str> = out.findings.iter().map(|f| f.rule.as_str()).collect();
        for name in ["burst", "credential.unmanaged", "scope.violation", "credits.overdraft"] {
            assert!(fired.contains(name), "no {name} in {fired:?}");
        }
        let kinds: std::collections::BTreeSet<RejectKind> = out.rejected.iter().map(|r| r.kind).collect();
        assert_eq!(kinds.len(), RejectKind::ALL.len(), "{kinds:?}");
        let busiest = out.windows.iter().filter(|w| w.size_ms == 60_000).map(|w| w.calls).max().unwrap_or(0);
        assert!(busiest >= 60, "busiest 1m window has {busiest} calls");
    }
}
