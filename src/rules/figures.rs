//! A finding's rule-specific figures, typed: one variant per rule with the
//! fields it reports (docs/semantics.md, findings). `emit` writes them into
//! `unmapped.bursar` through [`Figures::members`], in the order of the rule's
//! `figure_names` (sorted by name), credits as decimal strings.

use std::borrow::Cow;

use super::finding::Rule;
use crate::model::credits;
use crate::model::time::{day_label, format_duration, format_rfc3339, month_label, Day, Month, MS_PER_DAY};
use crate::model::usage::Text;

/// A dimension a burst rule limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Credits,
    Calls,
    Tokens,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [Dimension::Credits, Dimension::Calls, Dimension::Tokens];

    pub const fn as_str(self) -> &'static str {
        match self {
            Dimension::Credits => "credits",
            Dimension::Calls => "calls",
            Dimension::Tokens => "tokens",
        }
    }
}

/// A burst sum over the window and its limit (credits in micro-credits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sum {
    pub sum: i64,
    pub limit: i64,
}

/// The figures of a finding, one variant per rule. Credits are micro-credits,
/// times epoch ms, months and days as `model::time` numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Figures {
    CredentialExposed,
    CredentialUnmanaged { day: Day },
    /// `reason`: revoked, suspended, not_yet_valid or expired; `status` of the version.
    CredentialRevoked { reason: &'static str, status: &'static str },
    /// `model` is empty for a call without one; `violated` names capability and/or model.
    ScopeViolation { capability: Text, model: Text, day: Day, violated: Vec<&'static str> },
    /// `allowed`: the principal globs of the scope in force.
    ScopePrincipal { principal: Text, day: Day, allowed: Vec<String> },
    /// `src_ip` as written; `address`: it read as an address (else it lies
    /// outside every network); `allowed`: the networks of the scope in force.
    ScopeNetwork { src_ip: Text, address: bool, day: Day, allowed: Vec<String> },
    /// `dimension`: capability, model, principal or network.
    ScopeDrift { dimension: &'static str, value: Text },
    /// `dimension`: principal or source_ip; `values`: the first of the day, in order of first use (at most 10).
    CredentialShared { dimension: &'static str, day: Day, limit: i64, count: i64, values: Vec<Text> },
    /// `dormancy_ms`: the dormancy the gap reached (the version's, else the configured default).
    DormantReactivated { last_activity: i64, gap_ms: i64, dormancy_ms: i64 },
    /// A sum per dimension the rule limits.
    Burst { rule_index: u64, window_ms: i64, slice: i64, exceeded: Vec<Dimension>, credits: Option<Sum>, calls: Option<Sum>, tokens: Option<Sum> },
    CreditsOverdraft { month: Month, overage: i64, used: i64, available_at_start: i64 },
    /// `threshold`: the configured factor in micro-units (0.8 = 800000).
    CreditsThreshold { month: Month, threshold: i64, used: i64, available_at_start: i64 },
    BankingDrawdown { month: Month, used_banked: i64, banked_at_start: i64 },
    BankingAccumulation { month: Month, banked: i64, monthly: i64 },
    DormantIdle { last_activity: i64, due: i64, dormancy_ms: i64 },
}

/// One member of `unmapped.bursar` as JSON: a string, an integer, a boolean
/// or a list of strings.
#[derive(Debug, Clone, PartialEq)]
pub enum FigureValue<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    Bool(bool),
    List(Vec<&'a str>),
}

impl FigureValue<'_> {
    /// The value as serde_json would write it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FigureValue::Text(s) => s.as_ref().into(),
            FigureValue::Int(i) => (*i).into(),
            FigureValue::Bool(b) => (*b).into(),
            FigureValue::List(items) => items.iter().map(|s| serde_json::Value::from(*s)).collect(),
        }
    }
}

fn credits(micros: i64) -> FigureValue<'static> {
    FigureValue::Text(credits::format(micros).into())
}

fn text(s: String) -> FigureValue<'static> {
    FigureValue::Text(s.into())
}

