//! The governance rules, one file per family (SPEC §3). Each keeps its own
//! per-credential state and emits findings through `engine::finding::Ctx`.

pub mod burst;
pub mod dormancy;
pub mod ledger;
pub mod lifecycle;
pub mod scope;

/// Days remembered by once-per-day rules: the newest day seen and the one before.
pub(crate) fn keep_recent_days<T>(entries: &mut Vec<(crate::model::time::Day, T)>, newest: crate::model::time::Day) {
    entries.retain(|(d, _)| *d >= newest - 1);
}
