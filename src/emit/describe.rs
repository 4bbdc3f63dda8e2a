//! The human side of a finding: severity captions, titles and descriptions
//! built from the rule's typed figures: a sentence on what happened, then,
//! when an entitlement version was in force, a sentence on the fact of that
//! version the rule decided on (docs/semantics.md, "Why-facts and
//! remediation"). Titles come from the table of rules (`rules::table`),
//! except `credential.revoked`, titled per reason here; ATT&CK mappings
//! come from the table. A text figure that is empty (a call without a
//! model) drops its clause, never a `?`.

use super::json::put_escaped;

use crate::model::credits;
use crate::model::time::{day_label, format_duration, month_label, push_rfc3339, MS_PER_DAY};
use crate::model::{Entitlement, Status};
use crate::rules::figures::{Dimension, Figures, Sum};
use crate::rules::Finding;

/// `finding_info.title`: the rule's, or for `credential.revoked` the reason's
/// (a key used before its validity starts is not "revoked").
pub(crate) fn title(f: &Finding) -> &'static str {
    match &f.figures {
        Figures::CredentialRevoked { reason: "revoked", .. } => "Use of a revoked credential",
        Figures::CredentialRevoked { reason: "suspended", .. } => "Use of a suspended credential",
        Figures::CredentialRevoked { reason: "expired", .. } => "Use of an expired credential",
        Figures::CredentialRevoked { reason: "not_yet_valid", .. } => "Use of a credential before its validity starts",
        _ => f.rule.info().title,
    }
}

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

/// A sentence being written into a JSON string literal.
struct Sentence<'a> {
    out: &'a mut Vec<u8>,
}

impl Sentence<'_> {
    /// Literal text of this module: plain ASCII without quotes or backslashes.
    fn lit(&mut self, text: &'static str) -> &mut Self {
        debug_assert!(text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'), "{text}");
        self.out.extend_from_slice(text.as_bytes());
        self
    }

    /// Text from input or a formatted figure, escaped.
    fn text(&mut self, text: &str) -> &mut Self {
        put_escaped(self.out, text);
        self
    }

    /// Micro-credits as a decimal.
    fn credits(&mut self, micros: i64) -> &mut Self {
        credits::push(self.out, micros);
        self
    }

    fn int(&mut self, v: i64) -> &mut Self {
        crate::model::time::push_int(self.out, v);
        self
    }

    fn month(&mut self, month: i32) -> &mut Self {
        self.text(&month_label(month))
    }

    fn time(&mut self, ms: i64) -> &mut Self {
        push_rfc3339(self.out, ms);
        self
    }

    /// `before` + `text` when `text` is not empty, else nothing.
    fn clause(&mut self, before: &'static str, text: &str) -> &mut Self {
        if !text.is_empty() {
            self.lit(before).text(text);
        }
        self
    }

    /// `before` + the items joined with `, ` + `)`, or `none)` for an empty list.
    fn list(&mut self, before: &'static str, items: &[String]) -> &mut Self {
        self.lit(before);
        if items.is_empty() {
            self.lit("none");
        }
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.lit(", ");
            }
            self.text(item);
        }
        self.lit(")")
    }

    /// `Credential <id>`.
    fn credential(&mut self, f: &Finding) -> &mut Self {
        self.lit("Credential ").text(&f.credential)
    }
}

