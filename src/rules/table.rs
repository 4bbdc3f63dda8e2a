//! The table of rules (README.md, rule table; docs/semantics.md): each rule's
//! name, title, severity, MITRE ATT&CK mapping and figure names in one
//! descriptor. `Rule::ALL`, `Rule::as_str` and `Rule::parse` derive from it;
//! `Figures` has one variant per rule, so the compiler names every place a
//! new rule must reach.

use super::finding::Rule;

/// A rule's OCSF `severity_id`: fixed, or chosen by the rule from its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fixed(u8),
    /// `low` normally, `high` when `when` (README.md, rule table).
    Graded { low: u8, high: u8, when: &'static str },
}

/// One rule's descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    pub rule: Rule,
    /// The name in findings (`finding_info.types`, `unmapped.bursar.rule`).
    pub name: &'static str,
    /// `finding_info.title`.
    pub title: &'static str,
    pub severity: Severity,
    /// `finding_info.attacks` as a JSON array of OCSF `attack` objects, where one fits.
    pub attacks: Option<&'static str>,
    /// Members the rule writes into `unmapped.bursar`, in the order written (sorted).
    pub figure_names: &'static [&'static str],
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

const INITIAL_ACCESS: &str = concat!("[", valid_accounts!(), tactic!("TA0001", "Initial Access"), "]");

/// Every rule, in the order findings of one event are emitted (the order of `Rule`).
pub const RULES: [RuleInfo; 15] = [
    RuleInfo {
        rule: Rule::CredentialExposed,
        name: "credential.exposed",
        title: "Raw secret in usage telemetry",
        severity: Severity::Fixed(5),
        attacks: None,
        figure_names: &["redacted"],
    },
    RuleInfo {
        rule: Rule::CredentialUnmanaged,
        name: "credential.unmanaged",
        title: "Use of a credential with no entitlement",
        severity: Severity::Fixed(3),
        attacks: None,
        figure_names: &["day"],
    },
    RuleInfo {
        rule: Rule::CredentialRevoked,
        name: "credential.revoked",
        title: "Use of a revoked, suspended or expired credential",
        severity: Severity::Graded { low: 4, high: 5, when: "the credential is revoked" },
        attacks: Some(INITIAL_ACCESS),
        figure_names: &["reason", "status"],
    },
    RuleInfo {
        rule: Rule::ScopeViolation,
        name: "scope.violation",
        title: "Use outside the entitlement's scope",
        severity: Severity::Fixed(4),
        attacks: Some(concat!("[", valid_accounts!(), tactic!("TA0004", "Privilege Escalation"), "]")),
        figure_names: &["capability", "day", "model", "violated"],
    },
    RuleInfo {
        rule: Rule::ScopePrincipal,
        name: "scope.principal",
        title: "Use by a principal outside the entitlement's scope",
        severity: Severity::Fixed(4),
        attacks: Some(INITIAL_ACCESS),
        figure_names: &["allowed", "day", "principal"],
    },
    RuleInfo {
        rule: Rule::ScopeNetwork,
        name: "scope.network",
        title: "Use from a network outside the entitlement's scope",
        severity: Severity::Fixed(4),
        attacks: Some(INITIAL_ACCESS),
        figure_names: &["address", "allowed", "day", "src_ip"],
    },
    RuleInfo {
        rule: Rule::ScopeDrift,
        name: "scope.drift",
        title: "First use of a new capability or model",
        severity: Severity::Fixed(2),
        attacks: Some(INITIAL_ACCESS),
        figure_names: &["dimension", "value"],
    },
    RuleInfo {
        rule: Rule::CredentialShared,
        name: "credential.shared",
        title: "Credential shared by too many workloads or addresses",
        severity: Severity::Fixed(3),
        attacks: None,
        figure_names: &["count", "day", "dimension", "limit", "values"],
    },
    RuleInfo {
        rule: Rule::DormantReactivated,
        name: "dormant.reactivated",
        title: "Dormant credential reactivated",
        severity: Severity::Fixed(3),
        attacks: Some(concat!("[", valid_accounts!(), tactic!("TA0001", "Initial Access"), ",", valid_accounts!(), tactic!("TA0003", "Persistence"), "]")),
        figure_names: &["dormancy", "gap_days", "gap_ms", "last_activity"],
    },
    RuleInfo {
        rule: Rule::Burst,
        name: "burst",
        title: "Burst threshold breached",
        severity: Severity::Graded { low: 3, high: 4, when: "a sum reaches twice its limit" },
        attacks: Some(concat!("[", hijacking!(), tactic!("TA0040", "Impact"), "]")),
        figure_names: &["exceeded", "limit_calls", "limit_credits", "limit_tokens", "rule_index", "slice", "sum_calls", "sum_credits", "sum_tokens", "window"],
    },
    RuleInfo {
        rule: Rule::CreditsOverdraft,
        name: "credits.overdraft",
        title: "Credit overdraft",
        severity: Severity::Fixed(3),
        attacks: None,
        figure_names: &["available_at_start", "month", "overage", "used"],
    },
    RuleInfo {
        rule: Rule::CreditsThreshold,
        name: "credits.threshold",
        title: "Credit threshold reached",
        severity: Severity::Graded { low: 2, high: 3, when: "the threshold is 1 or more" },
        attacks: None,
        figure_names: &["available_at_start", "month", "threshold", "used"],
    },
    RuleInfo {
        rule: Rule::BankingDrawdown,
        name: "banking.drawdown",
        title: "Banked credit drawn down",
        severity: Severity::Fixed(3),
        attacks: None,
        figure_names: &["banked_at_start", "month", "used_banked"],
    },
    RuleInfo {
        rule: Rule::BankingAccumulation,
        name: "banking.accumulation",
        title: "Banked credit accumulating",
        severity: Severity::Fixed(2),
        attacks: None,
        figure_names: &["banked", "month", "monthly"],
    },
    RuleInfo {
        rule: Rule::DormantIdle,
        name: "dormant.idle",
        title: "Credential went dormant",
        severity: Severity::Fixed(1),
        attacks: Some(concat!("[", valid_accounts!(), tactic!("TA0003", "Persistence"), "]")),
        figure_names: &["dormancy", "due", "last_activity"],
    },
];

