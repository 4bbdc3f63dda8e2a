//! Every record that crosses a topic has a JSON Schema (draft 2020-12) in
//! schemas/: the bundled examples and real engine outputs validate against
//! them, and known-bad documents do not.

use bursar::config::EngineConfig;
use bursar::emit;
use bursar::runtime::replay::replay_text;
use serde_json::{json, Value};

fn schema(name: &str) -> jsonschema::Validator {
    let path = format!("{}/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    jsonschema::draft202012::new(&value).unwrap_or_else(|e| panic!("{path} does not compile: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v.iter_errors(doc).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{what} is invalid: {errors:?}\n{doc}");
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("bundled example")
}

#[test]
fn every_schema_compiles() {
    for entry in std::fs::read_dir(format!("{}/schemas", env!("CARGO_MANIFEST_DIR"))).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        schema(&name);
    }
}

#[test]
fn bundled_usage_lines_that_decode_validate_against_their_schema() {
    let native = schema("usage-event.v1.json");
    let cloud = schema("usage-cloudevent.v1.json");
    let mut checked = 0;
    for line in example("usage.jsonl").lines().filter(|l| !l.trim().is_empty()) {
        let decoded = bursar::decode::decode_usage(line.as_bytes(), &[], 65_536);
        let Ok(doc) = serde_json::from_str::<Value>(line) else {
            assert!(decoded.is_err());
            continue;
        };
        let v = if doc.get("specversion").is_some() { &cloud } else { &native };
        // Every line that decodes validates; every line the schema refuses is
        // rejected (calendar dates, time ranges and i64 credit limits are
        // beyond JSON Schema, so the decoder is the stricter of the two).
        if decoded.is_ok() || !v.is_valid(&doc) {
            assert_eq!(v.is_valid(&doc), decoded.is_ok(), "schema and decoder disagree on {line}");
        }
        checked += 1;
    }
    assert!(checked > 2000);
}

#[test]
fn bundled_entitlements_validate() {
    let v = schema("entitlement.v1.json");
    for line in example("entitlements.jsonl").lines().filter(|l| !l.trim().is_empty()) {
        assert_valid(&v, &serde_json::from_str(line).unwrap(), line);
    }
}

#[test]
fn real_engine_outputs_validate_against_their_schemas() {
    let out = replay_text(&EngineConfig::default(), 1, &example("entitlements.jsonl"), &example("usage.jsonl"));
    assert!(!out.findings.is_empty() && !out.windows.is_empty() && !out.balances.is_empty() && !out.rejected.is_empty());
    let (f, w, b, r) = (schema("finding.v1.json"), schema("window.v1.json"), schema("balance.v1.json"), schema("rejected.v1.json"));
    for x in &out.findings {
        assert_valid(&f, &serde_json::from_str(&emit::finding_json(x)).unwrap(), "finding");
    }
    for x in &out.windows {
        assert_valid(&w, &serde_json::from_str(&emit::window_json(x)).unwrap(), "window");
    }
    for x in &out.balances {
        assert_valid(&b, &serde_json::from_str(&emit::balance_json(x)).unwrap(), "balance");
    }
    let h = schema("rejected-headers.v1.json");
    for x in &out.rejected {
        assert_valid(&r, &serde_json::from_str(&emit::rejected_json(x)).unwrap(), "rejected");
        let headers: serde_json::Map<String, Value> = emit::rejected_headers(x, "ai.usage")
            .into_iter()
            .map(|(k, v)| (k, Value::String(String::from_utf8_lossy(&v).into_owned())))
            .collect();
        assert_valid(&h, &Value::Object(headers), "rejected headers");
    }
}

#[test]
fn known_bad_documents_are_refused() {
    let usage = schema("usage-event.v1.json");
    let good = json!({"id": "e", "time": "2026-05-04T10:00:00Z", "credential": "k", "capability": "chat", "credits": "1.5"});
    assert!(usage.is_valid(&good));
    for (field, bad) in [("credits", json!(-1)), ("credits", json!("1e3")), ("time", json!("2026-05-04 10:00:00Z")), ("id", json!("")), ("tokens_in", json!(1.5))] {
        let mut doc = good.clone();
        doc[field] = bad;
        assert!(!usage.is_valid(&doc), "{doc}");
    }
    let window = schema("window.v1.json");
    assert!(!window.is_valid(&json!({"credential": "k", "window": "1m"})));
    let balance = schema("balance.v1.json");
    assert!(!balance.is_valid(&json!({"credential": "k", "used": "1.50"})));
    let ent = schema("entitlement.v1.json");
    assert!(!ent.is_valid(&json!({"credential": "k", "owner": "o", "updated_at": "2026-01-01T00:00:00Z", "status": "paused"})));
    assert!(ent.is_valid(&json!({"credential": "k", "tombstone": true})));
}
