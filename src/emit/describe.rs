//! The human side of a finding: severity captions, titles, one-sentence
//! descriptions built from the rule's figures, and MITRE ATT&CK mappings.
//! Every figure is optional: a missing one drops its clause, never a `?`.

use std::borrow::Cow;

use serde_json::Value;

use super::json::{into_string, put_escaped};

use crate::engine::output::{Finding, Rule};
use crate::model::credits;

/// The OCSF caption of a `severity_id`.
pub(crate) fn severity_caption(id: u8) -> &'static str {
    match id {
        1 => "Informational",
        2 => "Low",
        3 => "Medium",
        4 => "High",
        5 => "Critical",
        6 => "Fatal",
        99 => "Other",
        _ => "Unknown",
    }
}

/// `finding_info.title` of a rule.
pub(crate) fn title(rule: Rule) -> &'static str {
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

/// A figure when it has text: None when absent, null or empty (the text of
/// an array is its items joined with `, `, see [`put_fig`]).
fn fig<'f>(f: &'f Finding, name: &str) -> Option<&'f Value> {
    let v = f.figures.get(name)?;
    let present = match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => match items.as_slice() {
            [] => false,
            [Value::String(s)] => !s.is_empty(),
            _ => true,
        },
        _ => true,
    };
    present.then_some(v)
}

/// Appends a figure as plain text, escaped for a JSON string: strings as
/// they are, arrays joined with `, `, numbers and booleans in JSON form.
fn put_fig(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::String(s) => put_escaped(out, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                match item {
                    Value::String(s) => put_escaped(out, s),
                    other => put_json_text(out, other),
                }
            }
        }
        other => put_json_text(out, other),
    }
}

/// Appends a value's JSON form, escaped for a JSON string.
fn put_json_text(out: &mut Vec<u8>, v: &Value) {
    match v {
        // Digits, signs, `.`, `e` and letters: nothing to escape.
        Value::Null | Value::Bool(_) | Value::Number(_) => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
        // Nested strings carry quotes; rare enough to go through a String.
        other => put_escaped(out, &other.to_string()),
    }
}

/// A figure's plain text as a String, for the rare figure that is not a string.
fn fig_text(v: &Value) -> String {
    let mut buf = Vec::new();
    match v {
        Value::String(s) => return s.clone(),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.extend_from_slice(b", ");
                }
                match item {
                    Value::String(s) => buf.extend_from_slice(s.as_bytes()),
                    other => buf.extend_from_slice(other.to_string().as_bytes()),
                }
            }
        }
        other => return other.to_string(),
    }
    into_string(buf)
}

/// A sentence being written into a JSON string literal.
struct Sentence<'a> {
    out: &'a mut Vec<u8>,
    f: &'a Finding,
}

impl Sentence<'_> {
    /// Literal text of this module: plain ASCII without quotes or backslashes.
    fn lit(&mut self, text: &'static str) -> &mut Self {
        debug_assert!(text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'), "{text}");
        self.out.extend_from_slice(text.as_bytes());
        self
    }

    /// Text from input, escaped.
    fn text(&mut self, text: &str) -> &mut Self {
        put_escaped(self.out, text);
        self
    }

    /// The figure's text.
    fn fig(&mut self, v: &Value) -> &mut Self {
        put_fig(self.out, v);
        self
    }

    /// `before` + the figure when it is there, else nothing.
    fn clause(&mut self, name: &str, before: &'static str) -> &mut Self {
        if let Some(v) = fig(self.f, name) {
            self.lit(before).fig(v);
        }
        self
    }

    /// The figure when it is there, else `default`.
    fn fig_or(&mut self, name: &str, default: &'static str) -> &mut Self {
        match fig(self.f, name) {
            Some(v) => self.fig(v),
            None => self.lit(default),
        }
    }

    /// `Credential <id>`.
    fn credential(&mut self) -> &mut Self {
        let c = &self.f.credential;
        self.lit("Credential ").text(c)
    }
}

/// A fraction figure (`"0.8"`) in micro-credits times 100 (a percentage).
fn percent(f: &Finding, name: &str) -> Option<i64> {
    let micros = match fig(f, name)? {
        Value::String(s) => credits::parse_decimal_string(s),
        other => credits::parse_decimal_string(&fig_text(other)),
    };
    Some(micros.ok()?.saturating_mul(100))
}

