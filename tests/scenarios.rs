//! Scenario tests: each directory under tests/scenarios/ holds input data and
//! the outputs bursar's specification requires, derived by hand (see each scenario's README.md):
//! `usage.jsonl`, optional `entitlements.jsonl` and `config.toml`, and
//! `expected.jsonl` with one expected output per line:
//! `{"partitions": N}` (optional, first), `{"ignore": ["windows", ...]}`,
//! `{"finding": {rule, credential, time, dedupe_key, severity, figures?}}`,
//! `{"window": {...}}`, `{"balance": {...}}`, `{"rejected": {line, kind, ...}}`,
//! `{"skipped_entitlements": [line, ...]}` (entitlement lines refused; none by default)
//! and `{"metric": "<a line of the Prometheus text>"}` (the replay's engine
//! counters rendered as on `/metrics`). A finding's `status_id` and
//! `suppressed` (the reason) are compared only where the expectation names them.
//! Each stream is compared in order. `SCENARIO=name` runs one.

use std::collections::BTreeSet;
use std::path::Path;

use bursar::config::Config;
use bursar::emit;
use bursar::model::time::format_rfc3339;
use bursar::runtime::replay::{replay_text, ReplayOutputs};
use serde_json::{json, Value};

const STREAMS: [&str; 4] = ["findings", "windows", "balances", "rejected"];

struct Expected {
    partitions: i32,
    ignore: BTreeSet<String>,
    streams: [Vec<Value>; 4],
    skipped_entitlements: Vec<u64>,
    metrics: Vec<String>,
}

fn parse_expected(text: &str) -> Result<Expected, String> {
    let mut e = Expected { partitions: 1, ignore: BTreeSet::new(), streams: Default::default(), skipped_entitlements: Vec::new(), metrics: Vec::new() };
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|err| format!("expected.jsonl:{}: {err}", i + 1))?;
        let obj = v.as_object().ok_or_else(|| format!("expected.jsonl:{}: not an object", i + 1))?;
        let (k, inner) = obj.iter().next().ok_or_else(|| format!("expected.jsonl:{}: empty", i + 1))?;
        match k.as_str() {
            "partitions" => e.partitions = inner.as_i64().unwrap_or(1) as i32,
            "ignore" => e.ignore.extend(inner.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(String::from))),
            "#" => {}
            "skipped_entitlements" => e.skipped_entitlements.extend(inner.as_array().into_iter().flatten().filter_map(Value::as_u64)),
            "finding" => e.streams[0].push(inner.clone()),
            "window" => e.streams[1].push(inner.clone()),
            "balance" => e.streams[2].push(inner.clone()),
            "rejected" => e.streams[3].push(inner.clone()),
            "metric" => e.metrics.push(inner.as_str().unwrap_or_default().to_string()),
            other => return Err(format!("expected.jsonl:{}: unknown entry {other}", i + 1)),
        }
    }
    Ok(e)
}

/// The actual outputs in the expected form; a finding's figures and a
/// rejection's optional fields are kept only where the expectation names them.
fn project(out: &ReplayOutputs, expected: &Expected) -> [Vec<Value>; 4] {
    let findings = out
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut v = json!({"rule": f.rule.as_str(), "credential": f.credential, "time": format_rfc3339(f.time), "dedupe_key": f.dedupe_key(), "severity": f.severity});
            let want = expected.streams[0].get(i);
            if want.and_then(|w| w.get("status_id")).is_some() {
                v["status_id"] = json!(if f.suppressed.is_some() { 3 } else { 1 });
            }
            if want.and_then(|w| w.get("suppressed")).is_some() {
                v["suppressed"] = f.suppressed.as_ref().map_or(Value::Null, |s| json!(&*s.reason));
            }
            if let Some(want) = want.and_then(|w| w.get("figures")).and_then(Value::as_object) {
                let have = f.figures.to_map();
                let figures: serde_json::Map<String, Value> = want.keys().map(|k| (k.clone(), have.get(k).cloned().unwrap_or(Value::Null))).collect();
                v["figures"] = Value::Object(figures);
            }
            v
        })
        .collect();
    let windows = out.windows.iter().map(|w| serde_json::from_str(&emit::window_json(w)).unwrap()).collect();
    let balances = out.balances.iter().map(|b| serde_json::from_str(&emit::balance_json(b)).unwrap()).collect();
    let rejected = out
        .rejected
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut v = json!({"line": r.line, "kind": r.kind.as_str()});
            let want = expected.streams[3].get(i);
            if want.and_then(|w| w.get("partition")).is_some() {
                v["partition"] = json!(r.partition);
            }
            if want.and_then(|w| w.get("offset")).is_some() {
                v["offset"] = json!(r.offset);
            }
            v
        })
        .collect();
    [findings, windows, balances, rejected]
}

