//! Findings as OCSF 1.7.0 Detection Findings (SPEC §4.1), with CloudEvents
//! binary-mode headers. Deterministic: object keys are written sorted.

use serde_json::{json, Map, Value};

use crate::engine::output::{Finding, Rule};
use crate::model::credits;
use crate::model::time::format_rfc3339;

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

/// MITRE ATT&CK mappings where they fit (SPEC §4.1).
fn attacks(rule: Rule) -> Option<Value> {
    let valid_accounts = json!([{
        "technique": {"uid": "T1078", "name": "Valid Accounts"},
        "sub_technique": {"uid": "T1078.004", "name": "Cloud Accounts"},
        "tactic": {"uid": "TA0001", "name": "Initial Access"},
    }]);
    match rule {
        Rule::Burst => Some(json!([{
            "technique": {"uid": "T1496", "name": "Resource Hijacking"},
            "sub_technique": {"uid": "T1496.004", "name": "Cloud Service Hijacking"},
            "tactic": {"uid": "TA0040", "name": "Impact"},
        }])),
        Rule::DormantReactivated | Rule::DormantIdle | Rule::CredentialRevoked | Rule::ScopeViolation | Rule::ScopeDrift => Some(valid_accounts),
        _ => None,
    }
}

/// The triggering call as OCSF evidence.
fn evidence(f: &Finding) -> Value {
    let mut user = Map::new();
    user.insert("programmatic_credentials".into(), json!([{"uid": f.credential, "type": "API Key"}]));
    let mut ev = Map::new();
    if let Some(e) = &f.evidence {
        if let Some(p) = &e.principal {
            user.insert("name".into(), json!(p.as_str()));
            user.insert("uid".into(), json!(p.as_str()));
        }
        let mut api = Map::new();
        api.insert("operation".into(), json!(e.capability.as_str()));
        if let Some(m) = &e.model {
            api.insert("service".into(), json!({"name": m.as_str()}));
        }
        ev.insert("api".into(), Value::Object(api));
        if let Some(ip) = &e.src_ip {
            ev.insert("src_endpoint".into(), json!({"ip": ip.as_str()}));
        }
        let mut data = Map::new();
        data.insert("event_id".into(), json!(e.id.as_str()));
        data.insert("time".into(), json!(format_rfc3339(e.time)));
        data.insert("capability".into(), json!(e.capability.as_str()));
        if let Some(m) = &e.model {
            data.insert("model".into(), json!(m.as_str()));
        }
        data.insert("credits".into(), json!(credits::format(e.credits)));
        data.insert("tokens_in".into(), json!(e.tokens_in));
        data.insert("tokens_out".into(), json!(e.tokens_out));
        if let Some(s) = &e.source {
            data.insert("source".into(), json!(s.as_str()));
        }
        ev.insert("data".into(), Value::Object(data));
    }
    ev.insert("actor".into(), json!({"user": Value::Object(user)}));
    Value::Object(ev)
}

/// One OCSF 1.7.0 Detection Finding as compact JSON.
pub fn finding_json(f: &Finding) -> String {
    let uid = f.uid();
    let rule = f.rule.as_str();
    let mut info = json!({
        "uid": uid,
        "title": title(f.rule),
        "desc": description(f),
        "types": [rule],
        "created_time": f.time,
        "analytic": {"uid": format!("bursar.{rule}"), "name": rule, "type_id": 1, "type": "Rule"},
    });
    if let Some(a) = attacks(f.rule) {
        info["attacks"] = a;
    }
    let mut resource = json!({"uid": f.credential, "name": f.credential, "type": "API Key"});
    if let Some(owner) = &f.owner {
        resource["owner"] = if owner.contains('@') { json!({"name": owner, "email_addr": owner}) } else { json!({"name": owner}) };
    }
    let mut observables = vec![json!({"name": "credential", "type_id": 19, "type": "User Credential ID", "value": f.credential})];
    if let Some(ip) = f.evidence.as_ref().and_then(|e| e.src_ip.as_ref()) {
        observables.push(json!({"name": "src_ip", "type_id": 2, "type": "IP Address", "value": ip.as_str()}));
    }
    let mut bursar = Map::new();
    bursar.insert("rule".into(), json!(rule));
    bursar.insert("credential".into(), json!(f.credential));
    bursar.insert("dedupe_key".into(), json!(f.dedupe_key()));
    for (k, v) in &f.figures {
        bursar.insert(k.clone(), v.clone());
    }
    bursar.insert("source".into(), json!({"topic": f.topic, "partition": f.partition, "offset": f.offset}));
    let v = json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": f.severity,
        "severity": severity_caption(f.severity),
        "status_id": 1,
        "status": "New",
        "is_alert": true,
        "time": f.time,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": uid,
            "product": {"name": "bursar", "vendor_name": "bursar", "version": env!("CARGO_PKG_VERSION")},
        },
        "finding_info": info,
        "evidences": [evidence(f)],
        "resources": [resource],
        "observables": observables,
        "unmapped": {"bursar": Value::Object(bursar)},
    });
    v.to_string()
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
