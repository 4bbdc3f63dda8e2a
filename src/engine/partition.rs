//! One input partition: its credentials, watermark and timer indexes, and
//! the per-record procedure of docs/semantics.md ("Order of outputs", steps 2–4).
//!
//! Credentials are interned once per partition: a dense [`CredId`] indexes a
//! slab of states, and the window and idle-timer indexes hold integers. Each
//! credential caches its entitlement versions (refreshed when the table
//! changes), so the common path hashes the credential id once per event.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::credential::CredState;
#[cfg(target_arch = "x86_64")]
use super::credential::HeapPart;
use super::dedupe::Dedupe;
use super::entitlements::{EntitlementStore, Versions};
use crate::model::Entitlement;
use crate::rules::Ctx;
use super::output::Output;
use super::windows;
use super::Stats;
use crate::config::EngineConfig;
use crate::model::time::{month_of, month_start, Month};
use crate::model::usage::Text;
use crate::model::UsageEvent;
use crate::rules::ledger::{Ledger, MonthPlan};
use crate::rules::{burst, dormancy, lifecycle, scope, shared};

/// Dense index of a credential within its partition.
pub type CredId = u32;

/// Partition-level state that is not derived from the credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMeta {
    /// Max event time of accepted, non-duplicate events.
    pub max_time: Option<i64>,
    pub watermark: Option<i64>,
    /// Month of the watermark: every month start up to it has been rolled.
    pub month: Option<Month>,
    /// Last input offset processed (-1: none).
    pub offset: i64,
    /// Changelog batches written (live mode): the stamp of the last durable one.
    pub batch: u64,
}

/// Read-only inputs of the engine shared by every partition.
pub struct Shared<'a> {
    pub config: &'a EngineConfig,
    pub store: &'a EntitlementStore,
}

/// The last scope verdict of a credential: the version, capability and
/// model it was for, and whether each reached the version's scope.
type ScopeMemo = (Arc<Entitlement>, Text, Option<Text>, [bool; 2]);

/// One credential of the partition: its name, state and bookkeeping.
#[derive(Debug, Clone)]
pub struct Cred {
    /// The credential id, inline in the slot for ids of up to 24 bytes (the
    /// outputs copy it: no shared count to update from two threads).
    pub name: Text,
    pub state: CredState,
    /// Entitlement versions as of `generation` of the store.
    versions: Option<Arc<Versions>>,
    generation: u64,
    /// The version in force over `[from, until)` of event time, as of
    /// `generation` (most events of a credential fall in one span).
    in_force: Option<(Option<Arc<Entitlement>>, i64, i64)>,
    /// The last capability and model verdict: for this version, capability and model.
    scope_memo: Option<ScopeMemo>,
    /// Instant of this credential's entry in the idle-timer index, if any.
    idle_armed: Option<i64>,
    /// Changed since the last changelog snapshot (live mode).
    pub(super) dirty: bool,
    /// Changelog slot holding the latest durable version (live mode).
    pub(super) slot: u8,
}

impl Cred {
    fn new(name: Text, persist: bool) -> Cred {
        let state = CredState { dedupe: if persist { Dedupe::persistent() } else { Dedupe::default() }, ..CredState::default() };
        Cred { name, state, versions: None, generation: u64::MAX, in_force: None, scope_memo: None, idle_armed: None, dirty: false, slot: 1 }
    }

    /// Refreshes the cached entitlement versions when the table changed.
    fn refresh(&mut self, store: &EntitlementStore) {
        if self.generation != store.generation() {
            self.versions = store.versions(&self.name).cloned();
            self.generation = store.generation();
            self.in_force = None;
        }
    }