fn run(dir: &Path) -> Result<(), String> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let config = Config::parse(&read("config.toml")).map_err(|e| format!("config.toml: {e}"))?;
    let engine = config.engine().map_err(|e| e.to_string())?;
    let expected = parse_expected(&read("expected.jsonl"))?;
    let out = replay_text(&engine, expected.partitions, &read("entitlements.jsonl"), &read("usage.jsonl"));
    let skipped: Vec<u64> = out.entitlement_errors.iter().map(|(line, _)| *line).collect();
    if skipped != expected.skipped_entitlements {
        return Err(format!("entitlement lines skipped: expected {:?}, got {:?}", expected.skipped_entitlements, out.entitlement_errors));
    }
    let actual = project(&out, &expected);
    let mut problems = Vec::new();
    for (s, name) in STREAMS.iter().enumerate() {
        if expected.ignore.contains(*name) {
            continue;
        }
        let (want, got) = (&expected.streams[s], &actual[s]);
        if want != got {
            let i = want.iter().zip(got).position(|(a, b)| a != b).unwrap_or(want.len().min(got.len()));
            problems.push(format!(
                "{name}: expected {} records, got {}; first difference at #{i}:\n    expected {}\n    got      {}",
                want.len(),
                got.len(),
                want.get(i).map_or("(none)".into(), Value::to_string),
                got.get(i).map_or("(none)".into(), Value::to_string)
            ));
        }
    }
    if !expected.metrics.is_empty() {
        let text = metrics_text(&engine, expected.partitions, &read("entitlements.jsonl"), &read("usage.jsonl"));
        for want in &expected.metrics {
            if !text.lines().any(|l| l == want) {
                problems.push(format!("metrics: no line {want}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

/// The engine counters of the same replay, rendered as on `/metrics`.
fn metrics_text(config: &bursar::config::EngineConfig, partitions: i32, entitlements: &str, usage: &str) -> String {
    let mut engine = bursar::engine::Engine::new(config.clone());
    bursar::runtime::replay::load_entitlements(&mut engine, entitlements);
    let how = bursar::pipeline::FileReplay { partitions, threads: 1 };
    let summary = bursar::pipeline::replay_file(engine, how, usage.as_bytes(), &mut bursar::sink::Sinks::new(), |_| {}).expect("reading from memory cannot fail");
    let metrics = bursar::telemetry::Metrics::new();
    metrics.observe_engine(&summary.stats, 0);
    metrics.render()
}

#[test]
fn every_scenario_matches_its_expected_outputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let only = std::env::var("SCENARIO").ok();
    let mut dirs: Vec<_> = std::fs::read_dir(&root).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if only.as_ref().is_some_and(|o| *o != name) {
            continue;
        }
        ran += 1;
        if let Err(e) = run(&dir) {
            failures.push(format!("{name}:\n  {e}"));
        }
    }
    assert!(ran > 0, "no scenario ran");
    assert!(failures.is_empty(), "{} of {ran} scenarios failed:\n{}", failures.len(), failures.join("\n"));
    eprintln!("{ran} scenarios passed");
}
