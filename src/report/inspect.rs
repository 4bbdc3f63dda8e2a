//! `bursar inspect --credential KEY`: one key's entitlement versions, its
//! balance with live grants and their expiries, its recent windows and its
//! findings, as readable text or as one JSON document.

use std::fmt::Write;

use serde_json::{json, Value};

use super::page::{member_text, plan_of, rule_order, scope_of};
use super::review::KeyView;
use crate::model::credits::format as credits;
use crate::model::time::format_rfc3339 as time;

/// The key as one JSON document (credits as decimal strings, times RFC 3339).
pub fn to_json(k: &KeyView) -> Value {
    let balance = k.balance.as_ref().map(|b| {
        json!({
            "as_of": time(b.as_of), "month": b.month, "this_month": credits(b.this_month()), "banked": credits(b.banked()),
            "banked_at_start": credits(b.banked_at_start), "remaining": credits(b.remaining), "used": credits(b.used), "overage": credits(b.overage),
            "grants": b.grants.iter().map(|g| json!({"month": g.month, "amount": credits(g.amount), "remaining": credits(g.remaining), "expires": time(g.expires)})).collect::<Vec<_>>(),
        })
    });
    json!({
        "credential": k.credential,
        "owner": k.owner(),
        "versions": k.versions,
        "last_used": k.last_used.map(time),
        "balance": balance,
        "findings_by_rule": k.findings,
        "findings": k.recent.iter().map(|f| json!({"time": time(f.time), "rule": f.rule, "severity_id": f.severity_id, "uid": f.uid, "desc": f.desc})).collect::<Vec<_>>(),
        "recent_windows": k.recent_windows.iter().map(|w| json!({"window": w.window, "start": time(w.start), "calls": w.calls, "credits": credits(w.credits)})).collect::<Vec<_>>(),
        "look_first": k.reasons().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

/// The key as text tables.
pub fn to_text(k: &KeyView) -> String {
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "credential  {}\nowner       {}\nlast used   {}", k.credential, k.owner(), k.last_used.map_or("never".into(), time));
    let reasons: Vec<&str> = k.reasons().iter().map(|r| r.as_str()).collect();
    if !reasons.is_empty() {
        let _ = writeln!(o, "look first  {}", reasons.join(", "));
    }
    let _ = writeln!(o, "\nEntitlement versions ({})", k.versions.len());
    if k.versions.is_empty() {
        let _ = writeln!(o, "  none: the key is unmanaged");
    }
    for v in &k.versions {
        let field = |n: &str| v[n].as_str().unwrap_or("-").to_string();
        let _ = writeln!(o, "  updated {}  status {}  valid {} .. {}", field("updated_at"), field("status"), field("valid_from"), field("valid_until"));
    }
    for (name, value) in scope_of(k).into_iter().chain(plan_of(k)) {
        let _ = writeln!(o, "  {name:<22} {value}");
    }
    match &k.balance {
        None => {
            let _ = writeln!(o, "\nBalance: none (no ledger)");
        }
        Some(b) => {
            let _ = writeln!(o, "\nBalance as of {} (month {})", time(b.as_of), b.month);
            let _ = writeln!(o, "  this month's grant {:>14}\n  banked             {:>14}\n  remaining          {:>14}\n  used this month    {:>14}\n  overage            {:>14}", credits(b.this_month()), credits(b.banked()), credits(b.remaining), credits(b.used), credits(b.overage));
            let _ = writeln!(o, "  {:<9} {:>14} {:>14}  available until", "grant of", "amount", "left");
            for g in &b.grants {
                let _ = writeln!(o, "  {:<9} {:>14} {:>14}  {}", g.month, credits(g.amount), credits(g.remaining), time(g.expires));
            }
        }
    }
    let _ = writeln!(o, "\nRecent windows ({})", k.recent_windows.len());
    for w in &k.recent_windows {
        let _ = writeln!(o, "  {:<4} {}  {:>7} calls {:>14} credits", w.window, time(w.start), w.calls, credits(w.credits));
    }
    let mut rules: Vec<(&String, &u64)> = k.findings.iter().collect();
    rules.sort_by_key(|(r, _)| rule_order(r));
    let _ = writeln!(o, "\nFindings ({})", k.findings.values().sum::<u64>());
    for (rule, n) in rules {
        let _ = writeln!(o, "  {rule:<22} {n:>6}");
    }
    for f in &k.recent {
        let _ = writeln!(o, "  {}  {:<22} sev {}  {}", time(f.time), f.rule, f.severity_id, member_text(&Value::String(f.desc.clone())));
    }
    out
}
