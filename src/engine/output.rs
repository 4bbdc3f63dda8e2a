//! What the engine produces: findings, window records, balance records and
//! rejected input, as typed values. Serialisation lives in `crate::emit`.

use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::time::Month;
use crate::model::usage::Text;
use crate::model::UsageEvent;

/// The governance rules (SPEC §3), in the order findings of one event are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    CredentialExposed,
    CredentialUnmanaged,
    CredentialRevoked,
    ScopeViolation,
    ScopeDrift,
    DormantReactivated,
    Burst,
    CreditsOverdraft,
    CreditsThreshold,
    BankingDrawdown,
    BankingAccumulation,
    DormantIdle,
}

impl Rule {
    pub const ALL: [Rule; 12] = [
        Rule::CredentialExposed,
        Rule::CredentialUnmanaged,
        Rule::CredentialRevoked,
        Rule::ScopeViolation,
        Rule::ScopeDrift,
        Rule::DormantReactivated,
        Rule::Burst,
        Rule::CreditsOverdraft,
        Rule::CreditsThreshold,
        Rule::BankingDrawdown,
        Rule::BankingAccumulation,
        Rule::DormantIdle,
    ];

    /// The rule name as it appears in findings (`finding_info.types`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::CredentialExposed => "credential.exposed",
            Rule::CredentialUnmanaged => "credential.unmanaged",
            Rule::CredentialRevoked => "credential.revoked",
            Rule::ScopeViolation => "scope.violation",
            Rule::ScopeDrift => "scope.drift",
            Rule::DormantReactivated => "dormant.reactivated",
            Rule::Burst => "burst",
            Rule::CreditsOverdraft => "credits.overdraft",
            Rule::CreditsThreshold => "credits.threshold",
            Rule::BankingDrawdown => "banking.drawdown",
            Rule::BankingAccumulation => "banking.accumulation",
            Rule::DormantIdle => "dormant.idle",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A governance finding, before serialisation to OCSF.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: Rule,
    /// The (redacted) credential id.
    pub credential: String,
    /// Dedupe key parts (SPEC §7.4), joined with NUL for the uid.
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
    /// Rule-specific figures for `unmapped.bursar` (credits as decimal strings).
    pub figures: Map<String, Value>,
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

/// Calls per capability, sorted by capability (a window rarely sees more than two).
pub type CapabilityCounts = smallvec::SmallVec<[(Text, u64); 2]>;

/// A closed tumbling window of one credential (docs/semantics.md, "Window and balance records").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    pub credential: Arc<str>,
    /// Window size in ms (rendered `1m`, `1h`).
    pub size_ms: i64,
    pub start: i64,
    pub end: i64,
    pub calls: u64,
    /// Micro-credits.
    pub credits: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Calls per capability, sorted by capability.
    pub capabilities: CapabilityCounts,
    pub distinct_models: u64,
}

/// A live grant in a balance record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantView {
    pub month: Month,
    pub amount: i64,
    pub remaining: i64,
    /// Month whose start is the expiry instant.
    pub expires: Month,
}

/// A credential's credit ledger at an instant (SPEC §7.5). All amounts micro-credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRecord {
    pub credential: Arc<str>,
    pub as_of: i64,
    pub month: Month,
    pub available_at_start: i64,
    pub banked_at_start: i64,
    pub used: i64,
    pub used_banked: i64,
    pub remaining: i64,
    pub overage: i64,
    pub granted_total: i64,
    pub burned_total: i64,
    pub expired_total: i64,
    pub grants: smallvec::SmallVec<[GrantView; 4]>,
}

/// The kind of a rejection (`bursar.error.kind`, SPEC §7.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectKind {
    TooLarge,
    InvalidJson,
    InvalidCloudevent,
    MissingField,
    InvalidField,
}

impl RejectKind {
    pub const ALL: [RejectKind; 5] =
        [RejectKind::TooLarge, RejectKind::InvalidJson, RejectKind::InvalidCloudevent, RejectKind::MissingField, RejectKind::InvalidField];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectKind::TooLarge => "too_large",
            RejectKind::InvalidJson => "invalid_json",
            RejectKind::InvalidCloudevent => "invalid_cloudevent",
            RejectKind::MissingField => "missing_field",
            RejectKind::InvalidField => "invalid_field",
        }
    }
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", kind.as_str())]
pub struct Rejection {
    pub kind: RejectKind,
    pub reason: String,
}

/// A record that could not be accepted, as it goes to the rejected topic:
/// the original key, value and headers with every raw secret redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    pub partition: i32,
    pub offset: i64,
    /// Physical line number in a file (from 1); None on a broker.
    pub line: Option<u64>,
    pub kind: RejectKind,
    pub reason: String,
    pub key: Option<Vec<u8>>,
    /// None for a Kafka record with a null value: it is rejected with a null value.
    pub value: Option<Vec<u8>>,
    /// In their original order; a header with a null value keeps it.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Everything the engine emits, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Finding(Box<Finding>),
    Window(WindowRecord),
    Balance(BalanceRecord),
    Rejected(RejectedRecord),
}

impl Output {
    /// The record key on its topic: the (redacted) credential.
    pub fn key(&self) -> Option<&[u8]> {
        match self {
            Output::Finding(f) => Some(f.credential.as_bytes()),
            Output::Window(w) => Some(w.credential.as_bytes()),
            Output::Balance(b) => Some(b.credential.as_bytes()),
            Output::Rejected(r) => r.key.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_sha256_of_rule_credential_and_key_parts() {
        // sha256("credential.exposed\0sha256:abc\0") computed independently.
        let uid = finding_uid(Rule::CredentialExposed, "k", &[]);
        assert_eq!(uid.len(), 32);
        let mut h = Sha256::new();
        h.update(b"burst\0k\x000\x0042");
        let expect: String = h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(finding_uid(Rule::Burst, "k", &["0".into(), "42".into()]), expect);
    }
}
