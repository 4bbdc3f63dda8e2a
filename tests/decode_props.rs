//! Property tests of decoding and redaction: no input bytes make the decoders
//! panic, accepted events obey every limit of SPEC §1.1/§4.5, and no raw
//! secret survives redaction.

use bursar::decode::entitlement::{decode_entitlement_kafka, decode_entitlement_line};
use bursar::decode::partitioner::partition_for;
use bursar::decode::secrets::{is_raw_secret, is_raw_secret_bytes, redact_key, redact_value, redacted_id};
use bursar::decode::{decode_usage, key_hint};
use bursar::engine::output::RejectKind;
use bursar::model::time::{END_TIME_MS, MIN_TIME_MS};
use bursar::model::UsageEvent;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const MAX: usize = 65536;

fn valid_event() -> Value {
    json!({"id": "e1", "time": "2026-05-04T10:00:00Z", "credential": "key_7f3a", "capability": "chat",
           "model": "llama-3", "credits": "1.5", "tokens_in": 10, "tokens_out": 20,
           "principal": "svc-a", "source": "gw-1", "src_ip": "10.0.0.1"})
}

const FIELDS: [&str; 16] = [
    "id", "time", "credential", "capability", "model", "credits", "tokens_in", "tokens_out", "principal", "source", "src_ip",
    "specversion", "subject", "type", "data", "extra",
];

/// Checks every limit an accepted event must obey.
fn assert_within_limits(e: &UsageEvent) {
    let chars = |s: &str| s.chars().count();
    assert!((1..=128).contains(&chars(&e.id)), "id {:?}", e.id);
    assert!((1..=256).contains(&chars(&e.credential)), "credential length");
    assert!((1..=64).contains(&chars(&e.capability)), "capability {:?}", e.capability);
    if let Some(m) = &e.model {
        assert!((1..=128).contains(&chars(m)), "model {m:?}");
    }
    assert!(e.credits >= 0 && e.tokens_in >= 0 && e.tokens_out >= 0);
    assert!((MIN_TIME_MS..END_TIME_MS).contains(&e.time));
    assert!(!is_raw_secret(&e.credential), "a raw secret credential was accepted");
    if e.exposed {
        assert!(e.credential.starts_with("sha256:") && e.credential.len() == 23);
    }
}

/// Strings that hit the interesting cases: secrets, times, numbers, escapes, unicode.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_0-9]{0,10}",
        "(sk-|ghp_|AKIA|hf_|xoxb-)[A-Za-z0-9]{0,30}",
        "[A-Za-z0-9+/=_-]{38,60}",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?([Zz]|[+-][0-2][0-9]:[0-5][0-9])",
        "-?[0-9]{0,25}(\\.[0-9]{0,12})?",
        ".{0,140}",
        "é{120,135}",
        Just(String::new()),
    ]
}

/// Arbitrary JSON values, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(FIELDS.to_vec()).prop_map(String::from), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A valid event with some fields replaced or removed.
fn mutated_event() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(FIELDS.to_vec()), prop::option::of(json_value())), 0..5).prop_map(|edits| {
        let mut v = valid_event();
        let obj = v.as_object_mut().expect("object");
        for (field, value) in edits {
            match value {
                Some(value) => obj.insert(field.to_string(), value),
                None => obj.remove(field),
            };
        }
        v
    })
}

