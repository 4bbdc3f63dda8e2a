//! The report page: the review turned into a template context, rendered by
//! `minijinja` from `templates/report.html` (inline CSS and SVG, nothing
//! fetched, so the file opens offline).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::chart::{self, Series, PALETTE, SEVERITY};
use super::review::{KeyView, Review};
use super::ReportError;
use crate::model::credits;
use crate::model::time::{format_rfc3339, Day, MS_PER_DAY};
use crate::rules::Rule;

const TEMPLATE: &str = include_str!("templates/report.html");

/// OCSF severity names by severity_id.
const SEVERITY_NAMES: [&str; 6] = ["Unknown", "Informational", "Low", "Medium", "High", "Critical"];

/// How the page is drawn.
#[derive(Debug, Clone)]
pub struct PageOptions {
    /// Where the outputs came from (shown in the header).
    pub source: String,
    /// Keys that get a balance chart of their own, in page order (the rest get tables only).
    pub max_key_charts: usize,
}

#[derive(Serialize)]
struct Page {
    source: String,
    as_of: String,
    totals: Totals,
    usage_chart: String,
    findings_chart: String,
    look_first: Vec<LookRow>,
    owners: Vec<OwnerCtx>,
    charts_omitted: usize,
    unreadable: u64,
}

#[derive(Serialize)]
struct Totals {
    owners: usize,
    keys: usize,
    findings: u64,
    calls: u64,
    credits: String,
}

#[derive(Serialize)]
struct LookRow {
    credential: String,
    anchor: String,
    owner: String,
    reasons: String,
    severity: String,
    findings: u64,
    banked: String,
}

#[derive(Serialize)]
struct OwnerCtx {
    name: String,
    keys: Vec<KeyCtx>,
}

#[derive(Serialize)]
struct KeyCtx {
    credential: String,
    anchor: String,
    status: String,
    valid_from: String,
    valid_until: String,
    versions: usize,
    scope: Vec<(String, String)>,
    plan: Vec<(String, String)>,
    last_used: String,
    balance: Option<BalanceCtx>,
    findings: Vec<(String, u64)>,
    recent: Vec<RecentCtx>,
    chart: Option<String>,
}

#[derive(Serialize)]
struct BalanceCtx {
    month: String,
    as_of: String,
    this_month: String,
    banked: String,
    remaining: String,
    used: String,
    overage: String,
    grants: Vec<GrantCtx>,
}

#[derive(Serialize)]
struct GrantCtx {
    month: String,
    amount: String,
    remaining: String,
    expires: String,
}

#[derive(Serialize)]
struct RecentCtx {
    time: String,
    rule: String,
    severity: String,
    severity_id: u8,
    desc: String,
}

