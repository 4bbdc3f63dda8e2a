//! Findings as OCSF 1.7.0 Detection Findings (SPEC §4.1), with CloudEvents
//! binary-mode headers. Deterministic: object keys are written sorted.

use serde_json::Value;

use super::json::{credits_field, int_field, key, str_field, write_str};

use crate::engine::output::{Finding, Rule};
use crate::model::time::{format_rfc3339, write_rfc3339};

/// OCSF version of every finding.
pub const OCSF_VERSION: &str = "1.7.0";
/// `ce_type` of findings.
pub const FINDING_TYPE: &str = "io.bursar.finding.v1";

fn severity_caption(id: u8) -> &'static str {
    match id {
        1 => "Informational",
        2 => "Low",
        3 => "Medium",
        4 => "High",
        5 => "Critical",
        _ => "Unknown",
    }
}

/// Title and the analytic's name of a rule.
fn title(rule: Rule) -> &'static str {
    match rule {
        Rule::Burst => "Burst threshold breached",
        Rule::CreditsThreshold => "Credit threshold reached",
        Rule::CreditsOverdraft => "Credit overdraft",
        Rule::BankingDrawdown => "Banked credit drawn down",
        Rule::BankingAccumulation => "Banked credit accumulating",
        Rule::DormantReactivated => "Dormant credential reactivated",
        Rule::DormantIdle => "Credential went dormant",
        Rule::ScopeViolation => "Use outside the entitlement's scope",
        Rule::ScopeDrift => "First use of a new capability or model",
        Rule::CredentialRevoked => "Use of a revoked, suspended or expired credential",
        Rule::CredentialUnmanaged => "Use of a credential with no entitlement",
        Rule::CredentialExposed => "Raw secret in usage telemetry",
    }
}

fn fig<'a>(f: &'a Finding, name: &str) -> &'a str {
    f.figures.get(name).and_then(Value::as_str).unwrap_or("?")
}

fn fig_num(f: &Finding, name: &str) -> String {
    f.figures.get(name).map(|v| v.to_string()).unwrap_or_else(|| "?".into())
}

/// A sentence on what happened, from the finding's figures.
fn description(f: &Finding) -> String {
    let c = &f.credential;
    match f.rule {
        Rule::Burst => {
            let dims: Vec<String> = ["credits", "calls", "tokens"]
                .iter()
                .filter_map(|d| {
                    let sum = f.figures.get(&format!("sum_{d}"))?;
                    let limit = f.figures.get(&format!("limit_{d}"))?;
                    let plain = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    Some(format!("{d} {} (limit {})", plain(sum), plain(limit)))
                })
                .collect();
            format!("Credential {c} used {} within {}.", dims.join(", "), fig(f, "window"))
        }
        Rule::CreditsThreshold => format!(
            "Credential {c} used {} credits in {}, at least {} of the {} available at the month start.",
            fig(f, "used"),
            fig(f, "month"),
            fig(f, "threshold"),
            fig(f, "available_at_start")
        ),
        Rule::CreditsOverdraft => format!("Credential {c} overdrew its credits in {}: overage {}.", fig(f, "month"), fig(f, "overage")),
        Rule::BankingDrawdown => format!(
            "Credential {c} burned {} banked credits in {}, of {} banked at the month start.",
            fig(f, "used_banked"),
            fig(f, "month"),
            fig(f, "banked_at_start")
        ),
        Rule::BankingAccumulation => format!(
            "Credential {c} carries {} banked credits into {}, against a monthly grant of {}: unused entitlement is piling up.",
            fig(f, "banked"),
            fig(f, "month"),
            fig(f, "monthly")
        ),
        Rule::DormantReactivated => {
            format!("Credential {c} was used after {} days without activity (last activity {}).", fig_num(f, "gap_days"), fig(f, "last_activity"))
        }
        Rule::DormantIdle => format!("Credential {c} has had no activity since {} ({}): recertify it.", fig(f, "last_activity"), fig(f, "dormancy")),
        Rule::ScopeViolation => format!(
            "Credential {c} called capability {} with model {} outside its scope.",
            fig(f, "capability"),
            match fig(f, "model") {
                "" => "(none)",
                m => m,
            }
        ),
        Rule::ScopeDrift => format!("Credential {c} used the {} {} for the first time after its learning period.", fig(f, "dimension"), fig(f, "value")),
        Rule::CredentialRevoked => format!("Credential {c} was used while {}.", fig(f, "reason").replace('_', " ")),
        Rule::CredentialUnmanaged => format!("Credential {c} has no entitlement in force but was used."),
        Rule::CredentialExposed => format!("A raw secret was sent as the credential id; it is redacted to {c}. Rotate the key."),
    }
}

/// MITRE ATT&CK mappings where they fit (SPEC §4.1), as JSON arrays.
fn attacks(rule: Rule) -> Option<&'static str> {
    const VALID_ACCOUNTS: &str = r#"[{"technique":{"uid":"T1078","name":"Valid Accounts"},"sub_technique":{"uid":"T1078.004","name":"Cloud Accounts"},"tactic":{"uid":"TA0001","name":"Initial Access"}}]"#;
    const HIJACKING: &str = r#"[{"technique":{"uid":"T1496","name":"Resource Hijacking"},"sub_technique":{"uid":"T1496.004","name":"Cloud Service Hijacking"},"tactic":{"uid":"TA0040","name":"Impact"}}]"#;
    match rule {
        Rule::Burst => Some(HIJACKING),
        Rule::DormantReactivated | Rule::DormantIdle | Rule::CredentialRevoked | Rule::ScopeViolation | Rule::ScopeDrift => Some(VALID_ACCOUNTS),
        _ => None,
    }
}