impl Figures {
    /// The rule these figures belong to.
    pub const fn rule(&self) -> Rule {
        match self {
            Figures::CredentialExposed => Rule::CredentialExposed,
            Figures::CredentialUnmanaged { .. } => Rule::CredentialUnmanaged,
            Figures::CredentialRevoked { .. } => Rule::CredentialRevoked,
            Figures::ScopeViolation { .. } => Rule::ScopeViolation,
            Figures::ScopePrincipal { .. } => Rule::ScopePrincipal,
            Figures::ScopeNetwork { .. } => Rule::ScopeNetwork,
            Figures::ScopeDrift { .. } => Rule::ScopeDrift,
            Figures::CredentialShared { .. } => Rule::CredentialShared,
            Figures::DormantReactivated { .. } => Rule::DormantReactivated,
            Figures::Burst { .. } => Rule::Burst,
            Figures::CreditsOverdraft { .. } => Rule::CreditsOverdraft,
            Figures::CreditsThreshold { .. } => Rule::CreditsThreshold,
            Figures::BankingDrawdown { .. } => Rule::BankingDrawdown,
            Figures::BankingAccumulation { .. } => Rule::BankingAccumulation,
            Figures::DormantIdle { .. } => Rule::DormantIdle,
        }
    }

    /// Calls `visit` with each member, in the order of the rule's
    /// `figure_names` (sorted by name); an absent optional figure is skipped.
    pub fn members(&self, visit: &mut dyn FnMut(&'static str, FigureValue<'_>)) {
        use FigureValue::{Bool, Int, List, Text};
        match self {
            Figures::CredentialExposed => visit("redacted", Bool(true)),
            Figures::CredentialUnmanaged { day } => visit("day", text(day_label(*day))),
            Figures::CredentialRevoked { reason, status } => {
                visit("reason", Text((*reason).into()));
                visit("status", Text((*status).into()));
            }
            Figures::ScopeViolation { capability, model, day, violated } => {
                visit("capability", Text(capability.as_str().into()));
                visit("day", text(day_label(*day)));
                visit("model", Text(model.as_str().into()));
                visit("violated", List(violated.clone()));
            }
            Figures::ScopePrincipal { principal, day, allowed } => {
                visit("allowed", List(allowed.iter().map(String::as_str).collect()));
                visit("day", text(day_label(*day)));
                visit("principal", Text(principal.as_str().into()));
            }
            Figures::ScopeNetwork { src_ip, address, day, allowed } => {
                visit("address", Bool(*address));
                visit("allowed", List(allowed.iter().map(String::as_str).collect()));
                visit("day", text(day_label(*day)));
                visit("src_ip", Text(src_ip.as_str().into()));
            }
            Figures::ScopeDrift { dimension, value } => {
                visit("dimension", Text((*dimension).into()));
                visit("value", Text(value.as_str().into()));
            }
            Figures::CredentialShared { dimension, day, limit, count, values } => {
                visit("count", Int(*count));
                visit("day", text(day_label(*day)));
                visit("dimension", Text((*dimension).into()));
                visit("limit", Int(*limit));
                visit("values", List(values.iter().map(|v| v.as_str()).collect()));
            }
            Figures::DormantReactivated { last_activity, gap_ms, dormancy_ms } => {
                visit("dormancy", text(format_duration(*dormancy_ms)));
                visit("gap_days", Int(gap_ms.div_euclid(MS_PER_DAY)));
                visit("gap_ms", Int(*gap_ms));
                visit("last_activity", text(format_rfc3339(*last_activity)));
            }
            Figures::Burst { rule_index, window_ms, slice, exceeded, credits: c, calls, tokens } => {
                visit("exceeded", List(exceeded.iter().map(|d| d.as_str()).collect()));
                if let Some(s) = calls {
                    visit("limit_calls", Int(s.limit));
                }
                if let Some(s) = c {
                    visit("limit_credits", credits(s.limit));
                }
                if let Some(s) = tokens {
                    visit("limit_tokens", Int(s.limit));
                }
                visit("rule_index", Int(*rule_index as i64));
                visit("slice", Int(*slice));
                if let Some(s) = calls {
                    visit("sum_calls", Int(s.sum));
                }
                if let Some(s) = c {
                    visit("sum_credits", credits(s.sum));
                }
                if let Some(s) = tokens {
                    visit("sum_tokens", Int(s.sum));
                }
                visit("window", text(format_duration(*window_ms)));
            }
            Figures::CreditsOverdraft { month, overage, used, available_at_start } => {
                visit("available_at_start", credits(*available_at_start));
                visit("month", text(month_label(*month)));
                visit("overage", credits(*overage));
                visit("used", credits(*used));
            }
            Figures::CreditsThreshold { month, threshold, used, available_at_start } => {
                visit("available_at_start", credits(*available_at_start));
                visit("month", text(month_label(*month)));
                visit("threshold", credits(*threshold));
                visit("used", credits(*used));
            }
            Figures::BankingDrawdown { month, used_banked, banked_at_start } => {
                visit("banked_at_start", credits(*banked_at_start));
                visit("month", text(month_label(*month)));
                visit("used_banked", credits(*used_banked));
            }
            Figures::BankingAccumulation { month, banked, monthly } => {
                visit("banked", credits(*banked));
                visit("month", text(month_label(*month)));
                visit("monthly", credits(*monthly));
            }
            Figures::DormantIdle { last_activity, due, dormancy_ms } => {
                visit("dormancy", text(format_duration(*dormancy_ms)));
                visit("due", text(format_rfc3339(*due)));
                visit("last_activity", text(format_rfc3339(*last_activity)));
            }
        }
    }