/// JSON-looking text: fragments of tokens glued together.
fn jsonish_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("null".to_string()),
        Just("NaN".to_string()),
        Just("-Infinity".to_string()),
        Just("\"\\ud800\"".to_string()),
        prop::sample::select(FIELDS.to_vec()).prop_map(|f| format!("\"{f}\"")),
        tricky_string().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        "-?[0-9]{1,22}(\\.[0-9]{1,10})?([eE][+-]?[0-9]{1,4})?",
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(bytes in prop::collection::vec(any::<u8>(), 0..300), max in 0usize..400) {
        let _ = decode_usage(&bytes, &[], max);
        let _ = decode_usage(&bytes, &[("ce_specversion", b"1.0"), ("ce_id", &bytes)], max);
        let _ = key_hint(&bytes);
        let _ = decode_entitlement_line(&bytes);
        let _ = decode_entitlement_kafka(Some(&bytes), Some(&bytes));
        let _ = partition_for(Some(&bytes), 7);
    }

    #[test]
    fn jsonish_text_never_panics_and_accepted_events_obey_the_limits(text in jsonish_text()) {
        if let Ok(e) = decode_usage(text.as_bytes(), &[], MAX) {
            assert_within_limits(&e);
        }
        let _ = key_hint(text.as_bytes());
        let _ = decode_entitlement_line(text.as_bytes());
    }

    #[test]
    fn mutated_events_are_accepted_only_within_the_limits(v in mutated_event()) {
        let text = v.to_string();
        match decode_usage(text.as_bytes(), &[], MAX) {
            Ok(e) => assert_within_limits(&e),
            Err(r) => prop_assert!(!r.reason.is_empty()),
        }
        let structured = json!({"specversion": "1.0", "id": "x", "source": "s", "type": "t",
                                "subject": v.get("credential").cloned().unwrap_or(Value::Null),
                                "time": v.get("time").cloned().unwrap_or(Value::Null), "data": v.clone()});
        if let Ok(e) = decode_usage(structured.to_string().as_bytes(), &[], MAX) {
            assert_within_limits(&e);
        }
        let headers: [(&str, &[u8]); 6] = [("ce_specversion", b"1.0"), ("ce_id", b"b"), ("ce_source", b"s"),
            ("ce_type", b"t"), ("ce_subject", b"sk-live-x"), ("ce_time", b"2026-05-04T10:00:00Z")];
        if let Ok(e) = decode_usage(text.as_bytes(), &headers, MAX) {
            assert_within_limits(&e);
            prop_assert!(e.exposed);
        }
    }

    #[test]
    fn byte_mutations_of_a_valid_event_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)) {
        let mut bytes = valid_event().to_string().into_bytes();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        if let Ok(e) = decode_usage(&bytes, &[], MAX) {
            assert_within_limits(&e);
        }
        let _ = key_hint(&bytes);
    }

    #[test]
    fn the_rejection_kind_order_puts_too_large_first(v in mutated_event(), extra in 1usize..50) {
        let text = v.to_string();
        let r = decode_usage(text.as_bytes(), &[], text.len().saturating_sub(extra));
        prop_assert_eq!(r.map_err(|r| r.kind), Err(RejectKind::TooLarge));
    }

    #[test]
    fn no_raw_secret_survives_value_redaction(
        parts in prop::collection::vec(tricky_string(), 0..8),
        seps in prop::collection::vec(prop::sample::select(vec![" ", "\"", ":", ",", ".", "\u{0}", "é", "\n"]), 0..8),
        key in tricky_string(),
        key_inside in any::<bool>(),
    ) {
        let mut value = String::new();
        for (i, p) in parts.iter().enumerate() {
            value.push_str(p);
            value.push_str(seps.get(i).copied().unwrap_or(" "));
        }
        if key_inside {
            value.push_str(&key);
        }
        let out = redact_value(value.as_bytes(), Some(key.as_bytes()));
        for run in out.split(|b| !(b.is_ascii_alphanumeric() || b"+/=_-".contains(b))) {
            prop_assert!(!is_raw_secret_bytes(run), "secret run survived: {:?}", String::from_utf8_lossy(run));
        }
        if is_raw_secret(&key) && !key.is_empty() {
            prop_assert!(!out.windows(key.len()).any(|w| w == key.as_bytes()), "raw key survived");
        }
        prop_assert!(!is_raw_secret_bytes(&redact_key(key.as_bytes())));
    }

    #[test]
    fn redacted_ids_are_never_raw_secrets(raw in ".{0,80}") {
        let id = redacted_id(&raw);
        prop_assert!(!is_raw_secret(&id));
        prop_assert_eq!(redact_value(id.as_bytes(), None), id.as_bytes());
    }
}

/// Throughput of `decode_usage` on typical lines; run with
/// `cargo test --release --test decode_props -- --ignored --nocapture`.
#[test]
#[ignore]
fn decode_throughput() {
    let lines: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                r#"{{"id":"evt-{i:08}","time":"2026-05-04T10:{:02}:{:02}.123Z","credential":"key_{:04x}","capability":"chat","model":"llama-3-70b","credits":"0.0{i:04}","tokens_in":{},"tokens_out":{},"principal":"spiffe://prod/ns/ml/sa/batch","source":"gw-eu-1","src_ip":"10.1.{}.{}"}}"#,
                i % 60, (i * 7) % 60, i % 500, i * 3, i * 5, i % 256, (i * 13) % 256
            )
        })
        .collect();
    let rounds = 1000;
    let start = std::time::Instant::now();
    let mut ok = 0usize;
    for _ in 0..rounds {
        for l in &lines {
            ok += decode_usage(l.as_bytes(), &[], MAX).is_ok() as usize;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(ok, lines.len() * rounds);
    println!("decode_usage: {:.0} lines/s", ok as f64 / secs);
    let start = std::time::Instant::now();
    let mut n = 0usize;
    for _ in 0..rounds {
        for l in &lines {
            n += serde_json::from_str::<Value>(l).is_ok() as usize;
        }
    }
    println!("serde_json::Value: {:.0} lines/s", n as f64 / start.elapsed().as_secs_f64());
    let start = std::time::Instant::now();
    let mut hints = 0usize;
    for _ in 0..rounds {
        for l in &lines {
            hints += key_hint(l.as_bytes()).is_some() as usize;
        }
    }
    assert_eq!(hints, lines.len() * rounds);
    println!("key_hint: {:.0} lines/s", hints as f64 / start.elapsed().as_secs_f64());
}
