//! The bodies of bursar's fuzz targets, with the invariants they check
//! (README.md "Fuzzing"). `fuzz/` runs them under cargo-fuzz (libFuzzer) for
//! as long as one likes; `tests/fuzz_smoke.rs` runs them on stable Rust for a
//! fixed budget over the corpus in `fuzz/corpus/` and seeded mutations of it.
//! Each target panics (with what broke) on the first violated invariant:
//!
//! - a decoder accepts or rejects with a kind and a reason, and never panics;
//!   the one-pass fast path decodes exactly as the reference decoder;
//! - no raw secret (docs/semantics.md `credential.exposed`) is in an accepted
//!   event, a rejection reason or any JSON string of any output;
//! - every output encodes to valid JSON; a rejected record cut for its topic
//!   fits the limit.

use serde_json::Value;

use crate::config::EngineConfig;
use crate::decode::entitlement::{decode_entitlement_kafka, decode_entitlement_line};
use crate::decode::entitlement_keys::{unknown_keys, BURST, CREDITS, SCOPE, TOP_LEVEL};
use crate::decode::secrets::is_raw_secret;
use crate::decode::{decode_usage, decode_usage_keyed, decode_usage_reference, key_hint, key_hint_reference, Rejection};
use crate::emit;
use crate::engine::output::Output;
use crate::engine::Engine;
use crate::model::UsageEvent;
use crate::pipeline::{process_record, InputRecord};
use crate::runtime::replay::{load_entitlements, replay_text};

/// The value limit of the targets (small, so `too_large` is reached).
const MAX_VALUE_BYTES: usize = 4_096;

/// CloudEvents binary-mode headers, as a producer would send them.
const BINARY_HEADERS: [(&str, &[u8]); 6] = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"e1"),
    ("ce_source", b"gw"),
    ("ce_type", b"ai.usage"),
    ("ce_subject", b"key_a"),
    ("ce_time", b"2026-05-04T10:00:00Z"),
];

/// Target `usage_decoder`: one usage record value, natively, as a structured
/// and as a binary-mode CloudEvent.
pub fn usage_decoder(data: &[u8]) {
    let structured: [(&str, &[u8]); 1] = [("content-type", b"application/cloudevents+json")];
    for headers in [&[][..], &structured[..], &BINARY_HEADERS[..]] {
        let result = decode_usage(data, headers, MAX_VALUE_BYTES);
        let keyed = decode_usage_keyed(data, headers, MAX_VALUE_BYTES);
        assert_eq!(keyed.event, decode_usage_reference(data, headers, MAX_VALUE_BYTES), "the fast path decodes unlike the reference");
        assert_eq!(keyed.event, result, "decode_usage and decode_usage_keyed differ");
        match &result {
            Ok(event) => check_event(event),
            Err(rejection) => check_rejection(rejection),
        }
    }
    assert_eq!(key_hint(data), key_hint_reference(data), "the fast key hint differs from the reference");
}

/// Target `entitlement_decoder`: one entitlement line, and the same bytes as
/// a record of the entitlements topic (key and value); its unknown keys.
pub fn entitlement_decoder(data: &[u8]) {
    for result in [decode_entitlement_line(data), decode_entitlement_kafka(Some(b"key_a"), Some(data)), decode_entitlement_kafka(None, Some(data))] {
        if let Err(e) = result {
            assert!(!e.kind().is_empty() && !e.to_string().is_empty(), "an entitlement refused without a reason");
        }
    }
    let _ = decode_entitlement_kafka(Some(data), None);
    for k in unknown_keys(data) {
        let known = [TOP_LEVEL, SCOPE, CREDITS, BURST].iter().any(|list| list.contains(&k.nearest));
        assert!(known, "nearest key {} is not a known key", k.nearest);
        let shown = k.to_string();
        assert_eq!(crate::decode::secrets::redact_value(shown.as_bytes(), None), shown.as_bytes(), "an unknown key shows a raw secret: {shown}");
    }
}

/// Target `engine_path`: `data` is entitlement lines, a NUL byte, usage
/// lines. They go through the file replay (two partitions, end of input),
/// and as Kafka records (a record timestamp, `max_event_lead` on) through the
/// live path; every output is encoded and checked.
pub fn engine_path(data: &[u8]) {
    let (ents, usage) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let (ents, usage) = (String::from_utf8_lossy(ents), String::from_utf8_lossy(usage));
    let config = EngineConfig { max_value_bytes: MAX_VALUE_BYTES, max_event_lead_ms: Some(3_600_000), ..EngineConfig::default() };
    let replayed = replay_text(&config, 2, &ents, &usage);
    let texts = replayed
        .findings
        .iter()
        .map(emit::finding_json)
        .chain(replayed.windows.iter().map(emit::window_json))
        .chain(replayed.balances.iter().map(emit::balance_json))
        .chain(replayed.rejected.iter().map(emit::rejected_json));
    for text in texts {
        check_output_json(&text);
    }
    let mut engine = Engine::new(config);
    load_entitlements(&mut engine, ents.as_bytes());
    let mut out = Vec::new();
    for (i, line) in usage.as_bytes().split(|&b| b == b'\n').enumerate() {
        let key = key_hint(line);
        // Record timestamps around 2026-05-04: some events are far ahead of theirs.
        let timestamp = Some(1_777_888_800_000 + (i as i64 % 7) * 86_400_000);
        let record = InputRecord { partition: 0, offset: i as i64, line: None, key: key.as_deref().map(str::as_bytes), value: Some(line), headers: &[], timestamp };
        process_record(&mut engine, &record, &mut out);
    }
    engine.finish(&mut out);
    for o in &out {
        check_output_json(&emit::encode(o));
        if let Output::Rejected(r) = o {
            let t = emit::rejected_cut::for_topic(r, "ai.usage", emit::rejected_cut::MIN_MAX_MESSAGE_BYTES);
            assert!(emit::rejected_cut::record_size(t.key, t.value, &t.headers) + 61 <= emit::rejected_cut::MIN_MAX_MESSAGE_BYTES, "a cut record does not fit");
            if let Some(v) = t.value {
                assert_eq!(crate::decode::secrets::redact_value(v, None), v, "a cut value holds a raw secret");
            }
        }
    }
}

/// An accepted event: within the limits, no string field a raw secret.
fn check_event(e: &UsageEvent) {
    let fields = [Some(&e.id), Some(&e.credential), Some(&e.capability), e.model.as_ref(), e.principal.as_ref(), e.source.as_ref(), e.src_ip.as_ref()];
    for f in fields.into_iter().flatten() {
        assert!(!is_raw_secret(f), "an accepted event holds a raw secret in a field");
    }
    assert!(e.credits >= 0 && e.tokens_in >= 0 && e.tokens_out >= 0, "negative credits or tokens accepted");
}

/// A rejection: a reason, no raw secret in it.
fn check_rejection(r: &Rejection) {
    assert!(!r.reason.is_empty(), "a rejection without a reason ({})", r.kind.as_str());
    assert_eq!(crate::decode::secrets::redact_value(r.reason.as_bytes(), None), r.reason.as_bytes(), "a rejection reason quotes a raw secret: {}", r.reason);
}

/// One encoded output: valid JSON, no string in it a raw secret.
fn check_output_json(text: &str) {
    let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("an output is not JSON ({e}): {text}"));
    let mut stack = vec![&value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => assert!(!is_raw_secret(s), "an output holds a raw secret: {text}"),
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => {
                for (k, v) in members {
                    assert!(!is_raw_secret(k), "an output member name is a raw secret: {text}");
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
}