/// Appends `finding_info.desc` as a JSON string literal: one sentence on
/// what happened, from the figures, written clause by clause.
pub(crate) fn write_description(out: &mut Vec<u8>, f: &Finding) {
    out.push(b'"');
    let mut sentence = Sentence { out, f };
    let s = &mut sentence;
    match f.rule {
        Rule::Burst => burst(s),
        Rule::CreditsThreshold => {
            match fig(f, "used") {
                Some(used) => s.credential().lit(" used ").fig(used).lit(" credits").clause("month", " in "),
                None => s.credential().lit(" reached a credit threshold").clause("month", " in "),
            };
            if fig(f, "used").is_some() {
                match (percent(f, "threshold"), fig(f, "available_at_start")) {
                    (Some(p), a) => {
                        s.lit(", ");
                        credits::push(s.out, p);
                        match a {
                            Some(a) => s.lit("% or more of the ").fig(a).lit(" available at the month start"),
                            None => s.lit("% or more of its credits"),
                        };
                    }
                    (None, Some(a)) => {
                        s.lit(", a threshold of the ").fig(a).lit(" available at the month start");
                    }
                    (None, None) => {}
                }
            }
            s
        }
        Rule::CreditsOverdraft => {
            s.credential().lit(" overdrew its credits").clause("month", " in ").clause("overage", ": overage ");
            if let (Some(u), Some(a)) = (fig(f, "used"), fig(f, "available_at_start")) {
                s.lit(" (used ").fig(u).lit(" of ").fig(a).lit(" available)");
            }
            s
        }
        Rule::BankingDrawdown => match fig(f, "used_banked") {
            Some(u) => s.credential().lit(" burned ").fig(u).lit(" banked credits").clause("month", " in ").clause("banked_at_start", ", of the banked remainder at the month start of "),
            None => s.credential().lit(" drew down its banked credits").clause("month", " in "),
        },
        Rule::BankingAccumulation => s
            .credential()
            .lit(" carries ")
            .fig_or("banked", "unused")
            .lit(" banked credits into ")
            .fig_or("month", "the new month")
            .clause("monthly", ", against a monthly grant of ")
            .lit(": unused entitlement is piling up"),
        Rule::DormantReactivated => {
            s.credential().lit(" was used");
            match fig(f, "gap_days") {
                Some(d) => s.lit(" after ").fig(d).lit(" days without activity"),
                None => s.lit(" after a dormant spell"),
            };
            if let Some(t) = fig(f, "last_activity") {
                s.lit(" (last activity ").fig(t).lit(")");
            }
            s
        }
        Rule::DormantIdle => {
            s.credential().lit(" has had no activity").clause("last_activity", " since ");
            if let Some(d) = fig(f, "dormancy") {
                s.lit(" (dormancy ").fig(d).lit(")");
            }
            s.lit(": recertify it")
        }
        Rule::ScopeViolation => {
            s.credential().lit(" called");
            match (fig(f, "capability"), fig(f, "model")) {
                (Some(cap), Some(m)) => s.lit(" capability ").fig(cap).lit(" with model ").fig(m),
                (Some(cap), None) => s.lit(" capability ").fig(cap),
                (None, Some(m)) => s.lit(" model ").fig(m),
                (None, None) => s,
            };
            s.lit(" outside the scope of its entitlement");
            if let Some(d) = fig(f, "violated") {
                s.lit(" (outside: ").fig(d).lit(")");
            }
            s
        }
        Rule::ScopeDrift => match (fig(f, "dimension"), fig(f, "value")) {
            (Some(d), Some(v)) => s.credential().lit(" used the ").fig(d).lit(" ").fig(v).lit(" for the first time after its learning period"),
            _ => s.credential().lit(" used something new for the first time after its learning period"),
        },
        Rule::CredentialRevoked => match fig(f, "reason") {
            Some(r) => {
                s.credential().lit(" was used while ");
                let text = match r {
                    Value::String(t) => std::borrow::Cow::Borrowed(t.as_str()),
                    other => std::borrow::Cow::Owned(fig_text(other)),
                };
                for (i, word) in text.split('_').enumerate() {
                    if i > 0 {
                        s.lit(" ");
                    }
                    s.text(word);
                }
                s
            }
            None => s.credential().lit(" was used while not valid"),
        },
        Rule::CredentialUnmanaged => s.credential().lit(" was used").clause("day", " on ").lit(" but has no entitlement in force"),
        Rule::CredentialExposed => s.lit("A raw secret was sent as the credential id; it is redacted to ").text(&f.credential).lit(". Rotate the key"),
    };
    sentence.out.extend_from_slice(b".\"");
}

