//! One input partition: its credentials, watermark and timer indexes, and
//! the per-record procedure of SPEC §7.2 (steps 2–4).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::credential::CredState;
use super::entitlements::EntitlementStore;
use super::finding::Ctx;
use super::output::Output;
use super::windows;
use super::Stats;
use crate::config::EngineConfig;
use crate::model::time::{month_of, month_start, Month};
use crate::model::UsageEvent;
use crate::rules::ledger::{Ledger, MonthPlan};
use crate::rules::{burst, dormancy, lifecycle, scope};

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
}

/// Read-only inputs of the engine shared by every partition.
pub struct Shared<'a> {
    pub config: &'a EngineConfig,
    pub store: &'a EntitlementStore,
}

#[derive(Debug, Default)]
pub struct PartitionState {
    pub id: i32,
    pub meta: PartitionMeta,
    /// Boxed: the map's slots stay small, and spare slots cost no state.
    pub creds: FxHashMap<Arc<str>, Box<CredState>>,
    /// Window end -> credentials with an open window ending then (unsorted, may repeat).
    window_index: BTreeMap<i64, Vec<Arc<str>>>,
    /// (armed instant, credential): one entry per credential with an idle timer,
    /// at or before its due instant; re-armed lazily when it pops early.
    idle_index: BTreeSet<(i64, Arc<str>)>,
    /// Credentials changed since the last changelog snapshot (live mode only).
    pub dirty: Option<BTreeSet<Arc<str>>>,
    pub batch: u64,
}

impl PartitionState {
    pub fn new(id: i32, track_dirty: bool) -> PartitionState {
        PartitionState { id, meta: PartitionMeta { offset: -1, ..Default::default() }, dirty: track_dirty.then(BTreeSet::new), ..Default::default() }
    }

    fn ensure(&mut self, credential: &str) {
        if !self.creds.contains_key(credential) {
            let k: Arc<str> = Arc::from(credential);
            self.creds.insert(k.clone(), Box::new(CredState { offset: -1, name: k, ..Default::default() }));
        }
    }

    fn touch(&mut self, key: &Arc<str>) {
        if let Some(d) = self.dirty.as_mut() {
            d.insert(key.clone());
        }
    }

