//! The deterministic engine: `(state, record) -> (state, outputs)` in event
//! time, with no I/O, no clock and no randomness.
//!
//! State is kept per input partition (watermark, timers) and per credential
//! within it (windows, ledger, burst sums, activity, scope memory). The
//! entitlements table is global and versioned by `updated_at`.

pub mod changelog;
pub mod credential;
pub mod dedupe;
pub mod entitlements;
pub mod output;
pub mod partition;
pub mod windows;

use std::collections::BTreeMap;

use crate::config::EngineConfig;
use crate::model::{EntitlementRecord, UsageEvent};
use entitlements::EntitlementStore;
use crate::decode::RejectKind;
use crate::rules::tuning::Outcome;
use crate::rules::Rule;
use output::Output;
use partition::{PartitionState, Shared};

pub use changelog::{ChangelogError, ChangelogRecord};

/// Counters for metrics; pure values, exported by `telemetry`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Accepted, non-duplicate events.
    pub events: u64,
    pub duplicates: u64,
    pub late_events: u64,
    /// Indexed like `RejectKind::ALL`.
    pub rejected: [u64; 5],
    /// Indexed like `Rule::ALL`.
    pub findings: [u64; Rule::ALL.len()],
    /// Findings tuning marked, dropped or switched off: indexed like
    /// `Rule::ALL`, then like `rules::tuning::Outcome::COUNTED`.
    pub suppressed: [[u64; Outcome::COUNTED.len()]; Rule::ALL.len()],
    pub entitlements_applied: u64,
}

impl Stats {
    /// Adds another engine's counters (shards of one replay).
    pub fn add(&mut self, o: &Stats) {
        self.events += o.events;
        self.duplicates += o.duplicates;
        self.late_events += o.late_events;
        for (a, b) in self.rejected.iter_mut().zip(o.rejected) {
            *a += b;
        }
        for (a, b) in self.findings.iter_mut().zip(o.findings) {
            *a += b;
        }
        for (a, b) in self.suppressed.iter_mut().flatten().zip(o.suppressed.iter().flatten()) {
            *a += b;
        }
        self.entitlements_applied += o.entitlements_applied;
    }
}

pub struct Engine {
    config: EngineConfig,
    store: EntitlementStore,
    partitions: BTreeMap<i32, PartitionState>,
    stats: Stats,
    /// Live mode: track changed credentials for the changelog.
    changelog: bool,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Engine {
        Engine { config, store: EntitlementStore::default(), partitions: BTreeMap::new(), stats: Stats::default(), changelog: false }
    }

    /// An engine with the same settings and entitlements and no partition
    /// state (a shard of a parallel replay).
    pub fn fresh_copy(&self) -> Engine {
        Engine { config: self.config.clone(), store: self.store.clone(), partitions: BTreeMap::new(), stats: Stats::default(), changelog: self.changelog }
    }

