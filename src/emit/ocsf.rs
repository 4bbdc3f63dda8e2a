//! Findings as OCSF 1.7.0 Detection Findings (README.md, Outputs; docs/semantics.md,
//! Findings as OCSF 1.7.0), with CloudEvents binary-mode headers. Deterministic: every member is written in a fixed
//! order, figures in the order of the rule's `figure_names` (sorted by name).
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
//!   User Credential ID), `evidences.actor.user.name` (type_id 4, User Name:
//!   the principal, when the call has one) and `evidences.src_endpoint.ip`
//!   (type_id 2).

use sha2::{Digest, Sha256};

use super::describe::{severity_caption, title, write_description};
use super::facts::{write_facts, write_remediation};
use super::json::{credits_field, int_field, into_string, key, put_escaped, put_key, put_str, str_field};

use crate::rules::figures::FigureValue;
use crate::rules::Finding;
use crate::model::time::{format_rfc3339, push_int, push_rfc3339};

/// OCSF version of every finding, as a literal for `concat!`.
macro_rules! ocsf_version {
    () => {
        "1.7.0"
    };
}

/// OCSF version of every finding.
pub const OCSF_VERSION: &str = ocsf_version!();
/// `ce_type` of findings.
pub const FINDING_TYPE: &str = "io.bursar.finding.v1";

/// The finding uid (`Finding::uid`: the first 32 hex digits of SHA-256 of
/// rule NUL credential NUL dedupe parts joined with NUL), as bytes.
fn uid_hex(f: &Finding) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    h.update(f.rule.as_str().as_bytes());
    h.update([0u8]);
    h.update(f.credential.as_bytes());
    h.update([0u8]);
    for (i, part) in f.dedupe.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut hex = [0u8; 32];
    for (i, b) in digest[..16].iter().enumerate() {
        hex[2 * i] = HEX[(b >> 4) as usize];
        hex[2 * i + 1] = HEX[(b & 0xf) as usize];
    }
    hex
}