/// The triggering call as OCSF evidence: actor with the API key, the API
/// operation (capability) and service (model), the source IP, and the call's figures.
fn write_evidence(out: &mut String, f: &Finding) {
    out.push_str(r#"{"actor":{"user":{"#);
    let mut first = true;
    if let Some(p) = f.evidence.as_ref().and_then(|e| e.principal.as_ref()) {
        str_field(out, true, "uid", p);
        str_field(out, false, "name", p);
        first = false;
    }
    key(out, first, "programmatic_credentials");
    out.push_str(r#"[{"uid":"#);
    write_str(out, &f.credential);
    out.push_str(r#","type":"API Key"}]}}"#);
    if let Some(e) = &f.evidence {
        out.push_str(r#","api":{"operation":"#);
        write_str(out, &e.capability);
        if let Some(m) = &e.model {
            out.push_str(r#","service":{"name":"#);
            write_str(out, m);
            out.push('}');
        }
        out.push('}');
        if let Some(ip) = &e.src_ip {
            out.push_str(r#","src_endpoint":{"ip":"#);
            write_str(out, ip);
            out.push('}');
        }
        out.push_str(r#","data":{"#);
        str_field(out, true, "event_id", &e.id);
        key(out, false, "time");
        out.push('"');
        write_rfc3339(out, e.time);
        out.push('"');
        str_field(out, false, "capability", &e.capability);
        if let Some(m) = &e.model {
            str_field(out, false, "model", m);
        }
        credits_field(out, "credits", e.credits);
        int_field(out, "tokens_in", e.tokens_in);
        int_field(out, "tokens_out", e.tokens_out);
        if let Some(s) = &e.source {
            str_field(out, false, "source", s);
        }
        out.push('}');
    }
    out.push('}');
}

/// One OCSF 1.7.0 Detection Finding as compact JSON, fields in a fixed order.
pub fn finding_json(f: &Finding) -> String {
    let uid = f.uid();
    let rule = f.rule.as_str();
    let mut out = String::with_capacity(2048);
    out.push_str(r#"{"activity_id":1,"activity_name":"Create","category_uid":2,"category_name":"Findings","class_uid":2004,"class_name":"Detection Finding","type_uid":200401,"type_name":"Detection Finding: Create","severity_id":"#);
    out.push_str(itoa::Buffer::new().format(f.severity));
    str_field(&mut out, false, "severity", severity_caption(f.severity));
    out.push_str(r#","status_id":1,"status":"New","is_alert":true"#);
    int_field(&mut out, "time", f.time);
    out.push_str(r#","metadata":{"version":""#);
    out.push_str(OCSF_VERSION);
    out.push_str(r#"","uid":""#);
    out.push_str(&uid);
    out.push_str(r#"","product":{"name":"bursar","vendor_name":"bursar","version":""#);
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str(r#""}},"finding_info":{"uid":""#);
    out.push_str(&uid);
    out.push('"');
    str_field(&mut out, false, "title", title(f.rule));
    str_field(&mut out, false, "desc", &description(f));
    out.push_str(r#","types":[""#);
    out.push_str(rule);
    out.push_str(r#""]"#);
    int_field(&mut out, "created_time", f.time);
    out.push_str(r#","analytic":{"uid":"bursar."#);
    out.push_str(rule);
    out.push_str(r#"","name":""#);
    out.push_str(rule);
    out.push_str(r#"","type_id":1,"type":"Rule"}"#);
    if let Some(a) = attacks(f.rule) {
        out.push_str(r#","attacks":"#);
        out.push_str(a);
    }
    out.push_str(r#"},"evidences":["#);
    write_evidence(&mut out, f);
    out.push_str(r#"],"resources":[{"uid":"#);
    write_str(&mut out, &f.credential);
    str_field(&mut out, false, "name", &f.credential);
    out.push_str(r#","type":"API Key""#);
    if let Some(owner) = &f.owner {
        out.push_str(r#","owner":{"name":"#);
        write_str(&mut out, owner);
        if owner.contains('@') {
            str_field(&mut out, false, "email_addr", owner);
        }
        out.push('}');
    }
    out.push_str(r#"}],"observables":[{"name":"credential","type_id":19,"type":"User Credential ID","value":"#);
    write_str(&mut out, &f.credential);
    out.push('}');
    if let Some(ip) = f.evidence.as_ref().and_then(|e| e.src_ip.as_ref()) {
        out.push_str(r#",{"name":"src_ip","type_id":2,"type":"IP Address","value":"#);
        write_str(&mut out, ip);
        out.push('}');
    }
    out.push_str(r#"],"unmapped":{"bursar":{"rule":""#);
    out.push_str(rule);
    out.push('"');
    str_field(&mut out, false, "credential", &f.credential);
    str_field(&mut out, false, "dedupe_key", &f.dedupe_key());
    for (k, v) in &f.figures {
        key(&mut out, false, k);
        out.push_str(&v.to_string());
    }
    out.push_str(r#","source":{"topic":"#);
    write_str(&mut out, &f.topic);
    int_field(&mut out, "partition", f.partition);
    key(&mut out, false, "offset");
    match f.offset {
        Some(o) => out.push_str(itoa::Buffer::new().format(o)),
        None => out.push_str("null"),
    }
    out.push_str("}}}}");
    out
}

/// CloudEvents binary-mode headers of a finding record.
pub fn finding_headers(f: &Finding) -> Vec<(&'static str, String)> {
    vec![
        ("ce_specversion", "1.0".into()),
        ("ce_id", f.uid()),
        ("ce_source", "bursar".into()),
        ("ce_type", FINDING_TYPE.into()),
        ("ce_subject", f.credential.clone()),
        ("ce_time", format_rfc3339(f.time)),
        ("content-type", "application/json".into()),
    ]
}