    /// Brings the caches up to `event`: the versions, the version in force at
    /// its time, and the scope verdict of that version for the event (the
    /// capability and model globs are matched again only when the version,
    /// capability or model changed).
    fn prepare(&mut self, store: &EntitlementStore, event: &UsageEvent) -> scope::Verdict {
        self.refresh(store);
        let t = event.time;
        if !self.in_force.as_ref().is_some_and(|(_, from, until)| *from <= t && t < *until) {
            self.in_force = Some(match self.versions.as_deref() {
                Some(v) => {
                    let (version, from, until) = v.in_force_span(t);
                    (version.cloned(), from, until)
                }
                None => (None, i64::MIN, i64::MAX),
            });
        }
        let Some(Some(version)) = self.in_force.as_ref().map(|(v, _, _)| v) else { return scope::check(None, [false, false], event) };
        let reach = match &self.scope_memo {
            Some((e, capability, model, reach)) if Arc::ptr_eq(e, version) && *capability == event.capability && *model == event.model => *reach,
            _ => {
                let reach = scope::check_reach(Some(&version.scope), event);
                self.scope_memo = Some((version.clone(), event.capability.clone(), event.model.clone(), reach));
                reach
            }
        };
        scope::check(Some(&version.scope), reach, event)
    }
}

#[derive(Debug, Default)]
pub struct PartitionState {
    pub id: i32,
    pub meta: PartitionMeta,
    index: FxHashMap<Text, CredId>,
    pub(super) creds: Vec<Cred>,
    /// Window end -> credentials with an open window ending then (unsorted, may repeat).
    window_index: BTreeMap<i64, SmallVec<[CredId; 4]>>,
    window_pool: windows::WindowPool,
    /// (armed instant, credential): one entry per credential with an idle timer,
    /// at or before its due instant; re-armed lazily when it pops early.
    idle_index: BTreeSet<(i64, CredId)>,
    /// Live mode: changed credentials are listed for the changelog.
    pub(super) persist: bool,
    pub(super) dirty: Vec<CredId>,
    /// Changelog keys to delete in the next snapshot (garbage found at restore,
    /// segments dropped in the last batch once that batch is durable).
    pub(super) pending_deletes: Vec<Vec<u8>>,
}

impl PartitionState {
    pub fn new(id: i32, persist: bool) -> PartitionState {
        PartitionState { id, meta: PartitionMeta { offset: -1, ..Default::default() }, persist, ..Default::default() }
    }

    /// The credential's id: `known` when it is that credential's (an id
    /// from [`PartitionState::id_of`] a few records earlier; checked, so a
    /// stale one only costs the lookup), else interned on first sight.
    fn id_for(&mut self, credential: &str, known: Option<CredId>) -> CredId {
        match known {
            Some(id) if self.creds.get(id as usize).is_some_and(|c| *c.name == *credential) => id,
            _ => self.intern(credential),
        }
    }

    /// The credential's id, interning it on first sight.
    fn intern(&mut self, credential: &str) -> CredId {
        if let Some(&id) = self.index.get(credential) {
            return id;
        }
        self.insert(Cred::new(Text::from(credential), self.persist))
    }

    /// The id of a credential already known (None when new).
    pub fn id_of(&self, credential: &str) -> Option<CredId> {
        self.index.get(credential).copied()
    }

    /// Asks the CPU to start loading what an event of credential `id` will
    /// touch (a hint only: it changes nothing). Each stage reads pointers
    /// the one before it loaded, so a caller asks for them in order, a few
    /// records apart (see [`Prefetch`]).
    pub fn prefetch(&self, id: CredId, stage: Prefetch) {
        // Elsewhere a hint of no effect: nothing is prefetched.
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (id, stage);
        #[cfg(target_arch = "x86_64")]
        if let Some(c) = self.creds.get(id as usize) {
            // Read only once the slot is loaded (not at the `Slot` stage).
            let version = || c.in_force.as_ref().and_then(|(v, _, _)| v.as_deref());
            match stage {
                Prefetch::Slot => lines(c as *const Cred as *const u8, std::mem::size_of::<Cred>()),
                Prefetch::State => {
                    // The name, when it is longer than the slot holds inline: the
                    // record's credential is checked against it first.
                    lines(c.name.as_ptr(), 1);
                    if let Some(e) = version() {
                        lines(e as *const Entitlement as *const u8, std::mem::size_of::<Entitlement>());
                    }
                    for part in c.state.heap_parts() {
                        lines(part.0, part.1.min(PREFETCH_MAX));
                    }
                }
                Prefetch::Rules => {
                    if let Some(e) = version() {
                        let blocks = [e.burst.as_deref().and_then(HeapPart::of), e.scope.capabilities.as_deref().and_then(HeapPart::of), e.scope.models.as_deref().and_then(HeapPart::of)];
                        for part in blocks.into_iter().flatten() {
                            lines(part.0, part.1.min(PREFETCH_MAX));
                        }
                    }
                    for part in c.state.slice_parts() {
                        lines(part.0, part.1.min(PREFETCH_MAX));
                    }
                }
            }
        }
    }

