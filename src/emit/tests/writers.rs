//! The buffer writers against the String functions, the previous
//! description code (`oracle`), chrono and an i128 reading of credits:
//! random records with hostile strings, extreme credits and the edges of
//! the accepted time range, parsed back with serde_json.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::Value;

use super::oracle;
use crate::rules::figures::{Dimension, Figures, Sum};
use crate::emit::{balance_json, encode, encode_into, finding_json, rejected_json, window_json};
use crate::emit::{write_balance, write_finding, write_rejected, write_window};
use crate::decode::RejectKind;
use crate::engine::output::{BalanceRecord, GrantView, Output, RejectedRecord, WindowRecord};
use crate::rules::Finding;
use crate::model::time::{END_TIME_MS, MIN_TIME_MS};
use crate::model::UsageEvent;

/// RFC 3339 with milliseconds and `Z`, by chrono.
fn chrono_time(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms).unwrap().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The decimal form of micro-credits, by i128 arithmetic and std formatting.
fn plain_credits(micros: i64) -> String {
    let v = micros as i128;
    let (int, frac) = (v.abs() / 1_000_000, v.abs() % 1_000_000);
    let sign = if v < 0 { "-" } else { "" };
    match frac {
        0 => format!("{sign}{int}"),
        _ => format!("{sign}{int}.{}", format!("{frac:06}").trim_end_matches('0')),
    }
}

fn month_text(month: i32) -> String {
    format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        1 => prop::char::range('0', '9'),
        1 => (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('x')),
        1 => prop::sample::select(vec!['"', '\\', '\u{7f}', 'é', '€', '😀', '\u{2028}', '_', '|', '@', ' ', '/', '\'']),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..24).prop_map(|c| c.into_iter().collect())
}

fn credits() -> impl Strategy<Value = i64> {
    prop_oneof![any::<i64>(), -3_000_000_000i64..3_000_000_000, -1_000i64..1_000, Just(i64::MIN), Just(i64::MAX), Just(0)]
}

/// Instants of the accepted range, with its edges and whole seconds (ms 0) and ms 999.
fn time() -> impl Strategy<Value = i64> {
    prop_oneof![
        MIN_TIME_MS..END_TIME_MS,
        prop::sample::select(vec![MIN_TIME_MS, MIN_TIME_MS + 999, END_TIME_MS - 1, END_TIME_MS - 1_000, 951_782_400_000, 4_107_542_399_999]),
        (MIN_TIME_MS / 1_000..END_TIME_MS / 1_000).prop_map(|s| s * 1_000),
        (MIN_TIME_MS / 1_000..END_TIME_MS / 1_000).prop_map(|s| s * 1_000 + 999),
    ]
}

fn month() -> impl Strategy<Value = i32> {
    2000 * 12..2201 * 12
}

fn window() -> impl Strategy<Value = WindowRecord> {
    let sizes = prop::sample::select(vec![0i64, 1, 1_500, 1_000, 60_000, 300_000, 3_600_000, 86_400_000, 90 * 86_400_000]);
    (text(), sizes, time(), time(), any::<u64>(), credits(), any::<i64>(), any::<i64>(), prop::collection::btree_map(text(), any::<u64>(), 0..4), any::<u64>()).prop_map(
        |(credential, size_ms, start, end, calls, credits, tokens_in, tokens_out, caps, distinct_models)| WindowRecord {
            credential: credential.into(),
            size_ms,
            start,
            end,
            calls,
            credits,
            tokens_in,
            tokens_out,
            capabilities: caps.into_iter().map(|(k, n)| (k.into(), n)).collect(),
            distinct_models,
        },
    )
}

fn grant() -> impl Strategy<Value = GrantView> {
    (month(), credits(), credits(), month()).prop_map(|(month, amount, remaining, expires)| GrantView { month, amount, remaining, expires })
}