    /// The members as a JSON object (for tests and tools; `emit` writes them directly).
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        self.members(&mut |k, v| {
            m.insert(k.to_string(), v.to_json());
        });
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(f: &Figures) -> Vec<&'static str> {
        let mut names = Vec::new();
        f.members(&mut |k, _| names.push(k));
        names
    }

    #[test]
    fn members_come_in_the_order_of_the_tables_figure_names() {
        let sum = Some(Sum { sum: 3, limit: 2 });
        let all = [
            Figures::CredentialExposed,
            Figures::CredentialUnmanaged { day: 1 },
            Figures::CredentialRevoked { reason: "revoked", status: "revoked" },
            Figures::ScopeViolation { capability: "c".into(), model: "m".into(), day: 1, violated: vec!["model"] },
            Figures::ScopePrincipal { principal: "p".into(), day: 1, allowed: vec!["svc-*".into()] },
            Figures::ScopeNetwork { src_ip: "10.0.0.1".into(), address: true, day: 1, allowed: vec!["192.168.0.0/16".into()] },
            Figures::ScopeDrift { dimension: "model", value: "m".into() },
            Figures::CredentialShared { dimension: "principal", day: 1, limit: 2, count: 3, values: vec!["a".into()] },
            Figures::DormantReactivated { last_activity: 0, gap_ms: 1, dormancy_ms: 1 },
            Figures::Burst { rule_index: 0, window_ms: 60_000, slice: 1, exceeded: vec![Dimension::Calls], credits: sum, calls: sum, tokens: sum },
            Figures::CreditsOverdraft { month: 1, overage: 1, used: 1, available_at_start: 1 },
            Figures::CreditsThreshold { month: 1, threshold: 1, used: 1, available_at_start: 1 },
            Figures::BankingDrawdown { month: 1, used_banked: 1, banked_at_start: 1 },
            Figures::BankingAccumulation { month: 1, banked: 1, monthly: 1 },
            Figures::DormantIdle { last_activity: 0, due: 1, dormancy_ms: 1 },
        ];
        assert_eq!(all.iter().map(Figures::rule).collect::<Vec<_>>(), Rule::ALL);
        for f in &all {
            assert_eq!(names(f), f.rule().info().figure_names, "{:?}", f.rule());
        }
    }
}
