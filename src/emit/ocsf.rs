//! Findings as OCSF 1.7.0 Detection Findings (SPEC §4.1), with CloudEvents
//! binary-mode headers. Deterministic: every member is written in a fixed
//! order, figures in the (sorted) order of their map.
//!
//! Mapping choices OCSF leaves open:
//! - the acting identity is `evidences[].actor.user`: `uid`/`name` = the
//!   event's `principal` (its user type is not guessed), `credential_uid` and
//!   `programmatic_credentials[{uid, type "API Key"}]` = the credential;
//! - the call is `evidences[].api`: `operation` = capability,
//!   `service.name` = model (OCSF 1.7.0 has no AI-model object),
//!   `request.uid` = the usage event id; `src_endpoint.ip` = src_ip;
//!   `evidences[].data` holds the call's own figures;
//! - the credential is the one resource (`type` "API Key", `owner.name` and,
//!   when it looks like one, `owner.email_addr` = the entitlement's owner);
//! - observables point at `evidences.actor.user.credential_uid` (type_id 19,
//!   User Credential ID) and `evidences.src_endpoint.ip` (type_id 2).

use super::describe::{attacks, description, severity_caption, title};
use super::json::{credits_field, int_field, key, str_field, write_str};

use crate::engine::output::Finding;
use crate::model::time::{format_rfc3339, write_rfc3339};

/// OCSF version of every finding.
pub const OCSF_VERSION: &str = "1.7.0";
/// `ce_type` of findings.
pub const FINDING_TYPE: &str = "io.bursar.finding.v1";

/// Members of `unmapped.bursar` that bursar writes itself; a figure of the
/// same name is left out rather than written twice.
const RESERVED: [&str; 4] = ["rule", "credential", "dedupe_key", "source"];

/// The triggering call as OCSF evidence (see the module doc). Without a
/// triggering event (timer findings) only the actor with its credential.
fn write_evidence(out: &mut String, f: &Finding) {
    out.push_str(r#"{"actor":{"user":{"#);
    if let Some(p) = f.evidence.as_ref().and_then(|e| e.principal.as_ref()) {
        str_field(out, true, "uid", p);
        str_field(out, false, "name", p);
        out.push(',');
    }
    str_field(out, true, "credential_uid", &f.credential);
    out.push_str(r#","programmatic_credentials":[{"uid":"#);
    write_str(out, &f.credential);
    out.push_str(r#","type":"API Key"}]}}"#);
    if let Some(e) = &f.evidence {
        out.push_str(r#","api":{"operation":"#);
        write_str(out, &e.capability);
        out.push_str(r#","request":{"uid":"#);
        write_str(out, &e.id);
        out.push('}');
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
        out.push_str(&a);
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
    out.push_str(r#"}],"observables":[{"name":"evidences.actor.user.credential_uid","type_id":19,"type":"User Credential ID","value":"#);
    write_str(&mut out, &f.credential);
    out.push('}');
    if let Some(ip) = f.evidence.as_ref().and_then(|e| e.src_ip.as_ref()) {
        out.push_str(r#",{"name":"evidences.src_endpoint.ip","type_id":2,"type":"IP Address","value":"#);
        write_str(&mut out, ip);
        out.push('}');
    }
    out.push_str(r#"],"unmapped":{"bursar":{"rule":""#);
    out.push_str(rule);
    out.push('"');
    str_field(&mut out, false, "credential", &f.credential);
    str_field(&mut out, false, "dedupe_key", &f.dedupe_key());
    for (k, v) in f.figures.iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())) {
        out.push(',');
        write_str(&mut out, k);
        out.push(':');
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