fn balance() -> impl Strategy<Value = BalanceRecord> {
    (text(), time(), month(), prop::collection::vec(credits(), 9), prop::collection::vec(grant(), 0..3)).prop_map(|(credential, as_of, month, c, grants)| BalanceRecord {
        credential: credential.into(),
        as_of,
        month,
        available_at_start: c[0],
        banked_at_start: c[1],
        used: c[2],
        used_banked: c[3],
        remaining: c[4],
        overage: c[5],
        granted_total: c[6],
        burned_total: c[7],
        expired_total: c[8],
        grants: grants.into(),
    })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..48), text().prop_map(String::into_bytes)]
}

fn rejected() -> impl Strategy<Value = RejectedRecord> {
    (any::<i32>(), any::<i64>(), any::<Option<u64>>(), prop::sample::select(RejectKind::ALL.to_vec()), text(), prop::option::of(bytes()), prop::option::of(bytes())).prop_map(
        |(partition, offset, line, kind, reason, key, value)| RejectedRecord { partition, offset, line, kind, reason, key, value, headers: Vec::new() },
    )
}

fn sum() -> impl Strategy<Value = Option<Sum>> {
    prop::option::of((credits(), credits()).prop_map(|(sum, limit)| Sum { sum, limit }))
}

/// Figures of any rule, with text from input that may be empty or hostile.
fn figures() -> impl Strategy<Value = Figures> {
    let word = || prop::sample::select(vec!["revoked", "suspended", "not_yet_valid", "expired", "", "capability", "model"]);
    let month = || -1_000i32..5_000;
    prop_oneof![
        Just(Figures::CredentialExposed),
        (-10_000i32..100_000).prop_map(|day| Figures::CredentialUnmanaged { day }),
        (word(), word()).prop_map(|(reason, status)| Figures::CredentialRevoked { reason, status }),
        (text(), text(), -10_000i32..100_000, prop::collection::vec(prop::sample::select(vec!["capability", "model"]), 0..3))
            .prop_map(|(c, m, day, violated)| Figures::ScopeViolation { capability: c.into(), model: m.into(), day, violated }),
        (text(), -10_000i32..100_000, prop::collection::vec(text(), 0..3)).prop_map(|(p, day, allowed)| Figures::ScopePrincipal { principal: p.into(), day, allowed }),
        (text(), any::<bool>(), -10_000i32..100_000, prop::collection::vec(text(), 0..3))
            .prop_map(|(ip, address, day, allowed)| Figures::ScopeNetwork { src_ip: ip.into(), address, day, allowed }),
        (word(), text()).prop_map(|(dimension, v)| Figures::ScopeDrift { dimension, value: v.into() }),
        (prop::sample::select(vec!["principal", "source_ip"]), -10_000i32..100_000, 1i64..1 << 40, 0i64..1 << 40, prop::collection::vec(text(), 0..11))
            .prop_map(|(dimension, day, limit, count, v)| Figures::CredentialShared { dimension, day, limit, count, values: v.into_iter().map(Into::into).collect() }),
        (time(), 0i64..1 << 45, 0i64..1 << 40).prop_map(|(last_activity, gap_ms, dormancy_ms)| Figures::DormantReactivated { last_activity, gap_ms, dormancy_ms }),
        (any::<u32>(), 1i64..1 << 40, any::<i64>(), prop::collection::vec(prop::sample::select(Dimension::ALL.to_vec()), 0..4), sum(), sum(), sum()).prop_map(
            |(i, window_ms, slice, exceeded, credits, calls, tokens)| Figures::Burst { rule_index: i as u64, window_ms, slice, exceeded, credits, calls, tokens }
        ),
        (month(), credits(), credits(), credits()).prop_map(|(month, overage, used, available_at_start)| Figures::CreditsOverdraft { month, overage, used, available_at_start }),
        (month(), credits(), credits(), credits()).prop_map(|(month, threshold, used, available_at_start)| Figures::CreditsThreshold { month, threshold, used, available_at_start }),
        (month(), credits(), credits()).prop_map(|(month, used_banked, banked_at_start)| Figures::BankingDrawdown { month, used_banked, banked_at_start }),
        (month(), credits(), credits()).prop_map(|(month, banked, monthly)| Figures::BankingAccumulation { month, banked, monthly }),
        (time(), time(), 1i64..1 << 40).prop_map(|(last_activity, due, dormancy_ms)| Figures::DormantIdle { last_activity, due, dormancy_ms }),
    ]
}