    /// Adds a credential (new or restored) and returns its id.
    pub(super) fn insert(&mut self, cred: Cred) -> CredId {
        let id = self.creds.len() as CredId;
        // Grow the slab by a quarter, not double: a credential's slot is
        // hundreds of bytes, and slack would be most of the state at rest.
        if self.creds.len() == self.creds.capacity() {
            self.creds.reserve_exact(self.creds.len() / 4 + 16);
        }
        self.index.insert(Text::from(&*cred.name), id);
        self.creds.push(cred);
        id
    }

    /// A restored credential with its state and changelog slot.
    pub(super) fn restored(&self, name: &str, state: CredState, slot: u8) -> Cred {
        Cred { state, slot, ..Cred::new(Text::from(name), self.persist) }
    }

    fn touch(&mut self, id: CredId) {
        let c = &mut self.creds[id as usize];
        if self.persist && !c.dirty {
            c.dirty = true;
            self.dirty.push(id);
        }
    }

    /// Credentials in byte order of their ids, each once. Each is keyed by
    /// one integer, the first 12 bytes of its id (big-endian, so integer
    /// order is byte order) above its slot number, and these keys are
    /// sorted as plain integers; only ids sharing their first 12 bytes are
    /// then compared whole.
    fn sort_by_name<A: smallvec::Array<Item = CredId>>(&self, ids: &mut SmallVec<A>) {
        if ids.len() < 2 {
            return;
        }
        let name = |key: &u128| &self.creds[*key as CredId as usize].name;
        let mut keys: SmallVec<[u128; 32]> = ids.iter().map(|&id| name_prefix(&self.creds[id as usize].name) << 32 | u128::from(id)).collect();
        keys.sort_unstable();
        let mut run = 0;
        while run < keys.len() {
            let prefix = keys[run] >> 32;
            let len = keys[run..].iter().take_while(|k| *k >> 32 == prefix).count();
            if len > 1 {
                keys[run..run + len].sort_unstable_by(|a, b| name(a).cmp(name(b)).then(a.cmp(b)));
            }
            run += len;
        }
        // One credential, one id: repeats of an id are adjacent now.
        keys.dedup();
        ids.clear();
        ids.extend(keys.into_iter().map(|k| k as CredId));
    }

    /// The states of the partition's credentials, by id.
    pub fn credentials(&self) -> impl Iterator<Item = (&str, &CredState)> {
        self.creds.iter().map(|c| (&*c.name, &c.state))
    }

    pub fn len(&self) -> usize {
        self.creds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.creds.is_empty()
    }

