//! Tuning and suppression as written in the config file (docs/semantics.md,
//! "Tuning and suppression"), validated into `rules::tuning::Tuning`:
//!
//! ```toml
//! [rules."scope.drift"]
//! enabled = false
//! severity = 2
//!
//! [[suppress]]
//! rule = "credential.unmanaged"
//! credential = "test-*"
//! owner = "qa@example.com"
//! until = "2026-07-01T00:00:00Z"
//! reason = "QA load-test keys, ticket SEC-123"
//! action = "mark"
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{invalid, ConfigError};
use crate::model::time::parse_rfc3339;
use crate::rules::tuning::{Action, RuleTuning, Suppression, Tuning};
use crate::rules::Rule;

/// `[rules."<rule>"]`: one rule's tuning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTuningConfig {
    /// `false` switches the rule's findings off (its state is still kept). Default true.
    pub enabled: Option<bool>,
    /// OCSF severity_id 1..=5 for every finding of the rule. Default: the rule's own.
    pub severity: Option<i64>,
}

/// `mark` (default) or `drop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionConfig {
    /// Keep the finding with OCSF `status_id` 3 (Suppressed) and the reason.
    #[default]
    Mark,
    /// Remove the finding (still counted in `bursar_findings_suppressed_total`).
    Drop,
}

/// `[[suppress]]`: findings that match every matcher given are marked or dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressConfig {
    /// A rule name. Default: any rule.
    pub rule: Option<String>,
    /// A `*` glob over the (redacted) credential id. Default: any credential.
    pub credential: Option<String>,
    /// A `*` glob over the owner of the entitlement version in force. Default: any.
    pub owner: Option<String>,
    /// An RFC 3339 event time: only findings before it match. Default: no end.
    pub until: Option<String>,
    /// Why (required): written into each marked finding.
    pub reason: Option<String>,
    /// `mark` (default) or `drop`.
    #[serde(default)]
    pub action: ActionConfig,
}