fn event() -> impl Strategy<Value = UsageEvent> {
    (text(), time(), text(), text(), prop::option::of(text()), credits(), any::<i64>(), any::<i64>(), prop::option::of(text()), prop::option::of(text()), prop::option::of(text())).prop_map(
        |(id, time, credential, capability, model, credits, tokens_in, tokens_out, principal, source, src_ip)| UsageEvent {
            id: id.into(),
            time,
            credential: credential.into(),
            capability: capability.into(),
            model: model.map(Into::into),
            credits,
            tokens_in,
            tokens_out,
            principal: principal.map(Into::into),
            source: source.map(Into::into),
            src_ip: src_ip.map(Into::into),
            exposed: false,
        },
    )
}

fn finding() -> impl Strategy<Value = Finding> {
    (
        figures(),
        text(),
        prop::collection::vec(text(), 0..3),
        (time(), 1u8..=5),
        prop::option::of(text()),
        prop::option::of(event()),
        (text(), any::<i32>(), any::<Option<i64>>()),
    )
        .prop_map(|(figures, credential, dedupe, (time, severity), owner, evidence, (topic, partition, offset))| Finding {
            rule: figures.rule(),
            credential,
            dedupe,
            time,
            severity,
            owner,
            evidence,
            topic,
            partition,
            offset,
            figures,
            version: None,
            suppressed: None,
        })
}

