//! The governance rules, one file per family (README.md, rule table). Each
//! keeps its own per-credential state and emits findings through
//! [`finding::Ctx`]; [`table::RULES`] describes every rule once, and
//! [`figures::Figures`] types what each one reports.

pub mod burst;
pub mod dormancy;
pub mod figures;
pub mod finding;
pub mod ledger;
pub mod lifecycle;
pub mod remediation;
pub mod scope;
pub mod shared;
pub mod table;
pub mod tuning;

pub use figures::Figures;
pub use finding::{finding_uid, Ctx, Finding, Outputs, Rule, Suppressed};
pub use table::{RuleInfo, Severity, RULES};

/// Days remembered by once-per-day rules: the newest day seen and the one before.
pub(crate) fn keep_recent_days<T>(entries: &mut Vec<(crate::model::time::Day, T)>, newest: crate::model::time::Day) {
    entries.retain(|(d, _)| *d >= newest - 1);
}

/// Grows `v` by half its length (at least one slot) instead of doubling:
/// per-credential vectors are many and short, so slack is most of their cost.
pub(crate) fn reserve_lean<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 2).max(1));
    }
}