    /// Steps 2–4 of SPEC §7.2 for one accepted (decoded, redacted) event.
    pub fn process(&mut self, sh: &Shared<'_>, offset: i64, event: UsageEvent, stats: &mut Stats, out: &mut Vec<Output>) {
        let cfg = sh.config;
        let wm_before = self.meta.watermark;
        let tracking = self.dirty.is_some();
        let batch = self.batch;
        let cred = match self.creds.get_mut(event.credential.as_str()) {
            Some(c) => c,
            None => {
                self.ensure(&event.credential);
                let Some(c) = self.creds.get_mut(event.credential.as_str()) else { return };
                c
            }
        };
        let key = cred.name.clone();
        if cred.offset >= offset {
            // Restored state already includes this record; it moved the watermark
            // only if it was accepted (it is then in `recent`).
            if let Some(&(_, t)) = cred.recent.iter().find(|(o, _)| *o == offset) {
                self.meta.max_time = Some(self.meta.max_time.map_or(t, |m| m.max(t)));
            }
            self.meta.offset = offset;
            self.advance(sh, out);
            return;
        }
        // Step 2: duplicates change nothing and do not move the watermark.
        if cred.dedupe.is_duplicate(&event.id, event.time, wm_before, cfg.dedupe_window_ms) {
            stats.duplicates += 1;
            self.meta.offset = offset;
            return;
        }
        stats.events += 1;
        if tracking {
            if cred.recent_batch != batch {
                cred.recent.clear();
                cred.recent_batch = batch;
            }
            cred.recent.push((offset, event.time));
        }
        // Step 3: every rule, in emission order, then state.
        let version = sh.store.in_force(&event.credential, event.time);
        let ctx = Ctx {
            credential: &key,
            owner: version.map(|v| v.owner.as_str()),
            topic: &cfg.usage_topic,
            partition: self.id,
            trigger: Some((&event, offset)),
        };
        lifecycle::evaluate(&mut cred.lifecycle, version.map(|v| &**v), &event, &ctx, out);
        // Learning is [first event, + learning_period); this event is the first when none was seen.
        let first = cred.activity.first_seen.unwrap_or(event.time);
        let learning = event.time < first.saturating_add(cfg.learning_ms);
        scope::evaluate(&mut cred.scope, version.map(|v| &v.scope), &event, learning, &ctx, out);
        let dormancy_ms = version.and_then(|v| v.dormancy_ms).unwrap_or(cfg.dormancy_ms);
        dormancy::reactivated(&mut cred.activity, version.and_then(|v| v.valid_from), dormancy_ms, &event, &ctx, out);
        let rules = version.and_then(|v| v.burst.as_deref()).unwrap_or(&cfg.default_burst);
        burst::evaluate(&mut cred.burst, rules, &event, &ctx, out);
        if version.is_some_and(|v| v.credits.is_some()) {
            let month = month_of(event.time);
            let ledger = cred.ledger.get_or_insert_with(|| {
                let start = version.and_then(|v| v.valid_from).map_or(month, |vf| month.min(month_of(vf)));
                Ledger::open(start, MonthPlan::from(sh.store.plan_at(&event.credential, month_start(start))))
            });
            roll_to(ledger, month, sh, &ctx, out);
            ledger.book(event.credits, event.time, cfg, &ctx, out);
        }
        let window_index = &mut self.window_index;
        let late = windows::add(&mut cred.windows, &cfg.windows_ms, wm_before, &event, |end| {
            window_index.entry(end).or_default().push(key.clone());
        });
        if late {
            stats.late_events += 1;
        }
        if let Some((due, _, _)) = dormancy::record(&mut cred.activity, event.time, dormancy_ms) {
            // Lazy re-arming: an entry armed earlier than `due` re-arms when it pops.
            match cred.idle_armed {
                Some(armed) if armed <= due => {}
                armed => {
                    if let Some(armed) = armed {
                        self.idle_index.remove(&(armed, key.clone()));
                    }
                    self.idle_index.insert((due, key.clone()));
                    cred.idle_armed = Some(due);
                }
            }
        }
        // Step 4: a ledger created by a late event catches up with the partition month.
        if let (Some(pm), Some(ledger)) = (self.meta.month, cred.ledger.as_mut()) {
            if ledger.month < pm {
                let version = sh.store.in_force(&key, month_start(pm));
                let ctx = Ctx { credential: &key, owner: version.map(|v| v.owner.as_str()), topic: &cfg.usage_topic, partition: self.id, trigger: None };
                roll_to(ledger, pm, sh, &ctx, out);
            }
        }
        self.touch(&key);
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
        let mut keys = self.window_index.remove(&end).unwrap_or_default();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let Some(cred) = self.creds.get_mut(&key) else { continue };
            let closed = windows::take_ending(&mut cred.windows, end);
            let balance = closed.iter().any(|w| w.size as usize == smallest);
            for w in closed {
                let size = sh.config.windows_ms[w.size as usize];
                out.push(Output::Window(w.record(&key, size)));
            }
            if balance {
                if let Some(ledger) = &cred.ledger {
                    out.push(Output::Balance(ledger.balance(&key, end)));
                }
            }
            self.touch(&key);
        }
    }

    fn roll_month(&mut self, sh: &Shared<'_>, out: &mut Vec<Output>) {
        let Some(month) = self.meta.month.map(|m| m + 1) else { return };
        self.meta.month = Some(month);
        let mut keys: Vec<Arc<str>> = self.creds.iter().filter(|(_, c)| c.ledger.as_ref().is_some_and(|l| l.month < month)).map(|(k, _)| k.clone()).collect();
        keys.sort();
        for key in keys {
            let Some(ledger) = self.creds.get_mut(&key).and_then(|c| c.ledger.as_mut()) else { continue };
            let version = sh.store.in_force(&key, month_start(month));
            let ctx = Ctx { credential: &key, owner: version.map(|v| v.owner.as_str()), topic: &sh.config.usage_topic, partition: self.id, trigger: None };
            roll_to(ledger, month, sh, &ctx, out);
            self.touch(&key);
        }
    }

    fn fire_idle(&mut self, sh: &Shared<'_>, due: i64, out: &mut Vec<Output>) {
        while let Some((t, key)) = self.idle_index.first().cloned() {
            if t != due {
                break;
            }
            self.idle_index.pop_first();
            let Some(cred) = self.creds.get_mut(&key) else { continue };
            cred.idle_armed = None;
            match cred.activity.idle_due {
                Some((actual, _, _)) if actual > due => {
                    self.idle_index.insert((actual, key.clone()));
                    cred.idle_armed = Some(actual);
                    continue;
                }
                Some(_) => {}
                None => continue,
            }
            let version = sh.store.in_force(&key, due);
            let ctx = Ctx { credential: &key, owner: version.map(|v| v.owner.as_str()), topic: &sh.config.usage_topic, partition: self.id, trigger: None };
            dormancy::idle(&mut cred.activity, &ctx, out);
            self.touch(&key);
        }
    }

    /// End of replay input: every open window closes, then each credential's final balance.
    pub fn finish(&mut self, sh: &Shared<'_>, out: &mut Vec<Output>) {
        let mut keys: Vec<Arc<str>> = self.creds.keys().cloned().collect();
        keys.sort();
        let as_of = self.meta.max_time.unwrap_or(0);
        for key in keys {
            let Some(cred) = self.creds.get_mut(&key) else { continue };
            let mut open = std::mem::take(&mut cred.windows);
            open.sort_by_key(|w| (w.end, w.size));
            for w in open {
                let size = sh.config.windows_ms[w.size as usize];
                out.push(Output::Window(w.record(&key, size)));
            }
            if let Some(ledger) = &cred.ledger {
                out.push(Output::Balance(ledger.balance(&key, as_of)));
            }
        }
        self.window_index.clear();
    }

    /// Rebuilds the timer indexes from the credentials (after a restore).
    pub fn reindex(&mut self) {
        self.window_index.clear();
        self.idle_index.clear();
        for (key, cred) in self.creds.iter_mut() {
            for w in &cred.windows {
                self.window_index.entry(w.end).or_default().push(key.clone());
            }
            cred.idle_armed = cred.activity.idle_due.map(|(due, _, _)| due);
            if let Some(due) = cred.idle_armed {
                self.idle_index.insert((due, key.clone()));
            }
        }
    }

    /// Inserts a restored credential state.
    pub fn restore_credential(&mut self, credential: &str, mut state: CredState) {
        let key: Arc<str> = Arc::from(credential);
        state.name = key.clone();
        self.creds.insert(key, Box::new(state));
    }
}

fn smallest_window(sizes: &[i64]) -> usize {
    sizes.iter().enumerate().min_by_key(|(_, s)| **s).map_or(0, |(i, _)| i)
}

/// Rolls `ledger` forward month by month up to `month`.
fn roll_to(ledger: &mut Ledger, month: Month, sh: &Shared<'_>, ctx: &Ctx<'_>, out: &mut Vec<Output>) {
    while ledger.month < month {
        let plan = MonthPlan::from(sh.store.plan_at(ctx.credential, month_start(ledger.month + 1)));
        ledger.roll_one(plan, sh.config.accumulation, ctx, out);
    }
}
