//! The human side of a finding: severity captions and one-sentence
//! descriptions built from the rule's typed figures. Titles and ATT&CK
//! mappings come from the table of rules (`rules::table`). A text figure
//! that is empty (a call without a model) drops its clause, never a `?`.

use super::json::put_escaped;

use crate::model::credits;
use crate::model::time::{day_label, format_duration, month_label, push_rfc3339, MS_PER_DAY};
use crate::rules::figures::{Dimension, Figures, Sum};
use crate::rules::Finding;

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
        super::json::put_int(self.out, v);
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
        Figures::DormantReactivated { last_activity, gap_ms } => s
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
    sentence.out.extend_from_slice(b".\"");
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
