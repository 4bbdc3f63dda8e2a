//! Every record that crosses a topic has a JSON Schema (draft 2020-12) in
//! schemas/: every schema compiles, hand-built records of every kind and the
//! real engine outputs validate against their schema, the bundled examples
//! validate when they exist, and known-bad documents do not.

mod emit_fixtures;

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

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A bundled example, or None when it is not there (examples are optional here).
fn example(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))).ok()
}

/// The Kafka headers of a rejected record as the map rejected-headers.v1.json describes.
fn header_map(r: &bursar::engine::output::RejectedRecord) -> Value {
    let map: serde_json::Map<String, Value> =
        emit::rejected_headers(r, "ai.usage").into_iter().map(|(k, v)| (k, v.map_or(Value::Null, |v| Value::String(String::from_utf8_lossy(&v).into_owned())))).collect();
    Value::Object(map)
}

#[test]
fn every_schema_compiles_and_names_itself() {
    let dir = format!("{}/schemas", env!("CARGO_MANIFEST_DIR"));
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("schemas/") {
        let name = entry.expect("schema entry").file_name().into_string().expect("UTF-8 name");
        schema(&name);
        let doc = parse(&std::fs::read_to_string(format!("{dir}/{name}")).expect("schema text"));
        assert_eq!(doc["$schema"], "https://json-schema.org/draft/2020-12/schema", "{name}");
        assert_eq!(doc["$id"], format!("https://bursar.dev/schemas/{name}"), "{name}");
        names.push(name);
    }
    for want in ["usage-event", "usage-cloudevent", "entitlement", "finding", "window", "balance", "rejected", "rejected-headers"] {
        assert!(names.contains(&format!("{want}.v1.json")), "schemas/{want}.v1.json is missing");
    }
}

#[test]
fn hand_built_findings_of_every_rule_validate() {
    let v = schema("finding.v1.json");
    for f in emit_fixtures::all_findings() {
        let doc = parse(&emit::finding_json(&f));
        assert_valid(&v, &doc, f.rule.as_str());
        // What JSON Schema cannot relate: the rule and uid agree everywhere.
        assert_eq!(doc["finding_info"]["types"][0], f.rule.as_str());
        assert_eq!(doc["unmapped"]["bursar"]["rule"], f.rule.as_str());
        assert_eq!(doc["finding_info"]["analytic"]["uid"], format!("bursar.{}", f.rule.as_str()));
        assert_eq!(doc["metadata"]["uid"], doc["finding_info"]["uid"]);
    }
}

#[test]
fn hand_built_windows_balances_and_rejections_validate() {
    assert_valid(&schema("window.v1.json"), &parse(&emit::window_json(&emit_fixtures::window())), "window");
    assert_valid(&schema("balance.v1.json"), &parse(&emit::balance_json(&emit_fixtures::balance())), "balance");
    let (r, h) = (schema("rejected.v1.json"), schema("rejected-headers.v1.json"));
    for from_file in [true, false] {
        let rec = emit_fixtures::rejected(from_file);
        assert_valid(&r, &parse(&emit::rejected_json(&rec)), "rejected");
        assert_valid(&h, &header_map(&rec), "rejected headers");
    }
    // A Kafka record with a null value is rejected with a null value.
    let null_value = bursar::engine::output::RejectedRecord { value: None, ..emit_fixtures::rejected(false) };
    assert_valid(&r, &parse(&emit::rejected_json(&null_value)), "rejected with a null value");
}

#[test]
fn bundled_usage_lines_that_decode_validate_against_their_schema() {
    let Some(usage) = example("usage.jsonl") else { return };
    let native = schema("usage-event.v1.json");
    let cloud = schema("usage-cloudevent.v1.json");
    for line in usage.lines().filter(|l| !l.trim().is_empty()) {
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
    }
}

#[test]
fn bundled_entitlements_validate() {
    let Some(text) = example("entitlements.jsonl") else { return };
    let v = schema("entitlement.v1.json");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        assert_valid(&v, &parse(line), line);
    }
}