/// `sum_<dimension>` and `limit_<dimension>` of a burst dimension (static
/// for the three dimensions bursar writes).
fn dim_key(limit: bool, d: &str) -> Cow<'static, str> {
    match (limit, d) {
        (false, "credits") => "sum_credits".into(),
        (false, "calls") => "sum_calls".into(),
        (false, "tokens") => "sum_tokens".into(),
        (true, "credits") => "limit_credits".into(),
        (true, "calls") => "limit_calls".into(),
        (true, "tokens") => "limit_tokens".into(),
        (false, d) => format!("sum_{d}").into(),
        (true, d) => format!("limit_{d}").into(),
    }
}

/// The exceeded dimensions with their sums: those of `exceeded`, else
/// those among credits, calls and tokens with a sum.
fn burst_parts(f: &Finding) -> impl Iterator<Item = (&str, &Value)> {
    let listed = f.figures.get("exceeded").and_then(Value::as_array);
    let fallback = ["credits", "calls", "tokens"].into_iter().filter(move |d| listed.is_none() && f.figures.contains_key(&*dim_key(false, d)));
    listed.into_iter().flatten().filter_map(Value::as_str).chain(fallback).filter_map(move |d| Some((d, fig(f, &dim_key(false, d))?)))
}

/// The burst sentence: each exceeded dimension with its sum and limit.
fn burst<'s, 'a>(s: &'s mut Sentence<'a>) -> &'s mut Sentence<'a> {
    let f = s.f;
    if burst_parts(f).next().is_none() {
        return s.credential().lit(" exceeded a burst limit").clause("window", " over ");
    }
    s.credential().lit(" exceeded a burst limit: ");
    for (i, (d, sum)) in burst_parts(f).enumerate() {
        if i > 0 {
            s.lit("; ");
        }
        s.text(d).lit(" ").fig(sum).clause("window", " over ");
        if let Some(l) = fig(f, &dim_key(true, d)) {
            s.lit(" exceeds the limit ").fig(l);
        }
    }
    s
}

/// ATT&CK matrix version of the mappings below (the version that introduced
/// T1496.004; both sub-techniques are unchanged since).
macro_rules! attack_version {
    () => {
        "v16"
    };
}

/// The technique and sub-technique members of an OCSF `attack` object.
macro_rules! technique {
    ($t_uid:literal, $t_name:literal, $s_uid:literal, $s_name:literal) => {
        concat!(r#"{"technique":{"uid":""#, $t_uid, r#"","name":""#, $t_name, r#""},"sub_technique":{"uid":""#, $s_uid, r#"","name":""#, $s_name, r#""}"#)
    };
}

/// The tactic and version members that close an OCSF `attack` object.
macro_rules! tactic {
    ($a_uid:literal, $a_name:literal) => {
        concat!(r#","tactic":{"uid":""#, $a_uid, r#"","name":""#, $a_name, r#""},"version":""#, attack_version!(), r#""}"#)
    };
}

macro_rules! hijacking {
    () => {
        technique!("T1496", "Resource Hijacking", "T1496.004", "Cloud Service Hijacking")
    };
}

macro_rules! valid_accounts {
    () => {
        technique!("T1078", "Valid Accounts", "T1078.004", "Cloud Accounts")
    };
}

/// MITRE ATT&CK mappings where they fit (docs/semantics.md), as a JSON array
/// of OCSF `attack` objects: one per tactic the detection speaks for.
/// Written out once at compile time.
pub(crate) fn attacks(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::Burst => concat!("[", hijacking!(), tactic!("TA0040", "Impact"), "]"),
        Rule::DormantReactivated => {
            concat!("[", valid_accounts!(), tactic!("TA0001", "Initial Access"), ",", valid_accounts!(), tactic!("TA0003", "Persistence"), "]")
        }
        Rule::DormantIdle => concat!("[", valid_accounts!(), tactic!("TA0003", "Persistence"), "]"),
        Rule::CredentialRevoked | Rule::ScopeDrift => concat!("[", valid_accounts!(), tactic!("TA0001", "Initial Access"), "]"),
        Rule::ScopeViolation => concat!("[", valid_accounts!(), tactic!("TA0004", "Privilege Escalation"), "]"),
        _ => return None,
    })
}
