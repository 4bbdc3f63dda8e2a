//! Duplicate detection (docs/semantics.md, "Duplicates"): the event ids a
//! credential remembers, as 128-bit xxh3 hashes of the id with the time of
//! their first occurrence, forgotten once the watermark passes that time +
//! `dedupe_window`.
//!
//! In memory one lookup table holds every remembered id. For the changelog
//! (live mode) the ids are laid out so that no record grows with the
//! credential's call rate: the first [`INLINE`] ids live in the credential's
//! own record; later ones are written once, in immutable segments of at most
//! [`SEGMENT_IDS`] ids (one per credential and batch, Kafka Streams' segmented
//! stores), and a segment is deleted when its newest id is forgotten.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_128;

/// Ids kept in the credential's own changelog record.
pub const INLINE: usize = 32;
/// Most ids in one dedupe segment record (about 50 KiB encoded, under the 64 KiB bound).
pub const SEGMENT_IDS: usize = 2048;

/// A remembered id: (hash of the id, event time of its first occurrence).
pub type IdEntry = (u128, i64);

/// A live segment: its sequence number and the newest time it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    seq: u32,
    max_time: i64,
}

/// The lookup table: most credentials remember a few ids, scanned in a
/// short vector; past [`SMALL`] they move to a hash map.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ids {
    Small(Vec<IdEntry>),
    Large(FxHashMap<u128, i64>),
}