// The table is indexed by `Rule as usize`: entry i describes the rule of discriminant i.
const _: () = {
    let mut i = 0;
    while i < RULES.len() {
        assert!(RULES[i].rule as usize == i, "RULES is out of the order of Rule");
        i += 1;
    }
};

impl Severity {
    /// The severity of a rule that does not grade it (`low` for a graded one).
    pub const fn base(self) -> u8 {
        match self {
            Severity::Fixed(s) | Severity::Graded { low: s, .. } => s,
        }
    }

    /// `high` when `raised`, else `low` (a fixed severity whatever `raised`).
    pub const fn graded(self, raised: bool) -> u8 {
        match self {
            Severity::Fixed(s) => s,
            Severity::Graded { low, high, .. } => {
                if raised {
                    high
                } else {
                    low
                }
            }
        }
    }
}

impl Rule {
    /// Every rule, in the order findings of one event are emitted.
    pub const ALL: [Rule; 15] = {
        let mut all = [Rule::Burst; 15];
        let mut i = 0;
        while i < RULES.len() {
            all[i] = RULES[i].rule;
            i += 1;
        }
        all
    };

    /// The rule's descriptor.
    pub const fn info(self) -> &'static RuleInfo {
        &RULES[self as usize]
    }

    /// The rule name as it appears in findings (`finding_info.types`).
    pub const fn as_str(self) -> &'static str {
        self.info().name
    }

    /// The rule of a name, if there is one.
    pub fn parse(s: &str) -> Option<Rule> {
        RULES.iter().find(|r| r.name == s).map(|r| r.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_name_parses_back_to_its_rule() {
        for rule in Rule::ALL {
            assert_eq!(Rule::parse(rule.as_str()), Some(rule));
        }
        assert_eq!(Rule::parse("nope"), None);
    }

    #[test]
    fn figure_names_are_sorted_and_never_a_member_bursar_writes_itself() {
        for info in RULES {
            assert!(info.figure_names.windows(2).all(|w| w[0] < w[1]), "{}", info.name);
            for reserved in ["rule", "credential", "dedupe_key", "source", "facts", "suppressed"] {
                assert!(!info.figure_names.contains(&reserved), "{}", info.name);
            }
        }
    }
}
