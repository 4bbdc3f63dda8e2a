//! Tuning and suppression (docs/semantics.md, "Tuning and suppression"):
//! what a SIEM team changes about the findings the rules produce, applied to
//! each finding in one place (`Engine::process`) after the rules ran, so the
//! rules' state, and every uid, is the same as without tuning.
//!
//! Order: a switched-off rule's finding is dropped; else its severity is
//! overridden; then the first `[[suppress]]` entry that matches marks it
//! (OCSF `status_id` 3, Suppressed) or drops it.

use std::sync::Arc;

use super::finding::{Finding, Rule, Suppressed};
use crate::model::entitlement::glob_match;

/// What a suppression does with a matching finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep it, with OCSF `status_id` 3 (Suppressed) and the reason.
    Mark,
    /// Remove it from the output.
    Drop,
}

/// What tuning did to one finding, for `bursar_findings_suppressed_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Emitted as the rule produced it (severity possibly overridden).
    Kept,
    /// Emitted, marked suppressed.
    Marked,
    /// Removed by a `drop` suppression.
    Dropped,
    /// Removed because its rule is switched off.
    Disabled,
}

impl Outcome {
    /// Outcomes that are counted, with their metric label `action`.
    pub const COUNTED: [Outcome; 3] = [Outcome::Marked, Outcome::Dropped, Outcome::Disabled];

    /// The `action` label, or None for a finding kept as it was.
    pub const fn label(self) -> Option<&'static str> {
        match self {
            Outcome::Kept => None,
            Outcome::Marked => Some("mark"),
            Outcome::Dropped => Some("drop"),
            Outcome::Disabled => Some("disabled"),
        }
    }

    /// Index into `Outcome::COUNTED` (None for `Kept`).
    pub const fn counted_index(self) -> Option<usize> {
        match self {
            Outcome::Kept => None,
            Outcome::Marked => Some(0),
            Outcome::Dropped => Some(1),
            Outcome::Disabled => Some(2),
        }
    }

    /// True when the finding stays in the output.
    pub const fn emitted(self) -> bool {
        matches!(self, Outcome::Kept | Outcome::Marked)
    }
}

/// Per-rule settings: switched on or off, and a severity override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleTuning {
    pub enabled: bool,
    /// OCSF severity_id 1..=5 replacing the rule's own (graded or fixed).
    pub severity: Option<u8>,
}

impl Default for RuleTuning {
    fn default() -> Self {
        RuleTuning { enabled: true, severity: None }
    }
}

/// One `[[suppress]]` entry, validated: every given matcher must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub rule: Option<Rule>,
    /// `*` glob over the (redacted) credential id.
    pub credential: Option<String>,
    /// `*` glob over the owner of the version in force; a finding without one never matches.
    pub owner: Option<String>,
    /// Epoch ms: only findings whose time is before it match.
    pub until: Option<i64>,
    pub reason: Arc<str>,
    pub action: Action,
}

impl Suppression {
    /// True when every matcher the entry sets matches `f`.
    pub fn matches(&self, f: &Finding) -> bool {
        self.rule.is_none_or(|r| r == f.rule)
            && self.credential.as_deref().is_none_or(|g| glob_match(g, &f.credential))
            && self.owner.as_deref().is_none_or(|g| f.owner.as_deref().is_some_and(|o| glob_match(g, o)))
            && self.until.is_none_or(|u| f.time < u)
    }
}

/// The tuning of every rule and the suppressions, in configuration order.
/// The default changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// Indexed by `Rule as usize`.
    pub rules: [RuleTuning; Rule::ALL.len()],
    pub suppress: Vec<Suppression>,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { rules: [RuleTuning::default(); Rule::ALL.len()], suppress: Vec::new() }
    }
}

impl Tuning {
    /// True when tuning changes nothing (the engine then skips it).
    pub fn is_identity(&self) -> bool {
        self.suppress.is_empty() && self.rules.iter().all(|r| *r == RuleTuning::default())
    }

