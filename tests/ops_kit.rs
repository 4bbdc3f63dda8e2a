//! The operations kit (ops/): every metric a Grafana panel or a Prometheus
//! alert rule queries is exported by a live `bursar run` (scripts/test.sh
//! starts the broker), and the rules pass `promtool check rules` when
//! Debian's prometheus package is installed.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::*;

fn ops(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ops").join(path)).unwrap()
}

/// The `bursar_*` metric names in a PromQL expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).filter(|t| t.starts_with("bursar_")).map(str::to_string).collect()
}

/// Every `expr` of the dashboard's panels, by panel title.
fn panel_exprs() -> Vec<(String, Vec<String>)> {
    let d: serde_json::Value = serde_json::from_str(&ops("grafana/dashboards/bursar.json")).unwrap();
    d["panels"].as_array().unwrap().iter().map(|p| (p["title"].as_str().unwrap().to_string(), p["targets"].as_array().unwrap().iter().map(|t| t["expr"].as_str().unwrap().to_string()).collect())).collect()
}

/// Every `expr:` of the alert rules (each on one line).
fn rule_exprs() -> Vec<String> {
    ops("prometheus/alerts.yml").lines().filter_map(|l| l.trim().strip_prefix("expr:")).map(|e| e.trim().to_string()).collect()
}

/// Names with at least one sample in a Prometheus text exposition.
fn exported(text: &str) -> BTreeSet<String> {
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).map(str::to_string).collect()
}

#[test]
fn the_kit_covers_the_six_alerts_and_every_panel_queries_bursar_or_up() {
    let rules = ops("prometheus/alerts.yml");
    for alert in ["BursarProcessorDown", "BursarConsumerLagGrowing", "BursarRejectionsSpiking", "BursarNoCommit", "BursarBrokerUnreachable", "BursarExposedCredential"] {
        assert!(rules.contains(&format!("alert: {alert}")), "{alert} missing");
    }
    assert_eq!(rule_exprs().len(), 6);
    assert!(ops("prometheus/prometheus.yml").contains("job_name: bursar"), "the `up{{job=\"bursar\"}}` rule needs the bursar job");
    for (title, exprs) in panel_exprs() {
        assert!(exprs.iter().any(|e| !metric_names(e).is_empty() || e.contains("up{job=\"bursar\"}")), "panel {title} queries nothing of bursar");
    }
    let compose = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml")).unwrap();
    for needle in ["./ops/prometheus/alerts.yml", "./ops/grafana/provisioning", "./ops/grafana/dashboards", "governance.findings"] {
        assert!(compose.contains(needle), "docker-compose.yml lacks {needle}");
    }
}

#[test]
fn the_alert_rules_pass_promtool_when_it_is_installed() {
    let Ok(out) = Command::new("promtool").args(["check", "rules"]).arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/prometheus/alerts.yml")).output() else {
        eprintln!("skipping: promtool is not installed (Debian's prometheus package has it; scripts/test.sh installs it)");
        return;
    };
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn every_metric_a_panel_or_rule_queries_is_exported_by_a_live_run() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(2_000, 50, 11);
    let s = Setup::new(&b, "opskit", 2, "");
    produce(&s.config, &ents, &usage);
    let (mut child, port) = run_with_metrics(&s, "ops");
    let metrics = metrics_with_lag(port, "bursar_consumer_lag{");
    terminate(&mut child);
    let have = exported(&metrics);
    let mut queried: BTreeSet<String> = rule_exprs().iter().flat_map(|e| metric_names(e)).collect();
    queried.extend(panel_exprs().iter().flat_map(|(_, es)| es.iter().flat_map(|e| metric_names(e))));
    assert!(queried.len() >= 10, "{queried:?}");
    let missing: Vec<&String> = queried.iter().filter(|m| !have.contains(*m)).collect();
    assert!(missing.is_empty(), "queried but not exported: {missing:?}\n{metrics}");
    let last_commit: f64 = metrics.lines().find(|l| l.starts_with("bursar_last_commit_timestamp_seconds ")).and_then(|l| l.rsplit(' ').next()?.parse().ok()).expect("last commit");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((now - last_commit).abs() < 300.0, "the last commit is recent: {last_commit} vs {now}");
}
