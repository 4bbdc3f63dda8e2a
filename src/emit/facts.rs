//! Why-facts (docs/semantics.md, "Why-facts and remediation"): the
//! entitlement version a finding was decided on, written as
//! `unmapped.bursar.facts`, and the OCSF `remediation` of its rule. A pure
//! function of the finding, so the same input writes the same bytes.
//!
//! `facts` is `{"entitlement": null}` when no version was in force, else
//! `entitlement` {updated_at, owner, status, valid_from?, valid_until?} and,
//! as the version sets them, `scope` {capabilities?, models?, principals?,
//! networks?} (a dimension left out is unrestricted), `burst` [{window,
//! credits?, calls?, tokens?}], `dormancy`, `max_principals`,
//! `max_source_ips` and `credits` {monthly, bank_months, bank_cap?}. What the
//! version leaves to the configuration is left out here; the rule's figures
//! carry the value the rule applied (e.g. `dormancy` of the `dormant.*` rules).

use super::json::{credits_field, int_field, key, put_key, put_str, str_field, time_field};

use crate::model::time::push_duration;
use crate::model::{Entitlement, Status};
use crate::rules::remediation::remediation;
use crate::rules::Finding;

/// The status as written in entitlements.
pub(crate) const fn status_name(s: Status) -> &'static str {
    match s {
        Status::Active => "active",
        Status::Suspended => "suspended",
        Status::Revoked => "revoked",
    }
}

/// `,"facts":{...}` for `unmapped.bursar`.
pub(crate) fn write_facts(out: &mut Vec<u8>, f: &Finding) {
    put_key(out, key!("facts"));
    let Some(v) = f.version.as_deref() else {
        out.extend_from_slice(br#"{"entitlement":null}"#);
        return;
    };
    out.extend_from_slice(br#"{"entitlement":{"updated_at":""#);
    crate::model::time::push_rfc3339(out, v.updated_at);
    out.push(b'"');
    str_field(out, key!("owner"), &v.owner);
    str_field(out, key!("status"), status_name(v.status));
    if let Some(t) = v.valid_from {
        time_field(out, key!("valid_from"), t);
    }
    if let Some(t) = v.valid_until {
        time_field(out, key!("valid_until"), t);
    }
    out.push(b'}');
    write_scope(out, v);
    if let Some(rules) = &v.burst {
        put_key(out, key!("burst"));
        out.push(b'[');
        for (i, r) in rules.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"window":""#);
            push_duration(out, r.window_ms);
            out.push(b'"');
            if let Some(c) = r.credits {
                credits_field(out, key!("credits"), c);
            }
            if let Some(c) = r.calls {
                int_field(out, key!("calls"), c);
            }
            if let Some(t) = r.tokens {
                int_field(out, key!("tokens"), t);
            }
            out.push(b'}');
        }
        out.push(b']');
    }
    if let Some(d) = v.dormancy_ms {
        put_key(out, key!("dormancy"));
        out.push(b'"');
        push_duration(out, d);
        out.push(b'"');
    }
    if let Some(n) = v.max_principals {
        int_field(out, key!("max_principals"), n);
    }
    if let Some(n) = v.max_source_ips {
        int_field(out, key!("max_source_ips"), n);
    }
    if let Some(plan) = &v.credits {
        put_key(out, key!("credits"));
        out.push(b'{');
        put_key(out, key!(first "monthly"));
        out.push(b'"');
        crate::model::credits::push(out, plan.monthly);
        out.push(b'"');
        int_field(out, key!("bank_months"), plan.bank_months);
        if let Some(cap) = plan.bank_cap {
            credits_field(out, key!("bank_cap"), cap);
        }
        out.push(b'}');
    }
    out.push(b'}');
}

/// `,"scope":{...}` with the globs as the version has them (nothing when unrestricted).
fn write_scope(out: &mut Vec<u8>, v: &Entitlement) {
    let dims = v.scope.lists();
    if dims.iter().all(|(_, d)| d.is_none()) {
        return;
    }
    put_key(out, key!("scope"));
    out.push(b'{');
    let mut first = true;
    for (name, globs) in dims {
        let Some(globs) = globs else { continue };
        if !first {
            out.push(b',');
        }
        put_str(out, name);
        out.push(b':');
        first = false;
        out.push(b'[');
        for (i, g) in globs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            put_str(out, g);
        }
        out.push(b']');
    }
    out.push(b'}');
}

/// `,"remediation":{"desc":...,"references":[...]}` (OCSF 1.7.0 Detection Finding).
pub(crate) fn write_remediation(out: &mut Vec<u8>, f: &Finding) {
    let r = remediation(f.rule);
    out.extend_from_slice(br#","remediation":{"desc":"#);
    put_str(out, r.desc);
    if !r.references.is_empty() {
        out.extend_from_slice(br#","references":["#);
        for (i, reference) in r.references.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            put_str(out, reference);
        }
        out.push(b']');
    }
    out.push(b'}');
}