/// The rule names, for messages.
fn rule_names() -> String {
    Rule::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

fn parse_rule(key: &str, name: &str) -> Result<Rule, ConfigError> {
    Rule::parse(name).ok_or_else(|| invalid(key, name, &format!("use one of the rule names: {}", rule_names())))
}

/// Validates `[rules.*]` and `[[suppress]]` into the engine's [`Tuning`].
pub fn tuning(rules: &BTreeMap<String, RuleTuningConfig>, suppress: &[SuppressConfig]) -> Result<Tuning, ConfigError> {
    let mut t = Tuning::default();
    for (name, r) in rules {
        let rule = parse_rule(&format!("rules.\"{name}\""), name)?;
        let mut tuned = RuleTuning { enabled: r.enabled.unwrap_or(true), severity: None };
        if let Some(s) = r.severity {
            if !(1..=5).contains(&s) {
                return Err(invalid(&format!("rules.\"{name}\".severity"), s, "use an OCSF severity_id from 1 (Informational) to 5 (Critical)"));
            }
            tuned.severity = Some(s as u8);
        }
        t.rules[rule as usize] = tuned;
    }
    for (i, s) in suppress.iter().enumerate() {
        let key = |field: &str| format!("suppress[{i}].{field}");
        let rule = s.rule.as_deref().map(|name| parse_rule(&key("rule"), name)).transpose()?;
        if rule.is_none() && s.credential.is_none() && s.owner.is_none() {
            return Err(ConfigError::Missing { key: format!("suppress[{i}]"), fix: "set at least one of rule, credential, owner (an entry matching every finding is refused)".into() });
        }
        for (field, glob) in [("credential", &s.credential), ("owner", &s.owner)] {
            if glob.as_deref() == Some("") {
                return Err(invalid(&key(field), "", "use a non-empty `*` glob, e.g. \"test-*\", or leave it out"));
            }
        }
        let until = match &s.until {
            Some(u) => Some(parse_rfc3339(u).map_err(|_| invalid(&key("until"), u, "write an RFC 3339 event time, e.g. \"2026-07-01T00:00:00Z\""))?),
            None => None,
        };
        let reason = match s.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r,
            _ => return Err(ConfigError::Missing { key: key("reason"), fix: "say why these findings are suppressed, e.g. reason = \"QA load-test keys, ticket SEC-123\"".into() }),
        };
        let action = match s.action {
            ActionConfig::Mark => Action::Mark,
            ActionConfig::Drop => Action::Drop,
        };
        t.suppress.push(Suppression { rule, credential: s.credential.clone(), owner: s.owner.clone(), until, reason: reason.into(), action });
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::tuning::Action;
    use crate::rules::Rule;

    fn error(text: &str) -> String {
        Config::parse(text).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn the_documented_example_parses_into_the_engines_tuning() {
        let c = Config::parse(
            "[rules.\"scope.drift\"]\nenabled = false\n[rules.burst]\nseverity = 5\n\
             [[suppress]]\nrule = \"credential.unmanaged\"\ncredential = \"test-*\"\nuntil = \"2026-07-01T00:00:00Z\"\nreason = \"QA keys\"\naction = \"drop\"\n\
             [[suppress]]\nowner = \"qa@*\"\nreason = \"QA team\"\n",
        )
        .expect("valid");
        let t = c.engine().expect("valid").tuning;
        assert!(!t.rules[Rule::ScopeDrift as usize].enabled);
        assert_eq!(t.rules[Rule::Burst as usize].severity, Some(5));
        assert_eq!(t.suppress.len(), 2);
        assert_eq!((t.suppress[0].rule, t.suppress[0].action, t.suppress[0].until), (Some(Rule::CredentialUnmanaged), Action::Drop, Some(1_782_864_000_000)));
        assert_eq!((t.suppress[1].owner.as_deref(), t.suppress[1].action), (Some("qa@*"), Action::Mark));
        assert!(Config::default().engine().expect("valid").tuning.is_identity());
    }

    #[test]
    fn an_unknown_rule_is_refused_with_the_valid_names() {
        let e = error("[rules.\"scope.drfit\"]\nenabled = false\n");
        assert!(e.contains("rules.\"scope.drfit\"") && e.contains("scope.drift") && e.contains("credential.exposed"), "{e}");
        let e = error("[[suppress]]\nrule = \"nope\"\nreason = \"r\"\n");
        assert!(e.contains("suppress[0].rule") && e.contains("burst"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key_and_the_fix() {
        for (text, key, fix) in [
            ("[rules.burst]\nseverity = 9\n", "rules.\"burst\".severity", "1 (Informational) to 5"),
            ("[[suppress]]\nrule = \"burst\"\n", "suppress[0].reason", "say why"),
            ("[[suppress]]\nrule = \"burst\"\nreason = \"  \"\n", "suppress[0].reason", "say why"),
            ("[[suppress]]\nreason = \"r\"\n", "suppress[0]", "at least one of rule, credential, owner"),
            ("[[suppress]]\ncredential = \"\"\nreason = \"r\"\n", "suppress[0].credential", "non-empty"),
            ("[[suppress]]\nrule = \"burst\"\nreason = \"r\"\nuntil = \"tomorrow\"\n", "suppress[0].until", "RFC 3339"),
        ] {
            let e = error(text);
            assert!(e.contains(key) && e.contains(fix), "{text}: {e}");
        }
    }

    #[test]
    fn unknown_keys_and_actions_are_refused() {
        assert!(error("[rules.burst]\nenable = false\n").contains("enable"));
        assert!(error("[[suppress]]\nrule = \"burst\"\nreason = \"r\"\naction = \"hide\"\n").contains("hide"));
        assert!(error("[[suppress]]\nrule = \"burst\"\nreason = \"r\"\ncredentials = \"k\"\n").contains("credentials"));
    }
}