/// Appends `finding_info.desc` as a JSON string literal: one sentence on
/// what happened, from the figures, written clause by clause.
pub(crate) fn write_description(out: &mut Vec<u8>, f: &Finding) {
    out.push(b'"');
    let mut sentence = Sentence { out };
    let s = &mut sentence;
    match &f.figures {
        Figures::Burst { window_ms, exceeded, credits, calls, tokens, .. } => burst(s, f, *window_ms, exceeded, [*credits, *calls, *tokens]),
        Figures::CreditsThreshold { month, threshold, used, available_at_start } => {
            s.credential(f).lit(" used ").credits(*used).lit(" credits in ").month(*month);
            // The percentage as the threshold's decimal text reads back.
            match credits::parse_decimal_string(&credits::format(*threshold)) {
                Ok(p) => s.lit(", ").credits(p.saturating_mul(100)).lit("% or more of the "),
                Err(_) => s.lit(", a threshold of the "),
            };
            s.credits(*available_at_start).lit(" available at the month start")
        }
        Figures::CreditsOverdraft { month, overage, used, available_at_start } => s
            .credential(f)
            .lit(" overdrew its credits in ")
            .month(*month)
            .lit(": overage ")
            .credits(*overage)
            .lit(" (used ")
            .credits(*used)
            .lit(" of ")
            .credits(*available_at_start)
            .lit(" available)"),
        Figures::BankingDrawdown { month, used_banked, banked_at_start } => s
            .credential(f)
            .lit(" burned ")
            .credits(*used_banked)
            .lit(" banked credits in ")
            .month(*month)
            .lit(", of the banked remainder at the month start of ")
            .credits(*banked_at_start),
        Figures::BankingAccumulation { month, banked, monthly } => s
            .credential(f)
            .lit(" carries ")
            .credits(*banked)
            .lit(" banked credits into ")
            .month(*month)
            .lit(", against a monthly grant of ")
            .credits(*monthly)
            .lit(": unused entitlement is piling up"),
        Figures::DormantReactivated { last_activity, gap_ms, .. } => s
            .credential(f)
            .lit(" was used after ")
            .int(gap_ms.div_euclid(MS_PER_DAY))
            .lit(" days without activity (last activity ")
            .time(*last_activity)
            .lit(")"),
        Figures::DormantIdle { last_activity, dormancy_ms, .. } => s
            .credential(f)
            .lit(" has had no activity since ")
            .time(*last_activity)
            .lit(" (dormancy ")
            .text(&format_duration(*dormancy_ms))
            .lit("): recertify it"),
        Figures::ScopeViolation { capability, model, violated, .. } => {
            s.credential(f).lit(" called");
            match (capability.is_empty(), model.is_empty()) {
                (false, false) => s.lit(" capability ").text(capability).lit(" with model ").text(model),
                (false, true) => s.lit(" capability ").text(capability),
                (true, false) => s.lit(" model ").text(model),
                (true, true) => s,
            };
            s.lit(" outside the scope of its entitlement");
            if !violated.is_empty() {
                s.lit(" (outside: ").text(&violated.join(", ")).lit(")");
            }
            s
        }
        Figures::ScopePrincipal { principal, allowed, .. } => {
            s.credential(f).lit(" was used by principal ").text(principal).lit(", which the scope of its entitlement does not allow");
            s.list(" (allowed principals: ", allowed).lit(": confirm this workload should hold the key, then give it a key of its own or widen the scope")
        }
        Figures::ScopeNetwork { src_ip, address, allowed, .. } => {
            s.credential(f).lit(" was used from ").text(src_ip);
            if *address {
                s.lit(", outside the networks of its entitlement");
            } else {
                s.lit(", which is not an IP address and so lies outside the networks of its entitlement");
            }
            s.list(" (allowed networks: ", allowed).lit(": check where the call came from and rotate the key if it was not expected")
        }
        Figures::CredentialShared { dimension, day, limit, count, values } => {
            s.credential(f);
            match *dimension {
                "principal" => s.lit(" was used by ").int(*count).lit(" distinct principals on "),
                _ => s.lit(" was used from ").int(*count).lit(" distinct source addresses on "),
            };
            s.text(&day_label(*day)).lit(", more than its limit of ").int(*limit);
            let first: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            s.list(" (first: ", &first).lit(": find who shares the key and give each workload a key of its own")
        }
        Figures::ScopeDrift { dimension, value } if !dimension.is_empty() && !value.is_empty() => {
            s.credential(f).lit(" used the ").text(dimension).lit(" ").text(value).lit(" for the first time after its learning period")
        }
        Figures::ScopeDrift { .. } => s.credential(f).lit(" used something new for the first time after its learning period"),
        Figures::CredentialRevoked { reason, .. } if !reason.is_empty() => {
            s.credential(f).lit(" was used while ");
            for (i, word) in reason.split('_').enumerate() {
                if i > 0 {
                    s.lit(" ");
                }
                s.text(word);
            }
            s
        }
        Figures::CredentialRevoked { .. } => s.credential(f).lit(" was used while not valid"),
        Figures::CredentialUnmanaged { day } => s.credential(f).lit(" was used").clause(" on ", &day_label(*day)).lit(" but has no entitlement in force"),
        Figures::CredentialExposed => s.lit("A raw secret was sent as the credential id; it is redacted to ").text(&f.credential).lit(". Rotate the key"),
    };
    if let Some(v) = &f.version {
        why(&mut sentence, f, v);
    }
    sentence.out.extend_from_slice(b".\"");
}