const SMALL: usize = 16;

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

    /// Sets the time of `h` to `f(old)` (`old` None when absent).
    fn upsert(&mut self, h: u128, f: impl FnOnce(Option<i64>) -> i64) {
        match self {
            Ids::Small(v) => match v.iter().position(|(k, _)| *k == h) {
                Some(i) => v[i].1 = f(Some(v[i].1)),
                None if v.len() < SMALL => {
                    if v.len() == v.capacity() {
                        // Grown four at a time: a credential that calls every
                        // few minutes would otherwise reallocate on most calls.
                        v.reserve_exact(4);
                    }
                    v.push((h, f(None)));
                }
                None => {
                    let mut m: FxHashMap<u128, i64> = v.drain(..).collect();
                    m.insert(h, f(None));
                    *self = Ids::Large(m);
                }
            },
            Ids::Large(m) => {
                let e = m.entry(h);
                match e {
                    std::collections::hash_map::Entry::Occupied(mut o) => {
                        let t = f(Some(*o.get()));
                        o.insert(t);
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(f(None));
                    }
                }
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

    fn entries(&self) -> Vec<IdEntry> {
        match self {
            Ids::Small(v) => v.clone(),
            Ids::Large(m) => m.iter().map(|(h, t)| (*h, *t)).collect(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dedupe {
    /// Every remembered id (possibly some already forgotten, pruned lazily).
    ids: Ids,
    prune_at: usize,
    /// Live mode: the changelog layout (boxed: replays do without it).
    log: Option<Box<Layout>>,
}

/// Where the ids go in the changelog (live mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Layout {
    /// Ids held in the credential's record.
    inline: Vec<IdEntry>,
    /// Ids beyond `inline` remembered since the last snapshot: the next segments.
    open: Vec<IdEntry>,
    /// Segments written and not yet deleted, oldest first.
    segments: Vec<Segment>,
    next_seq: u32,
    /// Segments whose ids are all forgotten, to delete from the changelog.
    dropped: Vec<u32>,
}

/// The part of a [`Dedupe`] stored in the credential's own record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupeCore {
    pub inline: Vec<IdEntry>,
    /// Segments with a lower sequence number belong to this state.
    pub next_seq: u32,
}

impl Serialize for Dedupe {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The same fields as `DedupeCore`, borrowed.
        let log = self.log.as_deref();
        (log.map_or(&[][..], |l| &l.inline[..]), log.map_or(0, |l| l.next_seq)).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Dedupe {
    /// Only the core; [`Dedupe::restore_segment`] adds the segments.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let core = DedupeCore::deserialize(d)?;
        let mut dedupe = Dedupe::default();
        for (h, t) in &core.inline {
            dedupe.remember(*h, *t);
        }
        dedupe.log = Some(Box::new(Layout { inline: core.inline, next_seq: core.next_seq, ..Layout::default() }));
        Ok(dedupe)
    }
}

impl Dedupe {
    /// A dedupe memory that tracks its changelog layout (live mode).
    pub fn persistent() -> Dedupe {
        Dedupe { log: Some(Box::default()), ..Dedupe::default() }
    }

    /// Inserts or raises an entry: of two occurrences of one id the later
    /// remembered one has the greater time whenever it matters (a new
    /// occurrence is remembered only once the old one is forgotten).
    fn remember(&mut self, h: u128, t: i64) {
        self.ids.upsert(h, |old| old.map_or(t, |o| o.max(t)));
    }

    /// True when `id` is remembered (first seen at t0 with watermark < t0 + window);
    /// otherwise remembers it with `time` and returns false.
    pub fn is_duplicate(&mut self, id: &str, time: i64, watermark: Option<i64>, window: i64) -> bool {
        let remembered = |t0: i64| watermark.is_none_or(|wm| wm < t0.saturating_add(window));
        let h = xxh3_128(id.as_bytes());
        if self.ids.get(h).is_some_and(remembered) {
            return true;
        }
        self.ids.upsert(h, |_| time);
        if let Some(log) = self.log.as_deref_mut() {
            if log.inline.len() < INLINE {
                log.inline.push((h, time));
            } else {
                log.open.push((h, time));
            }
        }
        if self.ids.len() > self.prune_at.max(3) {
            // Amortised O(1): prune when the set doubled since the last prune.
            self.ids.retain(remembered);
            if let Some(log) = self.log.as_deref_mut() {
                log.inline.retain(|(_, t)| remembered(*t));
                let dropped = &mut log.dropped;
                log.segments.retain(|s| {
                    let live = remembered(s.max_time);
                    if !live {
                        dropped.push(s.seq);
                    }
                    live
                });
            }
            self.prune_at = self.ids.len() * 2;
        }
        false
    }

    /// Ids held in memory, some possibly already forgotten (pruned lazily).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The ids still remembered under `watermark`, sorted: what decides duplicates.
    pub fn remembered(&self, watermark: Option<i64>, window: i64) -> Vec<IdEntry> {
        let mut v: Vec<IdEntry> = self.ids.entries().into_iter().filter(|(_, t)| watermark.is_none_or(|wm| wm < t.saturating_add(window))).collect();
        v.sort_unstable();
        v
    }

    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// The ids remembered since the last call beyond the inline ones, as new
    /// segments `(seq, ids)` to write (live mode).
    pub fn take_new_segments(&mut self) -> Vec<(u32, Vec<IdEntry>)> {
        let Some(log) = self.log.as_deref_mut() else { return Vec::new() };
        let open = std::mem::take(&mut log.open);
        let mut out = Vec::new();
        for chunk in open.chunks(SEGMENT_IDS) {
            let seq = log.next_seq;
            log.next_seq += 1;
            let max_time = chunk.iter().map(|(_, t)| *t).max().unwrap_or(i64::MIN);
            log.segments.push(Segment { seq, max_time });
            out.push((seq, chunk.to_vec()));
        }
        out
    }

    /// Segments whose ids are all forgotten since the last call (live mode).
    pub fn take_dropped(&mut self) -> Vec<u32> {
        self.log.as_deref_mut().map(|l| std::mem::take(&mut l.dropped)).unwrap_or_default()
    }

    /// Adds a restored segment (after the core was deserialised).
    pub fn restore_segment(&mut self, seq: u32, ids: &[IdEntry]) {
        for (h, t) in ids {
            self.remember(*h, *t);
        }
        let max_time = ids.iter().map(|(_, t)| *t).max().unwrap_or(i64::MIN);
        let log = self.log.get_or_insert_with(Box::default);
        let at = log.segments.partition_point(|s| s.seq < seq);
        log.segments.insert(at, Segment { seq, max_time });
        self.prune_at = self.ids.len() * 2;
    }

    /// Where the lookup table lives, when it is a short vector (a prefetch hint).
    pub fn heap_part(&self) -> Option<super::credential::HeapPart> {
        match &self.ids {
            Ids::Small(v) => super::credential::HeapPart::of(v),
            Ids::Large(_) => None,
        }
    }

    /// Sequence numbers below this belong to the state.
    pub fn next_seq(&self) -> u32 {
        self.log.as_deref().map_or(0, |l| l.next_seq)
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
    fn ids_beyond_the_inline_ones_go_to_bounded_segments_and_restore_exactly() {
        let mut d = Dedupe::persistent();
        let n = INLINE + 2 * SEGMENT_IDS + 7;
        for i in 0..n {
            assert!(!d.is_duplicate(&format!("id{i}"), i as i64, None, 1_000_000));
        }
        let segments = d.take_new_segments();
        assert_eq!(segments.len(), 3);
        assert!(segments.iter().all(|(_, ids)| ids.len() <= SEGMENT_IDS));
        let core = postcard::to_allocvec(&d).unwrap();
        let mut back: Dedupe = postcard::from_bytes(&core).unwrap();
        for (seq, ids) in &segments {
            back.restore_segment(*seq, ids);
        }
        assert_eq!(back.len(), n);
        for i in (0..n).step_by(97) {
            assert!(back.is_duplicate(&format!("id{i}"), 0, None, 1_000_000), "id{i}");
        }
    }

    #[test]
    fn a_segment_is_dropped_once_its_newest_id_is_forgotten() {
        let mut d = Dedupe::persistent();
        for i in 0..(INLINE + 10) {
            d.is_duplicate(&format!("id{i}"), i as i64, None, 100);
        }
        let segs = d.take_new_segments();
        assert_eq!(segs.len(), 1);
        // Far later: everything is forgotten; the next inserts prune.
        for i in 0..64 {
            d.is_duplicate(&format!("late{i}"), 10_000, Some(10_000), 100);
        }
        assert_eq!(d.take_dropped(), vec![segs[0].0]);
    }
}