#[test]
fn real_engine_outputs_validate_against_their_schemas() {
    let (Some(ents), Some(usage)) = (example("entitlements.jsonl"), example("usage.jsonl")) else { return };
    let out = replay_text(&EngineConfig::default(), 1, &ents, &usage);
    assert!(!out.findings.is_empty() && !out.windows.is_empty() && !out.balances.is_empty() && !out.rejected.is_empty());
    let (f, w, b, r, h) = (schema("finding.v1.json"), schema("window.v1.json"), schema("balance.v1.json"), schema("rejected.v1.json"), schema("rejected-headers.v1.json"));
    for x in &out.findings {
        assert_valid(&f, &parse(&emit::finding_json(x)), "finding");
    }
    for x in &out.windows {
        assert_valid(&w, &parse(&emit::window_json(x)), "window");
    }
    for x in &out.balances {
        assert_valid(&b, &parse(&emit::balance_json(x)), "balance");
    }
    for x in &out.rejected {
        assert_valid(&r, &parse(&emit::rejected_json(x)), "rejected");
        assert_valid(&h, &header_map(x), "rejected headers");
    }
}

/// Asserts that each (pointer, value) patch of `good` makes it invalid.
fn assert_patches_refused(v: &jsonschema::Validator, good: &Value, patches: &[(&str, Value)]) {
    assert_valid(v, good, "the unpatched document");
    for (pointer, bad) in patches {
        let mut doc = good.clone();
        *doc.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer} in {good}")) = bad.clone();
        assert!(!v.is_valid(&doc), "{pointer} = {bad} was accepted");
    }
}

#[test]
fn known_bad_usage_events_and_entitlements_are_refused() {
    let usage = schema("usage-event.v1.json");
    let good = json!({"id": "e", "time": "2026-05-04T10:00:00Z", "credential": "k", "capability": "chat", "credits": "1.5", "tokens_in": 3, "extra": {"any": 1}});
    let long = |n: usize| Value::String("x".repeat(n));
    let patches = [
        ("/credits", json!(-1)),
        ("/credits", json!("1e3")),
        ("/credits", json!("-1")),
        ("/credits", json!(".5")),
        ("/time", json!("2026-05-04 10:00:00Z")),
        ("/time", json!("2026-05-04T10:00:00")),
        ("/id", json!("")),
        ("/id", long(129)),
        ("/credential", long(257)),
        ("/capability", long(65)),
        ("/tokens_in", json!(1.5)),
        ("/tokens_in", json!(-1)),
    ];
    assert_patches_refused(&usage, &good, &patches);
    let cloud = schema("usage-cloudevent.v1.json");
    let envelope = json!({"specversion": "1.0", "id": "e", "source": "gw", "type": "ai.usage", "subject": "k", "time": "2026-05-04T10:00:00Z", "data": {"capability": "chat", "credits": 1}});
    assert_patches_refused(&cloud, &envelope, &[("/specversion", json!("0.3")), ("/data", json!("text")), ("/subject", json!(7)), ("/data/credits", json!(-2))]);
    let ent = schema("entitlement.v1.json");
    let version = json!({"credential": "k", "owner": "o", "updated_at": "2026-01-01T00:00:00Z", "status": "active",
        "credits": {"monthly": "1000", "bank_months": 3}, "burst": [{"window": "5m", "credits": "50"}], "dormancy": "90d"});
    let patches = [
        ("/status", json!("paused")),
        ("/owner", json!("")),
        ("/credits/monthly", json!("-1")),
        ("/credits/bank_months", json!(-1)),
        ("/burst/0", json!({"window": "5m"})),
        ("/burst/0", json!({"window": "5m", "calls": null})),
        ("/burst/0/window", json!("5 minutes")),
        ("/dormancy", json!("3 months")),
    ];
    assert_patches_refused(&ent, &version, &patches);
    assert!(ent.is_valid(&json!({"credential": "k", "tombstone": true})));
    assert!(!ent.is_valid(&json!({"credential": "k", "tombstone": false})));
    assert!(!ent.is_valid(&json!({"tombstone": true})));
}