    /// Steps 2–4 of docs/semantics.md for one accepted (decoded, redacted) event.
    /// `known`: the credential's id if the caller looked it up already (see [`PartitionState::id_for`]).
    pub fn process(&mut self, sh: &Shared<'_>, offset: i64, event: &UsageEvent, known: Option<CredId>, stats: &mut Stats, out: &mut Vec<Output>) {
        let cfg = sh.config;
        let wm_before = self.meta.watermark;
        let id = self.id_for(&event.credential, known);
        let month_now = self.meta.month;
        let cred = &mut self.creds[id as usize];
        // Step 2: duplicates change nothing and do not move the watermark.
        if cred.state.dedupe.is_duplicate(&event.id, event.time, wm_before, cfg.dedupe_window_ms) {
            stats.duplicates += 1;
            self.meta.offset = offset;
            return;
        }
        stats.events += 1;
        let verdict = cred.prepare(sh.store, event);
        let versions = cred.versions.as_deref();
        let key = &cred.name;
        let st = &mut cred.state;
        // Step 3: every rule, in emission order, then state.
        let version = cred.in_force.as_ref().and_then(|(v, _, _)| v.as_ref());
        let ctx = Ctx { credential: key, version, topic: &cfg.usage_topic, partition: self.id, trigger: Some((event, offset)) };
        lifecycle::evaluate(&mut st.lifecycle, version.map(|v| &**v), event, &ctx, out);
        // Learning is [first event, + learning_period); this event is the first when none was seen.
        let first = st.activity.first_seen.unwrap_or(event.time);
        let learning = event.time < first.saturating_add(cfg.learning_ms);
        let input = scope::ScopeInput { verdict, scope: version.map(|v| &v.scope), learning, drift: &cfg.drift_dimensions };
        scope::evaluate(&mut st.scope, &mut st.origin, &input, event, &ctx, out);
        let limits = [version.and_then(|v| v.max_principals).or(cfg.max_principals), version.and_then(|v| v.max_source_ips).or(cfg.max_source_ips)];
        shared::evaluate(&mut st.shared, limits, event, &ctx, out);
        let dormancy_ms = version.and_then(|v| v.dormancy_ms).unwrap_or(cfg.dormancy_ms);
        dormancy::reactivated(&mut st.activity, version.and_then(|v| v.valid_from), dormancy_ms, event, &ctx, out);
        let rules = version.and_then(|v| v.burst.as_deref()).unwrap_or(&cfg.default_burst);
        burst::evaluate(&mut st.burst, rules, event, &ctx, out);
        if version.is_some_and(|v| v.credits.is_some()) {
            let month = month_of(event.time);
            let ledger = st.ledger.get_or_insert_with(|| {
                let start = version.and_then(|v| v.valid_from).map_or(month, |vf| month.min(month_of(vf)));
                Ledger::open(start, MonthPlan::from(versions.and_then(|v| v.plan_at(month_start(start)))))
            });
            roll_to(ledger, month, versions, cfg, &ctx, out);
            ledger.book(event.credits, event.time, cfg, &ctx, out);
        }
        let window_index = &mut self.window_index;
        let late = windows::add(&mut st.windows, &mut self.window_pool, &cfg.windows_ms, wm_before, event, |end| {
            window_index.entry(end).or_default().push(id);
        });
        if late {
            stats.late_events += 1;
        }
        if let Some((due, _, _)) = dormancy::record(&mut st.activity, event.time, dormancy_ms) {
            // Lazy re-arming: an entry armed earlier than `due` re-arms when it pops.
            match cred.idle_armed {
                Some(armed) if armed <= due => {}
                armed => {
                    if let Some(armed) = armed {
                        self.idle_index.remove(&(armed, id));
                    }
                    self.idle_index.insert((due, id));
                    cred.idle_armed = Some(due);
                }
            }
        }
        // Step 4: a ledger created by a late event catches up with the partition month.
        if let (Some(pm), Some(ledger)) = (month_now, cred.state.ledger.as_mut()) {
            if ledger.month < pm {
                let version = versions.and_then(|v| v.in_force(month_start(pm)));
                let ctx = Ctx { credential: key, version, topic: &cfg.usage_topic, partition: self.id, trigger: None };
                roll_to(ledger, pm, versions, cfg, &ctx, out);
            }
        }
        self.touch(id);
        self.meta.max_time = Some(self.meta.max_time.map_or(event.time, |m| m.max(event.time)));
        self.meta.offset = offset;
        self.advance(sh, out);
    }

    /// Moves the watermark to max event time - lateness and fires, in time
    /// order, what it passes: windows closing, month roll-forwards, idle timers.
    fn advance(&mut self, sh: &Shared<'_>, out: &mut Vec<Output>) {
        let Some(max_time) = self.meta.max_time else { return };
        // The watermark never goes back. When it does not move, an idle timer
        // this record armed may still be due already (a late event, or
        // `dormancy = "0d"`): it fires now, like everything the watermark passes.
        let wm = max_time.saturating_sub(sh.config.lateness_ms).max(self.meta.watermark.unwrap_or(i64::MIN));
        if self.meta.month.is_none() {
            self.meta.month = Some(month_of(wm));
        }
        loop {
            let next_window = self.window_index.first_key_value().map(|(t, _)| *t);
            let next_month = self.meta.month.map(|m| month_start(m + 1));
            let next_idle = self.idle_index.first().map(|(t, _)| *t);
            let Some(next) = [next_window, next_month, next_idle].into_iter().flatten().min() else { break };
            if next > wm {
                break;
            }
            if next_window == Some(next) {
                self.close_windows(sh, next, out);
            }
            if next_month == Some(next) {
                self.roll_month(sh, out);
            }
            if next_idle == Some(next) {
                self.fire_idle(sh, next, out);
            }
        }
        self.meta.watermark = Some(wm);
    }