/// `encode_into` appends to what the buffer holds, and appends what `encode` returns.
fn appended(output: &Output) -> Vec<u8> {
    let mut buf = b"prefix".to_vec();
    encode_into(output, &mut buf);
    assert_eq!(&buf[..6], b"prefix");
    assert_eq!(&buf[6..], encode(output).as_bytes());
    buf.split_off(6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn a_window_record_round_trips_through_serde_json(w in window()) {
        let mut buf = Vec::new();
        write_window(&w, &mut buf);
        prop_assert_eq!(buf, window_json(&w).into_bytes());
        let v: Value = serde_json::from_slice(&appended(&Output::Window(w.clone()))).unwrap();
        prop_assert_eq!(v["credential"].as_str(), Some(&*w.credential));
        let size = v["window"].as_str().unwrap();
        prop_assert_eq!(crate::model::time::parse_duration(size), Ok(w.size_ms));
        prop_assert_eq!(v["start"].as_str().unwrap(), chrono_time(w.start));
        prop_assert_eq!(v["end"].as_str().unwrap(), chrono_time(w.end));
        prop_assert_eq!(v["calls"].as_u64(), Some(w.calls));
        prop_assert_eq!(v["credits"].as_str().unwrap(), plain_credits(w.credits));
        prop_assert_eq!((v["tokens_in"].as_i64(), v["tokens_out"].as_i64()), (Some(w.tokens_in), Some(w.tokens_out)));
        let caps: Vec<(String, u64)> = v["capabilities"].as_object().unwrap().iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).collect();
        let want: Vec<(String, u64)> = w.capabilities.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        prop_assert_eq!(caps, want);
        prop_assert_eq!(v["distinct_models"].as_u64(), Some(w.distinct_models));
    }

    #[test]
    fn a_balance_record_round_trips_through_serde_json(b in balance()) {
        let mut buf = Vec::new();
        write_balance(&b, &mut buf);
        prop_assert_eq!(buf, balance_json(&b).into_bytes());
        let v: Value = serde_json::from_slice(&appended(&Output::Balance(b.clone()))).unwrap();
        prop_assert_eq!(v["credential"].as_str(), Some(&*b.credential));
        prop_assert_eq!(v["as_of"].as_str().unwrap(), chrono_time(b.as_of));
        prop_assert_eq!(v["month"].as_str().unwrap(), month_text(b.month));
        let amounts = [b.available_at_start, b.banked_at_start, b.used, b.used_banked, b.remaining, b.overage, b.granted_total, b.burned_total, b.expired_total];
        let names = ["available_at_start", "banked_at_start", "used", "used_banked", "remaining", "overage", "granted_total", "burned_total", "expired_total"];
        for (name, micros) in names.iter().zip(amounts) {
            prop_assert_eq!(v[name].as_str().unwrap(), plain_credits(micros), "{}", name);
        }
        let grants = v["grants"].as_array().unwrap();
        prop_assert_eq!(grants.len(), b.grants.len());
        for (g, want) in grants.iter().zip(&b.grants) {
            prop_assert_eq!(g["month"].as_str().unwrap(), month_text(want.month));
            prop_assert_eq!(g["amount"].as_str().unwrap(), plain_credits(want.amount));
            prop_assert_eq!(g["remaining"].as_str().unwrap(), plain_credits(want.remaining));
            prop_assert_eq!(g["expires"].as_str().unwrap(), format!("{}-01T00:00:00.000Z", month_text(want.expires)));
        }
    }

    #[test]
    fn a_rejected_record_round_trips_through_serde_json(r in rejected()) {
        let mut buf = Vec::new();
        write_rejected(&r, &mut buf);
        prop_assert_eq!(buf, rejected_json(&r).into_bytes());
        let v: Value = serde_json::from_slice(&appended(&Output::Rejected(r.clone()))).unwrap();
        prop_assert_eq!(v["partition"].as_i64(), Some(i64::from(r.partition)));
        prop_assert_eq!(v["offset"].as_i64(), Some(r.offset));
        prop_assert_eq!(v["line"].as_u64(), r.line);
        prop_assert_eq!(v["kind"].as_str(), Some(r.kind.as_str()));
        prop_assert_eq!(v["reason"].as_str(), Some(r.reason.as_str()));
        let lossy = |b: &Option<Vec<u8>>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        prop_assert_eq!(v["key"].as_str().map(str::to_string), lossy(&r.key));
        prop_assert_eq!(v["value"].as_str().map(str::to_string), lossy(&r.value));
    }

    #[test]
    fn a_finding_round_trips_and_says_what_the_string_code_said(f in finding()) {
        let mut buf = Vec::new();
        write_finding(&f, &mut buf);
        prop_assert_eq!(buf, finding_json(&f).into_bytes());
        let v: Value = serde_json::from_slice(&appended(&Output::Finding(Box::new(f.clone())))).unwrap();
        let uid = f.uid();
        prop_assert_eq!(v["metadata"]["uid"].as_str(), Some(uid.as_str()));
        prop_assert_eq!(v["finding_info"]["uid"].as_str(), Some(uid.as_str()));
        prop_assert_eq!(v["finding_info"]["desc"].as_str().unwrap(), oracle::description(&f));
        let want_attacks: Option<Value> = oracle::attacks(f.rule).map(|a| serde_json::from_str(&a).unwrap());
        prop_assert_eq!(v["finding_info"].get("attacks"), want_attacks.as_ref());
        prop_assert_eq!(f.rule.info().attacks.map(str::to_string), oracle::attacks(f.rule));
        let bursar = &v["unmapped"]["bursar"];
        prop_assert_eq!(bursar["credential"].as_str(), Some(f.credential.as_str()));
        prop_assert_eq!(bursar["dedupe_key"].as_str().unwrap(), f.dedupe.join("|"));
        let figures = f.figures.to_map();
        for (k, want) in &figures {
            prop_assert_eq!(&bursar[k], want);
        }
        // The members in the table's order: the sorted order of a serde_json map.
        let written: Vec<&str> = bursar.as_object().unwrap().keys().map(String::as_str).filter(|k| figures.contains_key(*k)).collect();
        prop_assert_eq!(written, figures.keys().map(String::as_str).collect::<Vec<_>>());
        prop_assert_eq!(&v["resources"][0]["owner"]["name"], &f.owner.as_ref().map_or(Value::Null, |o| Value::from(o.as_str())));
        if let Some(e) = &f.evidence {
            let data = &v["evidences"][0]["data"];
            prop_assert_eq!(data["time"].as_str().unwrap(), chrono_time(e.time));
            prop_assert_eq!(data["credits"].as_str().unwrap(), plain_credits(e.credits));
            prop_assert_eq!(data["event_id"].as_str(), Some(e.id.as_str()));
            prop_assert_eq!(v["evidences"][0]["api"]["operation"].as_str(), Some(e.capability.as_str()));
        }
    }
}