#[test]
fn known_bad_outputs_are_refused() {
    let window = parse(&emit::window_json(&emit_fixtures::window()));
    let patches = [("/credits", json!("12.50")), ("/credits", json!(12.5)), ("/start", json!("2026-05-04T10:00:00Z")), ("/calls", json!(0)), ("/window", json!("1 minute"))];
    assert_patches_refused(&schema("window.v1.json"), &window, &patches);
    let balance = parse(&emit::balance_json(&emit_fixtures::balance()));
    let patches = [("/used", json!("1.50")), ("/used", json!("-1")), ("/month", json!("2026-13")), ("/grants/0/expires", json!("2026-07")), ("/remaining", json!("1e3"))];
    assert_patches_refused(&schema("balance.v1.json"), &balance, &patches);
    let rejected = parse(&emit::rejected_json(&emit_fixtures::rejected(true)));
    assert_patches_refused(&schema("rejected.v1.json"), &rejected, &[("/kind", json!("bad_luck")), ("/line", json!(0)), ("/value", json!(null))]);
    let headers = header_map(&emit_fixtures::rejected(false));
    let patches = [("/bursar.error.kind", json!("oops")), ("/bursar.source.offset", json!("-1")), ("/bursar.source.partition", json!("two"))];
    assert_patches_refused(&schema("rejected-headers.v1.json"), &headers, &patches);
    let finding = parse(&emit::finding_json(&emit_fixtures::finding(
        bursar::rules::Rule::Burst,
        Some(emit_fixtures::full_event("k")),
        Some("o@example.com"),
    )));
    let patches = [
        ("/class_uid", json!(2001)),
        ("/severity", json!("Low")),
        ("/metadata/version", json!("1.1.0")),
        ("/metadata/uid", json!("not-hex")),
        ("/finding_info/types/0", json!("made.up")),
        ("/observables/0/type_id", json!(20)),
        ("/evidences/0/actor/user/programmatic_credentials/0/type", json!("Password")),
        ("/unmapped/bursar/source/offset", json!("41")),
        ("/unmapped/bursar/exceeded", json!([])),
        ("/unmapped/bursar/sum_credits", json!(75.5)),
    ];
    assert_patches_refused(&schema("finding.v1.json"), &finding, &patches);
}

/// The finding schema's enums of rule names are exactly the table of rules,
/// and every per-rule `if … contains const` branch names a rule of the table.
#[test]
fn the_finding_schema_lists_exactly_the_rules_of_the_table() {
    use bursar::rules::RULES;
    let schema: Value = serde_json::from_str(&std::fs::read_to_string("schemas/finding.v1.json").unwrap()).unwrap();
    let table: std::collections::BTreeSet<&str> = RULES.iter().map(|r| r.name).collect();
    let enum_at = |ptr: &str| -> std::collections::BTreeSet<String> {
        schema.pointer(ptr).and_then(Value::as_array).unwrap_or_else(|| panic!("{ptr}")).iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    for ptr in ["/properties/finding_info/properties/types/items/enum", "/properties/finding_info/properties/analytic/properties/name/enum", "/properties/unmapped/properties/bursar/properties/rule/enum"] {
        let listed = enum_at(ptr);
        assert_eq!(listed.iter().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), table, "{ptr}");
    }
    let branches: std::collections::BTreeSet<String> = schema["allOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b.pointer("/if/properties/finding_info/properties/types/contains/const").and_then(Value::as_str).map(str::to_string))
        .collect();
    // A rule whose figures the schema does not constrain has no branch (credential.exposed).
    for rule in &branches {
        assert!(table.contains(rule.as_str()), "allOf branch for {rule}, not a rule of the table");
    }
}

#[test]
fn a_rejected_record_cut_to_fit_carries_headers_that_validate() {
    let h = schema("rejected-headers.v1.json");
    let mut r = emit_fixtures::rejected(false);
    r.value = Some(b"x".repeat(1_200_000));
    r.headers = vec![("big".into(), Some(b"y".repeat(2_000_000)))];
    let t = emit::rejected_cut::for_topic(&r, "ai.usage", emit::rejected_cut::DEFAULT_MAX_MESSAGE_BYTES);
    assert!(t.cut);
    let map: serde_json::Map<String, Value> = t.headers.into_iter().map(|(k, v)| (k, v.map_or(Value::Null, |v| Value::String(String::from_utf8_lossy(&v).into_owned())))).collect();
    assert_eq!(map["bursar.original.size"], "1200000");
    assert_eq!(map["bursar.original.headers"], "1");
    assert_valid(&h, &Value::Object(map), "cut rejected headers");
}