/// The second sentence: the fact of the version in force the rule decided on.
fn why(s: &mut Sentence<'_>, f: &Finding, v: &Entitlement) {
    if matches!(f.figures, Figures::CredentialExposed | Figures::CredentialUnmanaged { .. }) {
        return;
    }
    s.lit(". The entitlement in force (owner ").text(&v.owner).lit(", updated ").time(v.updated_at).lit(") ");
    match &f.figures {
        Figures::CredentialRevoked { reason: "not_yet_valid", .. } => match v.valid_from {
            Some(t) => s.lit("is valid from ").time(t),
            None => s.lit("is not yet valid"),
        },
        Figures::CredentialRevoked { reason: "expired", .. } => match v.valid_until {
            Some(t) => s.lit("expired at ").time(t),
            None => s.lit("has expired"),
        },
        Figures::CredentialRevoked { .. } => {
            s.lit("has status ").lit(super::facts::status_name(v.status));
            if v.status != Status::Active {
                s.lit(": block the key and find the caller");
            }
            s
        }
        Figures::CredentialShared { dimension, .. } => {
            let (limit, what) = match *dimension {
                "principal" => (v.max_principals, " distinct principals a day"),
                _ => (v.max_source_ips, " distinct source addresses a day"),
            };
            match limit {
                Some(n) => s.lit("allows ").int(n).lit(what),
                None => s.lit("leaves the limit of").lit(what).lit(" to the configuration"),
            }
        }
        Figures::ScopeViolation { .. } | Figures::ScopePrincipal { .. } | Figures::ScopeNetwork { .. } | Figures::ScopeDrift { .. } => {
            scope(s, v);
            if matches!(f.figures, Figures::ScopeDrift { .. }) {
                s.lit("; confirm the new use with the owner");
            }
            s
        }
        Figures::DormantReactivated { .. } | Figures::DormantIdle { .. } => {
            match v.dormancy_ms {
                Some(d) => s.lit("sets a dormancy of ").text(&format_duration(d)),
                None => s.lit("leaves the dormancy to the configuration"),
            };
            s.lit("; confirm with the owner that the key is still needed")
        }
        Figures::Burst { rule_index, .. } => match &v.burst {
            Some(rules) => s.lit("sets burst rule ").int(*rule_index as i64 + 1).lit(" of ").int(rules.len() as i64).lit("; check the volume with the owner"),
            None => s.lit("leaves burst rules to the configuration; check the volume with the owner"),
        },
        Figures::CreditsOverdraft { .. } | Figures::CreditsThreshold { .. } | Figures::BankingDrawdown { .. } | Figures::BankingAccumulation { .. } => match &v.credits {
            Some(plan) => {
                s.lit("grants ").credits(plan.monthly).lit(" credits a month, banked for ").int(plan.bank_months as i64).lit(" months");
                if let Some(cap) = plan.bank_cap {
                    s.lit(" up to ").credits(cap);
                }
                s
            }
            None => s.lit("grants no credits"),
        },
        Figures::CredentialExposed | Figures::CredentialUnmanaged { .. } => s,
    };
}

/// `allows capabilities a, b and models c` for the dimensions the version restricts.
fn scope(s: &mut Sentence<'_>, v: &Entitlement) {
    let dims = v.scope.lists();
    let restricted: Vec<_> = dims.iter().filter_map(|(n, g)| Some((*n, g.as_ref()?))).collect();
    if restricted.is_empty() {
        s.lit("sets no scope");
        return;
    }
    s.lit("allows ");
    for (i, (name, globs)) in restricted.iter().enumerate() {
        if i > 0 {
            s.lit(" and ");
        }
        if globs.is_empty() {
            s.lit("no ").lit(name);
            continue;
        }
        s.lit(name).lit(" ");
        for (j, g) in globs.iter().enumerate() {
            if j > 0 {
                s.lit(", ");
            }
            s.text(g);
        }
    }
}

/// The burst sentence: each exceeded dimension with its sum and limit
/// (`sums` in the order of `Dimension::ALL`).
fn burst<'s, 'a>(s: &'s mut Sentence<'a>, f: &Finding, window_ms: i64, exceeded: &[Dimension], sums: [Option<Sum>; 3]) -> &'s mut Sentence<'a> {
    let window = format_duration(window_ms);
    let parts = || exceeded.iter().filter_map(|d| Some((*d, sums[*d as usize]?)));
    if parts().next().is_none() {
        return s.credential(f).lit(" exceeded a burst limit").clause(" over ", &window);
    }
    s.credential(f).lit(" exceeded a burst limit: ");
    for (i, (d, Sum { sum, limit })) in parts().enumerate() {
        if i > 0 {
            s.lit("; ");
        }
        s.lit(d.as_str()).lit(" ");
        match d {
            Dimension::Credits => s.credits(sum).clause(" over ", &window).lit(" exceeds the limit ").credits(limit),
            Dimension::Calls | Dimension::Tokens => s.int(sum).clause(" over ", &window).lit(" exceeds the limit ").int(limit),
        };
    }
    s
}