/// A value of a scope or plan member as text: lists joined with commas.
pub fn member_text(v: &Value) -> String {
    match v {
        Value::Array(items) => items.iter().map(member_text).collect::<Vec<_>>().join(", "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every member of the latest version's `scope`, then its top-level `max_*` limits, as they are.
pub fn scope_of(k: &KeyView) -> Vec<(String, String)> {
    let Some(v) = k.latest() else { return Vec::new() };
    let mut out: Vec<(String, String)> = v["scope"].as_object().map(|o| o.iter().map(|(n, x)| (n.clone(), member_text(x))).collect()).unwrap_or_default();
    if let Some(o) = v.as_object() {
        out.extend(o.iter().filter(|(n, _)| n.starts_with("max_")).map(|(n, x)| (n.clone(), member_text(x))));
    }
    out
}

/// The latest version's `credits`, `burst` and `dormancy`, as they are.
pub fn plan_of(k: &KeyView) -> Vec<(String, String)> {
    let Some(v) = k.latest() else { return Vec::new() };
    let mut out: Vec<(String, String)> = v["credits"].as_object().map(|o| o.iter().map(|(n, x)| (format!("credits.{n}"), member_text(x))).collect()).unwrap_or_default();
    for name in ["burst", "dormancy"] {
        if !v[name].is_null() {
            out.push((name.to_string(), if v[name].is_string() { member_text(&v[name]) } else { v[name].to_string() }));
        }
    }
    out
}

/// Rules in table order, rules this bursar does not know after them by name.
pub fn rule_order(name: &str) -> (usize, String) {
    (Rule::ALL.iter().position(|r| r.as_str() == name).unwrap_or(Rule::ALL.len()), name.to_string())
}

fn anchor(credential: &str) -> String {
    let safe: String = credential.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("key-{safe}-{:08x}", xxhash_rust::xxh3::xxh3_64(credential.as_bytes()) as u32)
}

fn time_text(t: Option<i64>) -> String {
    t.map_or_else(|| "never".to_string(), format_rfc3339)
}

/// A daily series over every day from the map's first to its last: a day
/// without an entry is 0 (`hold`: the previous day's value, for a balance).
fn daily<T>(map: &BTreeMap<Day, T>, hold: bool, value: impl Fn(&T) -> f64) -> Vec<(i64, f64)> {
    let (Some(first), Some(last)) = (map.keys().next(), map.keys().next_back()) else { return Vec::new() };
    let mut current = 0.0;
    (*first..=*last)
        .map(|d| {
            current = match map.get(&d) {
                Some(v) => value(v),
                None if hold => current,
                None => 0.0,
            };
            (d as i64 * MS_PER_DAY, current)
        })
        .collect()
}

fn key_chart(k: &KeyView) -> Result<String, ReportError> {
    let series = [
        Series { name: "balance (remaining)".into(), color: PALETTE[0], points: daily(&k.balance_series, true, |v| chart::credits(v.0)) },
        Series { name: "banked".into(), color: PALETTE[1], points: daily(&k.balance_series, true, |v| chart::credits(v.1)) },
        Series { name: "used per day".into(), color: PALETTE[2], points: daily(&k.usage, false, |v| chart::credits(v.1)) },
    ];
    chart::lines(&format!("{}: balance, banked credit and usage per day", k.credential), "credits", &series, (640, 220))
}

fn key_ctx(k: &KeyView, with_chart: bool) -> Result<KeyCtx, ReportError> {
    let latest = k.latest();
    let field = |name: &str| latest.and_then(|v| v[name].as_str()).unwrap_or("-").to_string();
    let mut findings: Vec<(String, u64)> = k.findings.iter().map(|(r, n)| (r.clone(), *n)).collect();
    findings.sort_by_key(|(r, _)| rule_order(r));
    let balance = k.balance.as_ref().map(|b| BalanceCtx {
        month: b.month.clone(),
        as_of: format_rfc3339(b.as_of),
        this_month: credits::format(b.this_month()),
        banked: credits::format(b.banked()),
        remaining: credits::format(b.remaining),
        used: credits::format(b.used),
        overage: credits::format(b.overage),
        grants: b.grants.iter().map(|g| GrantCtx { month: g.month.clone(), amount: credits::format(g.amount), remaining: credits::format(g.remaining), expires: format_rfc3339(g.expires) }).collect(),
    });
    let recent = k.recent.iter().rev().map(|f| RecentCtx { time: format_rfc3339(f.time), rule: f.rule.clone(), severity: SEVERITY_NAMES[f.severity_id as usize % 6].into(), severity_id: f.severity_id, desc: f.desc.clone() }).collect();
    let chart = if with_chart && (!k.balance_series.is_empty() || !k.usage.is_empty()) { Some(key_chart(k)?) } else { None };
    Ok(KeyCtx {
        credential: k.credential.clone(),
        anchor: anchor(&k.credential),
        status: if latest.is_some() { field("status") } else { "unmanaged (no entitlement)".into() },
        valid_from: field("valid_from"),
        valid_until: field("valid_until"),
        versions: k.versions.len(),
        scope: scope_of(k),
        plan: plan_of(k),
        last_used: time_text(k.last_used),
        balance,
        findings,
        recent,
        chart,
    })
}

fn overview_charts(review: &Review) -> Result<(String, String), ReportError> {
    let usage = [Series { name: "credits used per day".into(), color: PALETTE[0], points: daily(&review.usage_per_day, false, |v| chart::credits(v.1)) }];
    let usage = chart::lines("Usage per day, every key", "credits", &usage, (960, 260))?;
    let by_severity: Vec<Series> = (0..6)
        .rev()
        .filter(|s| review.findings_per_day.values().any(|n| n[*s] > 0))
        .map(|s| Series { name: SEVERITY_NAMES[s].into(), color: SEVERITY[s], points: daily(&review.findings_per_day, false, |n| n[s] as f64) })
        .collect();
    let findings = chart::lines("Findings per day by severity", "findings", &by_severity, (960, 260))?;
    Ok((usage, findings))
}

/// The whole report as one HTML document.
pub fn render(review: &Review, options: &PageOptions) -> Result<String, ReportError> {
    let (usage_chart, findings_chart) = overview_charts(review)?;
    let look_first = review
        .look_first()
        .into_iter()
        .map(|(k, reasons)| LookRow {
            credential: k.credential.clone(),
            anchor: anchor(&k.credential),
            owner: k.owner(),
            reasons: reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
            severity: SEVERITY_NAMES[k.max_severity as usize % 6].into(),
            findings: k.findings.values().sum(),
            banked: k.balance.as_ref().map_or_else(|| "-".into(), |b| credits::format(b.banked())),
        })
        .collect();
    let mut charted = 0usize;
    let mut owners = Vec::new();
    for (name, keys) in review.by_owner() {
        let mut ctx = Vec::new();
        for k in keys {
            let with_chart = charted < options.max_key_charts;
            charted += with_chart as usize;
            ctx.push(key_ctx(k, with_chart)?);
        }
        owners.push(OwnerCtx { name, keys: ctx });
    }
    let (calls, used) = review.usage_per_day.values().fold((0u64, 0i64), |(c, u), (dc, du)| (c + dc, u.saturating_add(*du)));
    let page = Page {
        source: options.source.clone(),
        as_of: time_text(review.as_of),
        totals: Totals { owners: owners.len(), keys: review.keys.len(), findings: review.keys.values().flat_map(|k| k.findings.values()).sum(), calls, credits: credits::format(used) },
        usage_chart,
        findings_chart,
        look_first,
        owners,
        charts_omitted: review.keys.len().saturating_sub(charted),
        unreadable: review.unreadable,
    };
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE).map_err(|e| ReportError::Template(e.to_string()))?;
    let template = env.get_template("report.html").map_err(|e| ReportError::Template(e.to_string()))?;
    template.render(minijinja::value::Serde(&page)).map_err(|e| ReportError::Template(e.to_string()))
}