    fn close_windows(&mut self, sh: &Shared<'_>, end: i64, out: &mut Vec<Output>) {
        let smallest = smallest_window(&sh.config.windows_ms);
        let mut ids = self.window_index.remove(&end).unwrap_or_default();
        self.sort_by_name(&mut ids);
        for (k, &id) in ids.iter().enumerate() {
            // Their slots, then what the slots point to (windows, ledger),
            // are prefetched a few credentials ahead.
            for (stage, distance) in [(Prefetch::Slot, 2 * CLOSE_AHEAD), (Prefetch::State, CLOSE_AHEAD)] {
                if let Some(&next) = ids.get(k + distance) {
                    self.prefetch(next, stage);
                }
            }
            let cred = &mut self.creds[id as usize];
            if windows::close_ending(&mut cred.state.windows, &mut self.window_pool, end, &cred.name, &sh.config.windows_ms, smallest, out) {
                if let Some(ledger) = &cred.state.ledger {
                    out.push(Output::Balance(ledger.balance(&cred.name, end)));
                }
            }
            self.touch(id);
        }
    }

    fn roll_month(&mut self, sh: &Shared<'_>, out: &mut Vec<Output>) {
        let Some(month) = self.meta.month.map(|m| m + 1) else { return };
        self.meta.month = Some(month);
        let mut ids: SmallVec<[CredId; 0]> = (0..self.creds.len() as CredId).filter(|id| self.creds[*id as usize].state.ledger.as_ref().is_some_and(|l| l.month < month)).collect();
        self.sort_by_name(&mut ids);
        for id in ids {
            let cred = &mut self.creds[id as usize];
            cred.refresh(sh.store);
            let versions = cred.versions.as_deref();
            let Some(ledger) = cred.state.ledger.as_mut() else { continue };
            let version = versions.and_then(|v| v.in_force(month_start(month)));
            let ctx = Ctx { credential: &cred.name, version, topic: &sh.config.usage_topic, partition: self.id, trigger: None };
            roll_to(ledger, month, versions, sh.config, &ctx, out);
            self.touch(id);
        }
    }

    fn fire_idle(&mut self, sh: &Shared<'_>, due: i64, out: &mut Vec<Output>) {
        let mut ids: SmallVec<[CredId; 4]> = SmallVec::new();
        while let Some(&(t, id)) = self.idle_index.first() {
            if t != due {
                break;
            }
            self.idle_index.pop_first();
            ids.push(id);
        }
        self.sort_by_name(&mut ids);
        for id in ids {
            let cred = &mut self.creds[id as usize];
            cred.idle_armed = None;
            match cred.state.activity.idle_due {
                Some((actual, _, _)) if actual > due => {
                    self.idle_index.insert((actual, id));
                    cred.idle_armed = Some(actual);
                    continue;
                }
                Some(_) => {}
                None => continue,
            }
            cred.refresh(sh.store);
            let version = cred.versions.as_deref().and_then(|v| v.in_force(due));
            let ctx = Ctx { credential: &cred.name, version, topic: &sh.config.usage_topic, partition: self.id, trigger: None };
            dormancy::idle(&mut cred.state.activity, &ctx, out);
            self.touch(id);
        }
    }

    /// End of replay input: every open window closes, then each credential's final balance.
    pub fn finish(&mut self, sh: &Shared<'_>, out: &mut Vec<Output>) {
        let mut ids: SmallVec<[CredId; 0]> = (0..self.creds.len() as CredId).collect();
        self.sort_by_name(&mut ids);
        let as_of = self.meta.max_time.unwrap_or(0);
        for id in ids {
            let cred = &mut self.creds[id as usize];
            let mut open = std::mem::take(&mut cred.state.windows);
            open.sort_by_key(|w| (w.end, w.size));
            for w in open {
                let size = sh.config.windows_ms[w.size as usize];
                out.push(Output::Window(w.record(&cred.name, size)));
            }
            if let Some(ledger) = &cred.state.ledger {
                out.push(Output::Balance(ledger.balance(&cred.name, as_of)));
            }
        }
        self.window_index.clear();
    }