    /// Live mode: remember which credentials changed, for the changelog.
    pub fn with_changelog(mut self) -> Engine {
        self.changelog = true;
        self
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn entitlements(&self) -> &EntitlementStore {
        &self.store
    }

    /// Applies one entitlements-table record (version or tombstone) at the point it is read.
    pub fn apply_entitlement(&mut self, record: EntitlementRecord) {
        self.stats.entitlements_applied += 1;
        self.store.apply(record);
    }

    fn partition(&mut self, partition: i32) -> &mut PartitionState {
        let changelog = self.changelog;
        self.partitions.entry(partition).or_insert_with(|| PartitionState::new(partition, changelog))
    }

    /// True when `offset` of `partition` is already included in the (restored) state.
    pub fn partition_includes(&self, partition: i32, offset: i64) -> bool {
        self.partitions.get(&partition).is_some_and(|p| p.meta.offset >= offset)
    }

    /// The id of a credential already known on `partition` (for [`Engine::prefetch`]).
    pub fn id_of(&self, partition: i32, credential: &str) -> Option<partition::CredId> {
        self.partitions.get(&partition)?.id_of(credential)
    }

    /// A cache hint for an upcoming event of credential `id` on `partition`
    /// (see [`PartitionState::prefetch`]).
    pub fn prefetch(&self, partition: i32, id: partition::CredId, stage: partition::Prefetch) {
        if let Some(p) = self.partitions.get(&partition) {
            p.prefetch(id, stage);
        }
    }

    /// Processes one accepted usage event (docs/semantics.md steps 2-4).
    pub fn process(&mut self, partition: i32, offset: i64, event: UsageEvent, out: &mut Vec<Output>) {
        self.process_known(partition, offset, &event, None, out);
    }

    /// [`Engine::process`] with the credential's id when the caller has it
    /// from [`Engine::id_of`] (the threaded replay looks ids up for its
    /// prefetches): one hash lookup instead of two.
    pub fn process_known(&mut self, partition: i32, offset: i64, event: &UsageEvent, known: Option<partition::CredId>, out: &mut Vec<Output>) {
        let start = out.len();
        let changelog = self.changelog;
        let part = self.partitions.entry(partition).or_insert_with(|| PartitionState::new(partition, changelog));
        let shared = Shared { config: &self.config, store: &self.store };
        part.process(&shared, offset, event, known, &mut self.stats, out);
        tune(&self.config, &mut self.stats, out, start);
        count_findings(&mut self.stats, &out[start..]);
    }

    /// Counts a rejected record and stamps its offset; changes no other state.
    pub fn note_rejected(&mut self, partition: i32, offset: i64, kind: RejectKind) {
        self.stats.rejected[kind as usize] += 1;
        let part = self.partition(partition);
        part.meta.offset = part.meta.offset.max(offset);
    }

    /// End of replay input: close every open window, emit final balances
    /// (partitions in order, credentials in byte order). Timers do not fire.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        let start = out.len();
        let shared = Shared { config: &self.config, store: &self.store };
        for part in self.partitions.values_mut() {
            part.finish(&shared, out);
        }
        count_findings(&mut self.stats, &out[start..]);
    }

    /// End of replay input for one partition (see `finish`).
    pub fn finish_partition(&mut self, partition: i32, out: &mut Vec<Output>) {
        let start = out.len();
        let shared = Shared { config: &self.config, store: &self.store };
        if let Some(part) = self.partitions.get_mut(&partition) {
            part.finish(&shared, out);
        }
        count_findings(&mut self.stats, &out[start..]);
    }

    /// The changelog records of one batch of `partition` (live mode): what
    /// changed since the last call, the partition record last.
    pub fn changelog_snapshot(&mut self, partition: i32) -> Vec<ChangelogRecord> {
        self.partition(partition).snapshot()
    }

    /// Replaces the state of `partition` with the one its changelog records
    /// (in log order) describe. Returns the credentials restored.
    pub fn restore_partition(&mut self, partition: i32, records: impl IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>) -> Result<usize, ChangelogError> {
        let part = PartitionState::restore(partition, self.changelog, records)?;
        let n = part.len();
        self.partitions.insert(partition, part);
        Ok(n)
    }

    /// Forgets a partition (revoked from this instance).
    pub fn drop_partition(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// Number of credentials held in state over all partitions.
    pub fn credentials_in_state(&self) -> usize {
        self.partitions.values().map(|p| p.len()).sum()
    }

    /// Read access to a partition's state (tests, inspection).
    pub fn partition_state(&self, partition: i32) -> Option<&PartitionState> {
        self.partitions.get(&partition)
    }
}

/// Applies the configured tuning (`rules::tuning`) to the findings in
/// `out[start..]`, the one place it happens: removes those switched off or
/// dropped, keeps the order of the rest, counts what it changed.
fn tune(config: &EngineConfig, stats: &mut Stats, out: &mut Vec<Output>, start: usize) {
    let tuning = &config.tuning;
    // Most records emit nothing: then there is nothing to tune either.
    if out.len() == start || tuning.is_identity() {
        return;
    }
    let mut keep = start;
    for i in start..out.len() {
        let emitted = match &mut out[i] {
            Output::Finding(f) => {
                let outcome = tuning.apply(f);
                if let Some(j) = outcome.counted_index() {
                    stats.suppressed[f.rule as usize][j] += 1;
                }
                outcome.emitted()
            }
            _ => true,
        };
        if emitted {
            out.swap(keep, i);
            keep += 1;
        }
    }
    out.truncate(keep);
}

fn count_findings(stats: &mut Stats, outputs: &[Output]) {
    for o in outputs {
        if let Output::Finding(f) = o {
            let i = Rule::ALL.iter().position(|r| *r == f.rule).unwrap_or(0);
            stats.findings[i] += 1;
        }
    }
}
