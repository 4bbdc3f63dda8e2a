//! What to do about each rule's finding: the OCSF `remediation` object
//! (`desc`, `references`), one entry per rule (docs/semantics.md, "Why-facts
//! and remediation"). The `match` is exhaustive, so a new rule does not
//! compile until it says what an analyst should do.

use super::finding::Rule;

/// OCSF `remediation`: what to do, and public references where one fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remediation {
    pub desc: &'static str,
    pub references: &'static [&'static str],
}

/// The OWASP Non-Human Identities Top 10 (2025), whose risks NHI1 to NHI10 the descriptions name.
pub const OWASP_NHI_TOP_10: &str = "https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025/";
/// MITRE ATT&CK T1078.004, Valid Accounts: Cloud Accounts.
pub const ATTACK_CLOUD_ACCOUNTS: &str = "https://attack.mitre.org/techniques/T1078/004/";
/// MITRE ATT&CK T1496.004, Resource Hijacking: Cloud Service Hijacking.
pub const ATTACK_CLOUD_SERVICE_HIJACKING: &str = "https://attack.mitre.org/techniques/T1496/004/";

/// The remediation of a rule's findings.
pub const fn remediation(rule: Rule) -> Remediation {
    const fn r(desc: &'static str, references: &'static [&'static str]) -> Remediation {
        Remediation { desc, references }
    }
    match rule {
        Rule::CredentialExposed => r(
            "Treat the key as leaked (OWASP NHI2, Secret Leakage): rotate it now, revoke the old secret at its provider, and fix the client that put the raw secret in its telemetry so it sends the key id instead.",
            &[OWASP_NHI_TOP_10],
        ),
        Rule::CredentialUnmanaged => r(
            "Find who uses this key and either register an entitlement for it with an owner, or revoke it at its provider if nobody claims it (OWASP NHI1, Improper Offboarding).",
            &[OWASP_NHI_TOP_10],
        ),
        Rule::CredentialRevoked => r(
            "Block the key at its provider if it still works, find the caller, and move it to a valid key; if the use was legitimate, correct the entitlement's status or validity dates (OWASP NHI1, Improper Offboarding).",
            &[OWASP_NHI_TOP_10, ATTACK_CLOUD_ACCOUNTS],
        ),
        Rule::ScopeViolation => r(
            "Confirm with the owner whether the call was intended: if not, treat the key as misused and rotate it; if it was, widen the entitlement's scope deliberately rather than the key's provider permissions (OWASP NHI5, Overprivileged NHI).",
            &[OWASP_NHI_TOP_10, ATTACK_CLOUD_ACCOUNTS],
        ),
        Rule::ScopePrincipal => r(
            "Find the workload behind the principal: if it should not hold this key, rotate the key and give that workload a key of its own; if it should, add its principal to the entitlement's scope (OWASP NHI9, NHI Reuse).",
            &[OWASP_NHI_TOP_10, ATTACK_CLOUD_ACCOUNTS],
        ),
        Rule::ScopeNetwork => r(
            "Find where the call came from: a key used outside its networks may have leaked, so rotate it unless the owner confirms the new location, and then add that network to the entitlement's scope (OWASP NHI2, Secret Leakage).",
            &[OWASP_NHI_TOP_10, ATTACK_CLOUD_ACCOUNTS],
        ),
        Rule::CredentialShared => r(
            "Find the workloads or hosts that share the key and give each its own key with its own entitlement, so each can be scoped, rotated and revoked alone (OWASP NHI9, NHI Reuse).",
            &[OWASP_NHI_TOP_10],
        ),
        Rule::ScopeDrift => r(
            "Check with the owner that the new capability or model is expected; if it is, narrow the entitlement's scope to what is used, and if not, investigate the caller (OWASP NHI5, Overprivileged NHI).",
            &[OWASP_NHI_TOP_10, ATTACK_CLOUD_ACCOUNTS],
        ),
        Rule::DormantReactivated => r(
            "Confirm with the owner that the returning use is theirs; if nobody expected it, rotate the key and review the calls since it woke (OWASP NHI7, Long-Lived Secrets).",
            &[OWASP_NHI_TOP_10, ATTACK_CLOUD_ACCOUNTS],
        ),
        Rule::Burst => r(
            "Check the caller's volume against what the owner expects: throttle or suspend the key while a runaway job or a hijacked key is ruled out, then rotate it if the use is not the owner's.",
            &[ATTACK_CLOUD_SERVICE_HIJACKING],
        ),
        Rule::CreditsOverdraft => r(
            "Tell the owner the month's credits are spent: raise the monthly grant if the use is planned, or find and stop the workload that overdrew it.",
            &[],
        ),
        Rule::CreditsThreshold => r(
            "Warn the owner that the month's credits are running out, and check the use against the plan before the key overdraws.",
            &[],
        ),
        Rule::BankingDrawdown => r(
            "Review with the owner why banked credit from earlier months is being spent now: a sudden drawdown can be a hijacked key reactivating saved capacity.",
            &[ATTACK_CLOUD_SERVICE_HIJACKING],
        ),
        Rule::BankingAccumulation => r(
            "Review the carryover of this large bank with the owner: lower the monthly grant, the bank months or the bank cap so unused entitlement does not pile up.",
            &[],
        ),
        Rule::DormantIdle => r(
            "Recertify the key with its owner: revoke it if it is no longer needed, or confirm it and keep watching (OWASP NHI1, Improper Offboarding).",
            &[OWASP_NHI_TOP_10],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_says_what_to_do_in_one_or_two_sentences() {
        for rule in Rule::ALL {
            let r = remediation(rule);
            let sentences = r.desc.matches(". ").count() + 1;
            assert!(r.desc.ends_with('.') && (1..=2).contains(&sentences), "{rule:?}: {}", r.desc);
            assert!(r.desc.len() < 300, "{rule:?} is too long to act on");
            for reference in r.references {
                assert!(reference.starts_with("https://"), "{rule:?}: {reference}");
            }
        }
    }

    #[test]
    fn each_rule_has_its_own_remediation() {
        for (i, a) in Rule::ALL.iter().enumerate() {
            for b in &Rule::ALL[i + 1..] {
                assert_ne!(remediation(*a).desc, remediation(*b).desc, "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn exposed_keys_are_rotated_dormant_ones_recertified_large_banks_reviewed() {
        assert!(remediation(Rule::CredentialExposed).desc.contains("rotate"));
        assert!(remediation(Rule::CredentialExposed).references.contains(&OWASP_NHI_TOP_10));
        assert!(remediation(Rule::DormantIdle).desc.contains("Recertify"));
        assert!(remediation(Rule::BankingAccumulation).desc.contains("carryover"));
        assert!(remediation(Rule::Burst).references.contains(&ATTACK_CLOUD_SERVICE_HIJACKING));
        assert!(remediation(Rule::ScopeViolation).references.contains(&ATTACK_CLOUD_ACCOUNTS));
    }
}