    /// Rebuilds the timer indexes from the credentials (after a restore).
    pub fn reindex(&mut self) {
        self.window_index.clear();
        self.idle_index.clear();
        for (id, cred) in self.creds.iter_mut().enumerate() {
            let id = id as CredId;
            for w in &cred.state.windows {
                self.window_index.entry(w.end).or_default().push(id);
            }
            cred.idle_armed = cred.state.activity.idle_due.map(|(due, _, _)| due);
            if let Some(due) = cred.idle_armed {
                self.idle_index.insert((due, id));
            }
        }
    }
}

/// The first 12 bytes of `name`, zero-padded, as a big-endian integer: for
/// two names whose prefixes differ, integer order is their byte order.
fn name_prefix(name: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = name.len().min(12);
    b[4..4 + n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(b)
}

/// Credentials between the prefetch of one whose windows close and its turn.
const CLOSE_AHEAD: usize = 4;

/// The stages of [`PartitionState::prefetch`], in the order to ask for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefetch {
    /// The credential's slot.
    Slot,
    /// What the slot points to: the blocks of its state and the version of
    /// its entitlement in force.
    State,
    /// What those point to: the version's burst rules (their first read
    /// was the longest wait of the engine thread on sparse traffic) and its
    /// capability and model lists, and the slices of each burst state.
    Rules,
}

/// Bytes of one heap block prefetched at most: a field an event reads may
/// sit past a block's first line, and the three burst states of the usual
/// entitlement take 336 bytes.
#[cfg(target_arch = "x86_64")]
const PREFETCH_MAX: usize = 384;

/// Prefetches each cache line holding some of the `len` bytes (at least
/// one) from `at`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn lines(at: *const u8, len: usize) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    let skew = at as usize & 63;
    let line = at.wrapping_sub(skew);
    let mut offset = 0;
    while offset < skew + len.max(1) {
        // SAFETY: prefetching never faults and reads nothing.
        unsafe { _mm_prefetch(line.wrapping_add(offset) as *const i8, _MM_HINT_T0) };
        offset += 64;
    }
}

fn smallest_window(sizes: &[i64]) -> usize {
    sizes.iter().enumerate().min_by_key(|(_, s)| **s).map_or(0, |(i, _)| i)
}

/// Rolls `ledger` forward month by month up to `month`.
fn roll_to(ledger: &mut Ledger, month: Month, versions: Option<&Versions>, config: &EngineConfig, ctx: &Ctx<'_>, out: &mut Vec<Output>) {
    while ledger.month < month {
        let plan = MonthPlan::from(versions.and_then(|v| v.plan_at(month_start(ledger.month + 1))));
        ledger.roll_one(plan, config.accumulation, ctx, out);
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Ids sharing long prefixes, shorter than 12 bytes, holding NUL or
        /// non-ASCII bytes, interned in any order: the prefix sort agrees
        /// with sorting the names.
        #[test]
        fn credentials_sort_in_byte_order_of_their_ids(names in prop::collection::btree_set("(key_0000000000000|k|)[\\x00a-c\u{e9}]{0,20}", 1..40).prop_map(|s| s.into_iter().collect::<Vec<String>>()).prop_shuffle(), picks in prop::collection::vec(any::<prop::sample::Index>(), 0..60)) {
            let mut p = PartitionState::new(0, false);
            let ids: Vec<CredId> = names.iter().map(|n| p.intern(n)).collect();
            let mut picked: SmallVec<[CredId; 4]> = picks.iter().map(|i| ids[i.index(ids.len())]).collect();
            let mut expected: Vec<&str> = picked.iter().map(|id| names[*id as usize].as_str()).collect();
            expected.sort_unstable();
            expected.dedup();
            p.sort_by_name(&mut picked);
            let got: Vec<&str> = picked.iter().map(|id| &*p.creds[*id as usize].name).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
