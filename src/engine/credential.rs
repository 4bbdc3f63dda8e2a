//! Everything the engine remembers about one credential on one partition.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_128;

use super::windows::OpenWindow;
use crate::rules::burst::BurstState;
use crate::rules::dormancy::Activity;
use crate::rules::ledger::Ledger;
use crate::rules::lifecycle::Lifecycle;
use crate::rules::scope::ScopeMemory;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredState {
    /// Input offset this state includes (set when snapshotted; -1 never).
    pub offset: i64,
    pub activity: Activity,
    pub dedupe: Dedupe,
    pub windows: Vec<OpenWindow>,
    pub burst: Vec<BurstState>,
    pub ledger: Option<Ledger>,
    pub scope: ScopeMemory,
    pub lifecycle: Lifecycle,
    /// (offset, event time) of the accepted events of the current changelog
    /// batch: after a restore they tell which skipped records moved the watermark.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<(i64, i64)>,
    #[serde(skip)]
    pub recent_batch: u64,
    /// The credential id (shared with the partition's indexes).
    #[serde(skip)]
    pub name: std::sync::Arc<str>,
    /// Instant of this credential's entry in the idle-timer index, if any.
    #[serde(skip)]
    pub idle_armed: Option<i64>,
}

/// Event ids remembered for duplicate detection (SPEC §4.6, §7.5), as 128-bit
/// xxh3 hashes of the id with the time of their first occurrence. A few ids
/// live in a vector scanned linearly; past `SMALL` they move to a hash map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dedupe {
    #[serde(with = "pairs")]
    ids: Ids,
    #[serde(skip)]
    prune_at: usize,
}

const SMALL: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ids {
    Small(Vec<(u128, i64)>),
    Large(FxHashMap<u128, i64>),
}

impl Default for Ids {
    fn default() -> Self {
        Ids::Small(Vec::new())
    }
}

impl Ids {
    fn get(&self, h: u128) -> Option<i64> {
        match self {
            Ids::Small(v) => v.iter().find(|(k, _)| *k == h).map(|(_, t)| *t),
            Ids::Large(m) => m.get(&h).copied(),
        }
    }

    fn insert(&mut self, h: u128, t: i64) {
        match self {
            Ids::Small(v) => match v.iter().position(|(k, _)| *k == h) {
                Some(i) => v[i].1 = t,
                None if v.len() < SMALL => {
                    crate::engine::reserve_lean(v);
                    v.push((h, t));
                }
                None => {
                    let mut m: FxHashMap<u128, i64> = v.drain(..).collect();
                    m.insert(h, t);
                    *self = Ids::Large(m);
                }
            },
            Ids::Large(m) => {
                m.insert(h, t);
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Ids::Small(v) => v.len(),
            Ids::Large(m) => m.len(),
        }
    }

    fn retain(&mut self, keep: impl Fn(i64) -> bool) {
        match self {
            Ids::Small(v) => {
                v.retain(|(_, t)| keep(*t));
                if v.capacity() > 2 * v.len() + 1 {
                    v.shrink_to_fit();
                }
            }
            Ids::Large(m) => {
                m.retain(|_, t| keep(*t));
                if m.len() <= SMALL / 2 {
                    *self = Ids::Small(m.drain().collect());
                } else if m.capacity() > 4 * m.len() {
                    m.shrink_to_fit();
                }
            }
        }
    }

    fn pairs(&self) -> Vec<(u128, i64)> {
        match self {
            Ids::Small(v) => v.clone(),
            Ids::Large(m) => m.iter().map(|(k, t)| (*k, *t)).collect(),
        }
    }
}

impl Dedupe {
    /// True when `id` is remembered (first seen at t0 with watermark < t0 + window);
    /// otherwise remembers it with `time` and returns false.
    pub fn is_duplicate(&mut self, id: &str, time: i64, watermark: Option<i64>, window: i64) -> bool {
        let remembered = |t0: i64| watermark.is_none_or(|wm| wm < t0.saturating_add(window));
        let h = xxh3_128(id.as_bytes());
        if self.ids.get(h).is_some_and(remembered) {
            return true;
        }
        self.ids.insert(h, time);
        if self.ids.len() > self.prune_at.max(3) {
            // Amortised O(1): prune when the set doubled since the last prune.
            self.ids.retain(remembered);
            self.prune_at = self.ids.len() * 2;
        }
        false
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }
}

mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Ids;

    pub fn serialize<S: Serializer>(ids: &Ids, s: S) -> Result<S::Ok, S::Error> {
        let mut v: Vec<(String, i64)> = ids.pairs().into_iter().map(|(k, t)| (format!("{k:032x}"), t)).collect();
        v.sort();
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ids, D::Error> {
        let v: Vec<(String, i64)> = Vec::deserialize(d)?;
        let mut ids = Ids::default();
        for (k, t) in v {
            ids.insert(u128::from_str_radix(&k, 16).map_err(serde::de::Error::custom)?, t);
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_forgotten_once_the_watermark_passes_its_time_plus_the_window() {
        let mut d = Dedupe::default();
        assert!(!d.is_duplicate("a", 1_000, None, 100));
        assert!(d.is_duplicate("a", 5_000, Some(1_099), 100));
        assert!(!d.is_duplicate("a", 5_000, Some(1_100), 100));
        // remembered again from its new first occurrence
        assert!(d.is_duplicate("a", 6_000, Some(5_099), 100));
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut c = CredState::default();
        c.dedupe.is_duplicate("x", 1, None, 10);
        let bytes = serde_json::to_vec(&c).unwrap();
        let back: CredState = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.dedupe.ids, c.dedupe.ids);
        let mut many = Dedupe::default();
        for i in 0..40 {
            assert!(!many.is_duplicate(&format!("id{i}"), i, None, 10));
        }
        assert!(many.is_duplicate("id3", 99, None, 10));
        let back: Dedupe = serde_json::from_slice(&serde_json::to_vec(&many).unwrap()).unwrap();
        assert_eq!(back.len(), 40);
    }
}
