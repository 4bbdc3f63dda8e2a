//! The global, versioned entitlements table (a KIP-889 style versioned store):
//! every version of every credential, ordered by `updated_at`, answering
//! "which version was in force at time t".

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::{CreditPlan, Entitlement, EntitlementRecord};

/// Every version of one credential, ordered by `updated_at`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Versions(Vec<Arc<Entitlement>>);

impl Versions {
    /// The version with the greatest `updated_at <= t`.
    pub fn in_force(&self, t: i64) -> Option<&Arc<Entitlement>> {
        self.in_force_span(t).0
    }

    /// The version in force at `t` with the instants between which it is the
    /// one in force: `[from, until)`.
    pub fn in_force_span(&self, t: i64) -> (Option<&Arc<Entitlement>>, i64, i64) {
        let n = self.0.partition_point(|v| v.updated_at <= t);
        let from = n.checked_sub(1).map_or(i64::MIN, |i| self.0[i].updated_at);
        let until = self.0.get(n).map_or(i64::MAX, |v| v.updated_at);
        (n.checked_sub(1).and_then(|i| self.0.get(i)), from, until)
    }

    /// The version in force at `t`, or else the earliest version (docs/semantics.md, "Ledger").
    pub fn in_force_or_earliest(&self, t: i64) -> Option<&Arc<Entitlement>> {
        self.in_force(t).or_else(|| self.0.first())
    }

    /// The credit plan governing instant `t` of a ledger: from the version in force
    /// (or the earliest); `None` when that version has no `credits`.
    pub fn plan_at(&self, t: i64) -> Option<CreditPlan> {
        self.in_force_or_earliest(t).and_then(|v| v.credits)
    }

}

/// The versions of a credential as seen through [`EntitlementStore::versions`]:
/// `None` when it has none (unmanaged).
pub type VersionsRef<'a> = Option<&'a Versions>;

#[derive(Debug, Default, Clone)]
pub struct EntitlementStore {
    versions: FxHashMap<String, Arc<Versions>>,
    /// Bumped by every change, so per-credential caches know when to look again.
    generation: u64,
}

impl EntitlementStore {
    /// Applies a record at the point where it is read: a version is inserted in
    /// `updated_at` order (the later read wins on equal `updated_at`); a
    /// tombstone removes every version of the credential.
    pub fn apply(&mut self, record: EntitlementRecord) {
        self.generation += 1;
        match record {
            EntitlementRecord::Tombstone { credential } => {
                self.versions.remove(&credential);
            }
            EntitlementRecord::Version(e) => {
                let list = &mut Arc::make_mut(self.versions.entry(e.credential.clone()).or_default()).0;
                match list.binary_search_by_key(&e.updated_at, |v| v.updated_at) {
                    Ok(i) => list[i] = Arc::new(e),
                    Err(i) => list.insert(i, Arc::new(e)),
                }
            }
        }
    }

    /// Every version of `credential`, shared (cheap to keep in a cache).
    pub fn versions(&self, credential: &str) -> Option<&Arc<Versions>> {
        self.versions.get(credential)
    }

    /// Changes with every record applied.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn credentials(&self) -> usize {
        self.versions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Scope, Status};

    fn version(updated_at: i64, owner: &str) -> EntitlementRecord {
        EntitlementRecord::Version(Entitlement {
            credential: "k".into(),
            owner: owner.into(),
            status: Status::Active,
            updated_at,
            valid_from: None,
            valid_until: None,
            scope: Scope::default(),
            credits: None,
            burst: None,
            dormancy_ms: None,
            max_principals: None,
            max_source_ips: None,
        })
    }

    #[test]
    fn the_version_in_force_has_the_greatest_updated_at_not_after_t() {
        let mut s = EntitlementStore::default();
        s.apply(version(200, "b"));
        s.apply(version(100, "a"));
        assert!(s.versions("k").and_then(|v| v.in_force(99)).is_none());
        assert_eq!(s.versions("k").and_then(|v| v.in_force(100)).unwrap().owner, "a");
        assert_eq!(s.versions("k").and_then(|v| v.in_force(199)).unwrap().owner, "a");
        assert_eq!(s.versions("k").and_then(|v| v.in_force(200)).unwrap().owner, "b");
        assert_eq!(s.versions("k").and_then(|v| v.in_force_or_earliest(5)).unwrap().owner, "a");
    }

    #[test]
    fn equal_updated_at_keeps_the_later_read_and_a_tombstone_removes_all() {
        let mut s = EntitlementStore::default();
        s.apply(version(100, "a"));
        s.apply(version(100, "b"));
        assert_eq!(s.versions("k").and_then(|v| v.in_force(100)).unwrap().owner, "b");
        s.apply(EntitlementRecord::Tombstone { credential: "k".into() });
        assert!(s.versions("k").and_then(|v| v.in_force(1000)).is_none());
    }
}