    /// Tunes one finding in place and says what became of it; a finding
    /// whose outcome is not `emitted()` must be removed by the caller.
    pub fn apply(&self, f: &mut Finding) -> Outcome {
        let tuning = self.rules[f.rule as usize];
        if !tuning.enabled {
            return Outcome::Disabled;
        }
        if let Some(severity) = tuning.severity {
            f.severity = severity;
        }
        match self.suppress.iter().find(|s| s.matches(f)) {
            None => Outcome::Kept,
            Some(s) if s.action == Action::Drop => Outcome::Dropped,
            Some(s) => {
                f.suppressed = Some(Suppressed { reason: s.reason.clone() });
                Outcome::Marked
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::figures::Figures;

    fn finding(rule: Rule, credential: &str, owner: Option<&str>, time: i64) -> Finding {
        let figures = match rule {
            Rule::CredentialUnmanaged => Figures::CredentialUnmanaged { day: 0 },
            _ => Figures::ScopeDrift { dimension: "model", value: "m".into() },
        };
        Finding {
            rule,
            credential: credential.into(),
            dedupe: vec![],
            time,
            severity: 2,
            owner: owner.map(str::to_string),
            evidence: None,
            topic: "t".into(),
            partition: 0,
            offset: None,
            figures,
            version: None,
            suppressed: None,
        }
    }

    fn suppression(action: Action) -> Suppression {
        Suppression { rule: None, credential: None, owner: None, until: None, reason: "known test key".into(), action }
    }

    #[test]
    fn default_tuning_keeps_every_finding_unchanged() {
        let t = Tuning::default();
        assert!(t.is_identity());
        let mut f = finding(Rule::ScopeDrift, "k", None, 0);
        let before = f.clone();
        assert_eq!(t.apply(&mut f), Outcome::Kept);
        assert_eq!(f, before);
    }

    #[test]
    fn a_switched_off_rule_is_removed_and_another_rule_kept() {
        let mut t = Tuning::default();
        t.rules[Rule::ScopeDrift as usize].enabled = false;
        assert_eq!(t.apply(&mut finding(Rule::ScopeDrift, "k", None, 0)), Outcome::Disabled);
        assert_eq!(t.apply(&mut finding(Rule::CredentialUnmanaged, "k", None, 0)), Outcome::Kept);
    }

    #[test]
    fn a_severity_override_replaces_the_rules_severity() {
        let mut t = Tuning::default();
        t.rules[Rule::ScopeDrift as usize].severity = Some(4);
        let mut f = finding(Rule::ScopeDrift, "k", None, 0);
        assert_eq!(t.apply(&mut f), Outcome::Kept);
        assert_eq!(f.severity, 4);
    }

    #[test]
    fn a_mark_suppression_sets_the_reason_only_on_findings_it_matches() {
        let mut t = Tuning::default();
        t.suppress.push(Suppression { credential: Some("test-*".into()), until: Some(100), ..suppression(Action::Mark) });
        let mut hit = finding(Rule::ScopeDrift, "test-1", None, 99);
        assert_eq!(t.apply(&mut hit), Outcome::Marked);
        assert_eq!(hit.suppressed.as_ref().map(|s| &*s.reason), Some("known test key"));
        let mut late = finding(Rule::ScopeDrift, "test-1", None, 100);
        assert_eq!(t.apply(&mut late), Outcome::Kept);
        assert_eq!(late.suppressed, None);
        assert_eq!(t.apply(&mut finding(Rule::ScopeDrift, "prod-1", None, 0)), Outcome::Kept);
    }

    #[test]
    fn an_owner_matcher_never_matches_a_finding_without_an_owner() {
        let mut t = Tuning::default();
        t.suppress.push(Suppression { owner: Some("qa@*".into()), rule: Some(Rule::CredentialUnmanaged), ..suppression(Action::Drop) });
        assert_eq!(t.apply(&mut finding(Rule::CredentialUnmanaged, "k", Some("qa@example.com"), 0)), Outcome::Dropped);
        assert_eq!(t.apply(&mut finding(Rule::CredentialUnmanaged, "k", None, 0)), Outcome::Kept);
        assert_eq!(t.apply(&mut finding(Rule::ScopeDrift, "k", Some("qa@example.com"), 0)), Outcome::Kept);
    }

    #[test]
    fn the_first_matching_suppression_wins() {
        let mut t = Tuning::default();
        t.suppress.push(suppression(Action::Drop));
        t.suppress.push(suppression(Action::Mark));
        assert_eq!(t.apply(&mut finding(Rule::ScopeDrift, "k", None, 0)), Outcome::Dropped);
    }
}