/// The triggering call as OCSF evidence (see the module doc). Without a
/// triggering event (timer findings) only the actor with its credential.
fn write_evidence(out: &mut Vec<u8>, f: &Finding) {
    out.extend_from_slice(br#"{"actor":{"user":{"#);
    if let Some(p) = f.evidence.as_ref().and_then(|e| e.principal.as_ref()) {
        str_field(out, key!(first "uid"), p);
        str_field(out, key!("name"), p);
        out.push(b',');
    }
    str_field(out, key!(first "credential_uid"), &f.credential);
    out.extend_from_slice(br#","programmatic_credentials":[{"uid":"#);
    put_str(out, &f.credential);
    out.extend_from_slice(br#","type":"API Key"}]}}"#);
    if let Some(e) = &f.evidence {
        out.extend_from_slice(br#","api":{"operation":"#);
        put_str(out, &e.capability);
        out.extend_from_slice(br#","request":{"uid":"#);
        put_str(out, &e.id);
        out.push(b'}');
        if let Some(m) = &e.model {
            out.extend_from_slice(br#","service":{"name":"#);
            put_str(out, m);
            out.push(b'}');
        }
        out.push(b'}');
        if let Some(ip) = &e.src_ip {
            out.extend_from_slice(br#","src_endpoint":{"ip":"#);
            put_str(out, ip);
            out.push(b'}');
        }
        out.extend_from_slice(br#","data":{"#);
        str_field(out, key!(first "event_id"), &e.id);
        put_key(out, key!("time"));
        out.push(b'"');
        push_rfc3339(out, e.time);
        out.push(b'"');
        str_field(out, key!("capability"), &e.capability);
        if let Some(m) = &e.model {
            str_field(out, key!("model"), m);
        }
        credits_field(out, key!("credits"), e.credits);
        int_field(out, key!("tokens_in"), e.tokens_in);
        int_field(out, key!("tokens_out"), e.tokens_out);
        if let Some(s) = &e.source {
            str_field(out, key!("source"), s);
        }
        out.push(b'}');
    }
    out.push(b'}');
}

/// The credential as the one resource, and the observables.
fn write_resources_and_observables(out: &mut Vec<u8>, f: &Finding) {
    out.extend_from_slice(br#"],"resources":[{"uid":"#);
    put_str(out, &f.credential);
    str_field(out, key!("name"), &f.credential);
    out.extend_from_slice(br#","type":"API Key""#);
    if let Some(v) = &f.version {
        int_field(out, key!("modified_time"), v.updated_at);
    }
    if let Some(owner) = &f.owner {
        out.extend_from_slice(br#","owner":{"name":"#);
        put_str(out, owner);
        if owner.contains('@') {
            str_field(out, key!("email_addr"), owner);
        }
        out.push(b'}');
    }
    out.extend_from_slice(br#"}],"observables":[{"name":"evidences.actor.user.credential_uid","type_id":19,"type":"User Credential ID","value":"#);
    put_str(out, &f.credential);
    out.push(b'}');
    if let Some(p) = f.evidence.as_ref().and_then(|e| e.principal.as_ref()) {
        out.extend_from_slice(br#",{"name":"evidences.actor.user.name","type_id":4,"type":"User Name","value":"#);
        put_str(out, p);
        out.push(b'}');
    }
    if let Some(ip) = f.evidence.as_ref().and_then(|e| e.src_ip.as_ref()) {
        out.extend_from_slice(br#",{"name":"evidences.src_endpoint.ip","type_id":2,"type":"IP Address","value":"#);
        put_str(out, ip);
        out.push(b'}');
    }
}

/// `unmapped.bursar`: rule, credential, dedupe key, the figures, the source.
fn write_unmapped(out: &mut Vec<u8>, f: &Finding) {
    out.extend_from_slice(br#"],"unmapped":{"bursar":{"rule":""#);
    out.extend_from_slice(f.rule.as_str().as_bytes());
    out.push(b'"');
    str_field(out, key!("credential"), &f.credential);
    put_key(out, key!("dedupe_key"));
    out.push(b'"');
    for (i, part) in f.dedupe.iter().enumerate() {
        if i > 0 {
            out.push(b'|');
        }
        put_escaped(out, part);
    }
    out.push(b'"');
    // No figure is named like a member bursar writes itself (rules::table tests).
    f.figures.members(&mut |k, v| {
        out.push(b',');
        put_str(out, k);
        out.push(b':');
        write_figure(out, &v);
    });
    write_facts(out, f);
    if let Some(s) = &f.suppressed {
        out.extend_from_slice(br#","suppressed":{"reason":"#);
        put_str(out, &s.reason);
        out.push(b'}');
    }
    out.extend_from_slice(br#","source":{"topic":"#);
    put_str(out, &f.topic);
    int_field(out, key!("partition"), f.partition);
    put_key(out, key!("offset"));
    match f.offset {
        Some(o) => push_int(out, o),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}}}}");
}

/// A figure as serde_json writes it (strings escaped by serde_json).
fn write_figure(out: &mut Vec<u8>, v: &FigureValue<'_>) {
    // Writing into a Vec cannot fail.
    match v {
        FigureValue::Text(s) => {
            let _ = serde_json::to_writer(&mut *out, s.as_ref());
        }
        FigureValue::Int(i) => push_int(out, *i),
        FigureValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        FigureValue::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, item);
            }
            out.push(b']');
        }
    }
}

/// Appends one OCSF 1.7.0 Detection Finding as compact JSON to `out`,
/// members in a fixed order.
pub fn write_finding(f: &Finding, out: &mut Vec<u8>) {
    let uid = uid_hex(f);
    let rule = f.rule.as_str().as_bytes();
    out.extend_from_slice(br#"{"activity_id":1,"activity_name":"Create","category_uid":2,"category_name":"Findings","class_uid":2004,"class_name":"Detection Finding","type_uid":200401,"type_name":"Detection Finding: Create","severity_id":"#);
    push_int(out, f.severity);
    str_field(out, key!("severity"), severity_caption(f.severity));
    match &f.suppressed {
        None => out.extend_from_slice(br#","status_id":1,"status":"New""#),
        Some(s) => {
            out.extend_from_slice(br#","status_id":3,"status":"Suppressed""#);
            str_field(out, key!("status_detail"), &s.reason);
        }
    }
    out.extend_from_slice(br#","is_alert":true"#);
    int_field(out, key!("time"), f.time);
    out.extend_from_slice(concat!(r#","metadata":{"version":""#, ocsf_version!(), r#"","uid":""#).as_bytes());
    out.extend_from_slice(&uid);
    out.extend_from_slice(concat!(r#"","product":{"name":"bursar","vendor_name":"bursar","version":""#, env!("CARGO_PKG_VERSION"), r#""}},"finding_info":{"uid":""#).as_bytes());
    out.extend_from_slice(&uid);
    out.push(b'"');
    let info = f.rule.info();
    str_field(out, key!("title"), title(f));
    put_key(out, key!("desc"));
    write_description(out, f);
    out.extend_from_slice(br#","types":[""#);
    out.extend_from_slice(rule);
    out.extend_from_slice(br#""]"#);
    int_field(out, key!("created_time"), f.time);
    out.extend_from_slice(br#","analytic":{"uid":"bursar."#);
    out.extend_from_slice(rule);
    out.extend_from_slice(br#"","name":""#);
    out.extend_from_slice(rule);
    out.extend_from_slice(br#"","type_id":1,"type":"Rule"}"#);
    if let Some(a) = info.attacks {
        out.extend_from_slice(br#","attacks":"#);
        out.extend_from_slice(a.as_bytes());
    }
    out.push(b'}');
    write_remediation(out, f);
    out.extend_from_slice(br#","evidences":["#);
    write_evidence(out, f);
    write_resources_and_observables(out, f);
    write_unmapped(out, f);
}

/// One OCSF 1.7.0 Detection Finding as compact JSON, fields in a fixed order.
pub fn finding_json(f: &Finding) -> String {
    let mut out = Vec::with_capacity(2048);
    write_finding(f, &mut out);
    into_string(out)
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
