//! Entitlements (README.md): who owns a credential, what it may reach, its
//! monthly credits and banking, burst limits and dormancy.

use serde::{Deserialize, Serialize};

pub use super::net::Network;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Suspended,
    Revoked,
}

/// Allowed capabilities, models and principals as `*` globs, and allowed
/// source networks. `None` is unrestricted; an empty list allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub capabilities: Option<Vec<String>>,
    pub models: Option<Vec<String>>,
    /// Globs matched against the event's `principal`.
    pub principals: Option<Vec<String>>,
    /// Networks holding the event's `src_ip`.
    pub networks: Option<Vec<Network>>,
}

impl Scope {
    /// Each dimension's allowed entries as written, under its entitlement
    /// key (capabilities, models, principals, networks); None: unrestricted.
    pub fn lists(&self) -> [(&'static str, Option<Vec<&str>>); 4] {
        fn texts(g: &Option<Vec<String>>) -> Option<Vec<&str>> {
            g.as_ref().map(|g| g.iter().map(String::as_str).collect())
        }
        let networks = self.networks.as_ref().map(|n| n.iter().map(Network::as_str).collect());
        [("capabilities", texts(&self.capabilities)), ("models", texts(&self.models)), ("principals", texts(&self.principals)), ("networks", networks)]
    }
}

/// A dimension of a scope, in the order findings name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeDimension {
    Capability,
    Model,
    Principal,
    Network,
}

impl ScopeDimension {
    pub const ALL: [ScopeDimension; 4] = [ScopeDimension::Capability, ScopeDimension::Model, ScopeDimension::Principal, ScopeDimension::Network];

    pub const fn as_str(self) -> &'static str {
        match self {
            ScopeDimension::Capability => "capability",
            ScopeDimension::Model => "model",
            ScopeDimension::Principal => "principal",
            ScopeDimension::Network => "network",
        }
    }

    pub fn parse(s: &str) -> Option<ScopeDimension> {
        ScopeDimension::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Monthly credits with banking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPlan {
    /// Micro-credits granted at each month start.
    pub monthly: i64,
    /// How many months after its own a grant stays live (0: use it or lose it).
    pub bank_months: u32,
    /// Most micro-credits carried over from earlier months; None: no cap.
    pub bank_cap: Option<i64>,
}

/// A sliding-sum burst limit: fires when a sum over `window_ms` exceeds a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstRule {
    /// Window length; a multiple of 60 ms (60 slices of whole milliseconds).
    pub window_ms: i64,
    /// Micro-credits limit.
    pub credits: Option<i64>,
    pub calls: Option<i64>,
    /// Limit on tokens_in + tokens_out.
    pub tokens: Option<i64>,
}

/// One version of a credential's entitlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlement {
    pub credential: String,
    pub owner: String,
    pub status: Status,
    pub updated_at: i64,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub scope: Scope,
    pub credits: Option<CreditPlan>,
    /// None: the configured default rules.
    pub burst: Option<Vec<BurstRule>>,
    /// None: the configured default dormancy.
    pub dormancy_ms: Option<i64>,
    /// Most distinct principals a UTC day (`credential.shared`); None: the configured default.
    pub max_principals: Option<i64>,
    /// Most distinct `src_ip` values a UTC day (`credential.shared`); None: the configured default.
    pub max_source_ips: Option<i64>,
}

/// A record of the entitlements table: a new version, or a tombstone that
/// removes every version of the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
// Not boxed: a record is read, applied and dropped one at a time.
#[allow(clippy::large_enum_variant)]
pub enum EntitlementRecord {
    Version(Entitlement),
    Tombstone { credential: String },
}

impl EntitlementRecord {
    pub fn credential(&self) -> &str {
        match self {
            EntitlementRecord::Version(e) => &e.credential,
            EntitlementRecord::Tombstone { credential } => credential,
        }
    }
}

/// Whole-string, case-sensitive glob match where only `*` is special and
/// matches any run of characters (including none).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (usize::MAX, 0usize);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = pi;
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if star != usize::MAX {
            pi = star + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// True when `value` matches one of `patterns` (None: unrestricted).
pub fn allowed(patterns: &Option<Vec<String>>, value: &str) -> bool {
    match patterns {
        None => true,
        Some(list) => list.iter().any(|p| glob_match(p, value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_strings_with_star_only() {
        assert!(glob_match("llama-*", "llama-3-70b"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("llama-*", "Llama-3"));
        assert!(!glob_match("chat", "chat2"));
        assert!(!glob_match("gpt-?", "gpt-4"));
        assert!(glob_match("gpt-?", "gpt-?"));
        assert!(!glob_match("a*b", "ac"));
    }

    #[test]
    fn an_empty_scope_list_allows_nothing() {
        assert!(allowed(&None, "x"));
        assert!(!allowed(&Some(vec![]), "x"));
    }
}
