//! The String-building descriptions and ATT&CK arrays this module had before
//! it wrote into a buffer, kept verbatim as an oracle: the buffer writers
//! must produce the same text for any figures (read here by name from
//! `Figures::to_map`, there from the typed fields).

use serde_json::Value;

use crate::rules::{Finding, Rule};
use crate::model::credits;

/// A figure as plain text: strings as they are, arrays joined with `, `,
/// numbers and booleans in JSON form; None when absent, null or empty.
fn fig(f: &Finding, name: &str) -> Option<String> {
    let figures = f.figures.to_map();
    let text = match figures.get(name)? {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

/// A list figure joined with `, `, or `none` when it is empty.
fn list(f: &Finding, name: &str) -> String {
    let figures = f.figures.to_map();
    let items: Vec<&str> = figures.get(name).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// `before` + the figure when it is there, else `""`.
fn clause(f: &Finding, name: &str, before: &str) -> String {
    fig(f, name).map(|v| format!("{before}{v}")).unwrap_or_default()
}

/// A fraction figure (`"0.8"`) as a percentage (`"80%"`).
fn percent(f: &Finding, name: &str) -> Option<String> {
    let micros = credits::parse_decimal_string(&fig(f, name)?).ok()?;
    Some(format!("{}%", credits::format(micros.saturating_mul(100))))
}

/// `finding_info.desc`: one sentence on what happened, from the figures.
pub(super) fn description(f: &Finding) -> String {
    let c = &f.credential;
    let month = clause(f, "month", " in ");
    match f.rule {
        Rule::Burst => burst(f),
        Rule::CreditsThreshold => {
            let share = match (percent(f, "threshold"), fig(f, "available_at_start")) {
                (Some(p), Some(a)) => format!(", {p} or more of the {a} available at the month start"),
                (Some(p), None) => format!(", {p} or more of its credits"),
                (None, Some(a)) => format!(", a threshold of the {a} available at the month start"),
                (None, None) => String::new(),
            };
            match fig(f, "used") {
                Some(used) => format!("Credential {c} used {used} credits{month}{share}."),
                None => format!("Credential {c} reached a credit threshold{month}."),
            }
        }
        Rule::CreditsOverdraft => {
            let of = match (fig(f, "used"), fig(f, "available_at_start")) {
                (Some(u), Some(a)) => format!(" (used {u} of {a} available)"),
                _ => String::new(),
            };
            format!("Credential {c} overdrew its credits{month}{}{of}.", clause(f, "overage", ": overage "))
        }
        Rule::BankingDrawdown => match fig(f, "used_banked") {
            Some(u) => format!("Credential {c} burned {u} banked credits{month}{}.", clause(f, "banked_at_start", ", of the banked remainder at the month start of ")),
            None => format!("Credential {c} drew down its banked credits{month}."),
        },
        Rule::BankingAccumulation => format!(
            "Credential {c} carries {} banked credits into {}{}: unused entitlement is piling up.",
            fig(f, "banked").unwrap_or_else(|| "unused".into()),
            fig(f, "month").unwrap_or_else(|| "the new month".into()),
            clause(f, "monthly", ", against a monthly grant of ")
        ),
        Rule::DormantReactivated => {
            let gap = fig(f, "gap_days").map(|d| format!(" after {d} days without activity")).unwrap_or_else(|| " after a dormant spell".into());
            format!("Credential {c} was used{gap}{}.", fig(f, "last_activity").map(|t| format!(" (last activity {t})")).unwrap_or_default())
        }
        Rule::DormantIdle => format!(
            "Credential {c} has had no activity{}{}: recertify it.",
            clause(f, "last_activity", " since "),
            fig(f, "dormancy").map(|d| format!(" (dormancy {d})")).unwrap_or_default()
        ),
        Rule::ScopeViolation => {
            let what = match (fig(f, "capability"), fig(f, "model")) {
                (Some(cap), Some(m)) => format!(" capability {cap} with model {m}"),
                (Some(cap), None) => format!(" capability {cap}"),
                (None, Some(m)) => format!(" model {m}"),
                (None, None) => String::new(),
            };
            let dims = fig(f, "violated").map(|d| format!(" (outside: {d})")).unwrap_or_default();
            format!("Credential {c} called{what} outside the scope of its entitlement{dims}.")
        }
        Rule::ScopePrincipal => format!(
            "Credential {c} was used by principal {}, which the scope of its entitlement does not allow (allowed principals: {}): confirm this workload should hold the key, then give it a key of its own or widen the scope.",
            fig(f, "principal").unwrap_or_default(),
            list(f, "allowed")
        ),
        Rule::ScopeNetwork => {
            let outside = match fig(f, "address").as_deref() {
                Some("true") => ", outside the networks of its entitlement",
                _ => ", which is not an IP address and so lies outside the networks of its entitlement",
            };
            format!(
                "Credential {c} was used from {}{outside} (allowed networks: {}): check where the call came from and rotate the key if it was not expected.",
                fig(f, "src_ip").unwrap_or_default(),
                list(f, "allowed")
            )
        }
        Rule::CredentialShared => {
            let (count, day, limit) = (fig(f, "count").unwrap_or_default(), fig(f, "day").unwrap_or_default(), fig(f, "limit").unwrap_or_default());
            let what = match fig(f, "dimension").as_deref() {
                Some("principal") => format!("was used by {count} distinct principals"),
                _ => format!("was used from {count} distinct source addresses"),
            };
            format!(
                "Credential {c} {what} on {day}, more than its limit of {limit} (first: {}): find who shares the key and give each workload a key of its own.",
                list(f, "values")
            )
        }
        Rule::ScopeDrift => match (fig(f, "dimension"), fig(f, "value")) {
            (Some(d), Some(v)) => format!("Credential {c} used the {d} {v} for the first time after its learning period."),
            _ => format!("Credential {c} used something new for the first time after its learning period."),
        },
        Rule::CredentialRevoked => match fig(f, "reason") {
            Some(r) => format!("Credential {c} was used while {}.", r.replace('_', " ")),
            None => format!("Credential {c} was used while not valid."),
        },
        Rule::CredentialUnmanaged => format!("Credential {c} was used{} but has no entitlement in force.", clause(f, "day", " on ")),
        Rule::CredentialExposed => format!("A raw secret was sent as the credential id; it is redacted to {c}. Rotate the key."),
    }
}

/// The burst sentence: each exceeded dimension with its sum and limit.
fn burst(f: &Finding) -> String {
    let figures = f.figures.to_map();
    let exceeded: Vec<String> = match figures.get("exceeded").and_then(Value::as_array) {
        Some(dims) => dims.iter().filter_map(|d| d.as_str().map(str::to_string)).collect(),
        None => ["credits", "calls", "tokens"].iter().filter(|d| figures.contains_key(&format!("sum_{d}"))).map(|d| d.to_string()).collect(),
    };
    let over = clause(f, "window", " over ");
    let parts: Vec<String> = exceeded
        .iter()
        .filter_map(|d| {
            let sum = fig(f, &format!("sum_{d}"))?;
            let limit = fig(f, &format!("limit_{d}")).map(|l| format!(" exceeds the limit {l}")).unwrap_or_default();
            Some(format!("{d} {sum}{over}{limit}"))
        })
        .collect();
    match parts.is_empty() {
        true => format!("Credential {} exceeded a burst limit{over}.", f.credential),
        false => format!("Credential {} exceeded a burst limit: {}.", f.credential, parts.join("; ")),
    }
}

/// ATT&CK matrix version of the mappings below (the version that introduced
/// T1496.004; both sub-techniques are unchanged since).
const ATTACK_VERSION: &str = "v16";

/// MITRE ATT&CK mappings where they fit (README.md, Rules), as a JSON array of
/// OCSF `attack` objects: one per tactic the detection speaks for.
pub(super) fn attacks(rule: Rule) -> Option<String> {
    const HIJACKING: [&str; 4] = ["T1496", "Resource Hijacking", "T1496.004", "Cloud Service Hijacking"];
    const VALID: [&str; 4] = ["T1078", "Valid Accounts", "T1078.004", "Cloud Accounts"];
    const IMPACT: [&str; 2] = ["TA0040", "Impact"];
    const INITIAL_ACCESS: [&str; 2] = ["TA0001", "Initial Access"];
    const PERSISTENCE: [&str; 2] = ["TA0003", "Persistence"];
    const PRIVILEGE_ESCALATION: [&str; 2] = ["TA0004", "Privilege Escalation"];
    let (technique, tactics): ([&str; 4], &[[&str; 2]]) = match rule {
        Rule::Burst => (HIJACKING, &[IMPACT]),
        Rule::DormantReactivated => (VALID, &[INITIAL_ACCESS, PERSISTENCE]),
        Rule::DormantIdle => (VALID, &[PERSISTENCE]),
        Rule::CredentialRevoked | Rule::ScopeDrift | Rule::ScopePrincipal | Rule::ScopeNetwork => (VALID, &[INITIAL_ACCESS]),
        Rule::ScopeViolation => (VALID, &[PRIVILEGE_ESCALATION]),
        _ => return None,
    };
    let [t_uid, t_name, s_uid, s_name] = technique;
    let items: Vec<String> = tactics
        .iter()
        .map(|[a_uid, a_name]| {
            format!(
                r#"{{"technique":{{"uid":"{t_uid}","name":"{t_name}"}},"sub_technique":{{"uid":"{s_uid}","name":"{s_name}"}},"tactic":{{"uid":"{a_uid}","name":"{a_name}"}},"version":"{ATTACK_VERSION}"}}"#
            )
        })
        .collect();
    Some(format!("[{}]", items.join(",")))
}