proptest! {
    /// The windows closing together reuse the text of their span: in any
    /// sequence of spans (repeated, alternating, pushed out, of years
    /// outside 0..=9999), each record reads as it does on a thread that
    /// wrote nothing before it.
    #[test]
    fn a_window_span_is_written_the_same_whatever_came_before(picks in prop::collection::vec(0usize..5, 1..40)) {
        const SPANS: [(i64, i64); 5] = [
            (1_777_888_800_000, 1_777_888_860_000),
            (1_777_888_800_000, 1_777_892_400_000),
            (1_777_888_860_000, 1_777_888_920_000),
            // The last minute of year -1 and the first of year 10000.
            (-62_167_219_260_000, -62_167_219_200_000),
            (253_402_300_800_000, 253_402_300_860_000),
        ];
        for pick in picks {
            let (start, end) = SPANS[pick];
            let w = WindowRecord { credential: "k".into(), size_ms: end - start, start, end, calls: 1, credits: 0, tokens_in: 0, tokens_out: 0, capabilities: smallvec::SmallVec::new(), distinct_models: 0 };
            let mut here = Vec::new();
            write_window(&w, &mut here);
            let fresh = std::thread::spawn(move || window_json(&w)).join().unwrap();
            prop_assert_eq!(String::from_utf8(here).unwrap(), fresh);
        }
    }
}

#[test]
fn the_documented_window_and_balance_shapes_come_out_of_the_buffer_writers() {
    let w = WindowRecord {
        credential: "k1".into(),
        size_ms: 60_000,
        start: 1_777_888_800_000,
        end: 1_777_888_860_000,
        calls: 3,
        credits: 12_500_000,
        tokens_in: 10,
        tokens_out: 20,
        capabilities: smallvec::smallvec![("chat".into(), 2), ("embeddings".into(), 1)],
        distinct_models: 2,
    };
    let mut buf = Vec::new();
    write_window(&w, &mut buf);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"credential":"k1","window":"1m","start":"2026-05-04T10:00:00.000Z","end":"2026-05-04T10:01:00.000Z","calls":3,"credits":"12.5","tokens_in":10,"tokens_out":20,"capabilities":{"chat":2,"embeddings":1},"distinct_models":2}"#
    );
    let b = BalanceRecord {
        credential: "k".into(),
        as_of: 1_777_888_800_123,
        month: 2026 * 12 + 4,
        available_at_start: 1_500_000_000,
        banked_at_start: 500_000_000,
        used: 2_500_000,
        used_banked: 0,
        remaining: 1_497_500_000,
        overage: 0,
        granted_total: 2_000_000_000,
        burned_total: 2_500_000,
        expired_total: 500_000_000,
        grants: smallvec::smallvec![GrantView { month: 2026 * 12 + 3, amount: 1_000_000_000, remaining: 497_500_000, expires: 2026 * 12 + 5 }],
    };
    buf.clear();
    write_balance(&b, &mut buf);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"credential":"k","as_of":"2026-05-04T10:00:00.123Z","month":"2026-05","available_at_start":"1500","banked_at_start":"500","used":"2.5","used_banked":"0","remaining":"1497.5","overage":"0","granted_total":"2000","burned_total":"2.5","expired_total":"500","grants":[{"month":"2026-04","amount":"1000","remaining":"497.5","expires":"2026-06-01T00:00:00.000Z"}]}"#
    );
}

#[test]
fn times_outside_the_four_digit_years_keep_their_general_form() {
    use crate::model::time::{format_rfc3339, push_rfc3339};
    for ms in [-62_167_219_200_001i64, 253_402_300_800_000, 0, -1] {
        let mut buf = Vec::new();
        push_rfc3339(&mut buf, ms);
        assert_eq!(std::str::from_utf8(&buf).unwrap(), format_rfc3339(ms));
    }
    assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    assert_eq!(format_rfc3339(253_402_300_800_000), "10000-01-01T00:00:00.000Z");
}
