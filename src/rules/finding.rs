//! A finding as the rules produce it, and the context every rule shares
//! (credential, owner, trigger), so a rule only states its dedupe key, time
//! and figures. Serialisation lives in `crate::emit`.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::figures::Figures;
use super::ledger::BalanceRecord;
use crate::model::{Entitlement, UsageEvent};

/// The governance rules (README.md, rule table), in the order findings of
/// one event are emitted. Their descriptors are `rules::table::RULES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    CredentialExposed,
    CredentialUnmanaged,
    CredentialRevoked,
    ScopeViolation,
    ScopePrincipal,
    ScopeNetwork,
    ScopeDrift,
    CredentialShared,
    DormantReactivated,
    Burst,
    CreditsOverdraft,
    CreditsThreshold,
    BankingDrawdown,
    BankingAccumulation,
    DormantIdle,
}

/// A governance finding, before serialisation to OCSF.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Always `figures.rule()` for findings the engine builds.
    pub rule: Rule,
    /// The (redacted) credential id.
    pub credential: String,
    /// Dedupe key parts (docs/semantics.md), joined with NUL for the uid.
    pub dedupe: Vec<String>,
    /// Epoch ms: the triggering event's time, or the due instant / month start.
    pub time: i64,
    /// OCSF severity_id 1..=5.
    pub severity: u8,
    /// Owner from the entitlement version in force, when there is one.
    pub owner: Option<String>,
    /// The triggering call, when an event triggered the finding.
    pub evidence: Option<UsageEvent>,
    /// Input topic of the trigger (`EngineConfig::usage_topic`).
    pub topic: String,
    /// Input partition of the trigger (or of the timer).
    pub partition: i32,
    /// Input offset of the triggering event.
    pub offset: Option<i64>,
    /// The rule's own figures for `unmapped.bursar`.
    pub figures: Figures,
    /// The entitlement version the finding was decided on (its why-facts,
    /// docs/semantics.md "Why-facts and remediation"); None when none was in force.
    pub version: Option<Arc<Entitlement>>,
    /// Set when a `[[suppress]]` entry with `action = "mark"` matched
    /// (docs/semantics.md "Tuning and suppression").
    pub suppressed: Option<Suppressed>,
}

/// Why a finding was marked suppressed: the matching `[[suppress]]` entry's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub reason: Arc<str>,
}

impl Finding {
    /// `finding_info.uid`: first 32 hex digits of SHA-256 of rule NUL credential NUL dedupe key.
    pub fn uid(&self) -> String {
        finding_uid(self.rule, &self.credential, &self.dedupe)
    }

    /// The dedupe key parts joined with `|`, for reading.
    pub fn dedupe_key(&self) -> String {
        self.dedupe.join("|")
    }
}

/// first 32 hex digits of SHA-256 over `rule \0 credential \0 part1 \0 part2 ...`.
pub fn finding_uid(rule: Rule, credential: &str, dedupe: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_str().as_bytes());
    h.update([0u8]);
    h.update(credential.as_bytes());
    h.update([0u8]);
    for (i, part) in dedupe.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut s = String::with_capacity(32);
    for b in &digest[..16] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Where the rules put what they produce, in order: findings and the
/// ledger's balance records. The engine's output vector implements it.
pub trait Outputs {
    fn finding(&mut self, finding: Finding);
    fn balance(&mut self, balance: BalanceRecord);
}

/// Who and what a finding is about.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub credential: &'a crate::model::usage::Text,
    /// The entitlement version in force (at the event, the due instant or the
    /// month start); its owner is the finding's owner.
    pub version: Option<&'a Arc<Entitlement>>,
    pub topic: &'a str,
    pub partition: i32,
    /// The triggering event and its offset; None for timer findings.
    pub trigger: Option<(&'a UsageEvent, i64)>,
}

impl Ctx<'_> {
    /// Puts a finding with `figures` (whose variant names the rule) and the
    /// rule's base severity (README.md, rule table) into `out`.
    pub fn emit<O: Outputs + ?Sized>(&self, out: &mut O, dedupe: Vec<String>, time: i64, figures: Figures) {
        let severity = figures.rule().info().severity.base();
        self.emit_graded(out, dedupe, time, severity, figures);
    }

    /// As [`Ctx::emit`], with the severity the rule graded.
    pub fn emit_graded<O: Outputs + ?Sized>(&self, out: &mut O, dedupe: Vec<String>, time: i64, severity: u8, figures: Figures) {
        out.finding(Finding {
            rule: figures.rule(),
            credential: self.credential.to_string(),
            dedupe,
            time,
            severity,
            owner: self.version.map(|v| v.owner.clone()),
            evidence: self.trigger.map(|(e, _)| e.clone()),
            topic: self.topic.to_string(),
            partition: self.partition,
            offset: self.trigger.map(|(_, o)| o),
            figures,
            version: self.version.cloned(),
            suppressed: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_sha256_of_rule_credential_and_key_parts() {
        let uid = finding_uid(Rule::CredentialExposed, "k", &[]);
        assert_eq!(uid.len(), 32);
        let mut h = Sha256::new();
        h.update(b"burst\0k\x000\x0042");
        let expect: String = h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(finding_uid(Rule::Burst, "k", &["0".into(), "42".into()]), expect);
    }
}
