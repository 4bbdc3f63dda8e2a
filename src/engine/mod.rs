//! The deterministic engine: `(state, record) -> (state, outputs)` in event
//! time, with no I/O, no clock and no randomness.
//!
//! State is kept per input partition (watermark, timers) and per credential
//! within it (windows, ledger, burst sums, activity, scope memory). The
//! entitlements table is global and versioned by `updated_at`.

pub mod output;

use crate::config::EngineConfig;
use crate::model::{EntitlementRecord, UsageEvent};
use output::{Output, RejectKind};

/// Key of the partition-level record in the changelog (credential ids are never empty).
pub const PARTITION_META_KEY: &[u8] = b"";

/// Why restoring state failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("changelog record for partition {partition} key {key:?} is not valid state: {source}")]
    Restore { partition: i32, key: String, source: serde_json::Error },
}

/// Counters for metrics; pure values, exported by `telemetry`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub events: u64,
    pub duplicates: u64,
    pub late_events: u64,
    /// Indexed like `RejectKind::ALL`.
    pub rejected: [u64; 5],
    /// Indexed like `Rule::ALL`.
    pub findings: [u64; 12],
    pub entitlements_applied: u64,
}

pub struct Engine {
    config: EngineConfig,
    stats: Stats,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Engine {
        Engine { config, stats: Stats::default() }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Applies one entitlements-table record (version or tombstone) at the point it is read.
    pub fn apply_entitlement(&mut self, _record: EntitlementRecord) {
        unimplemented!("engine in progress")
    }

    /// True when `offset` of `partition` is already included in the (restored) state.
    pub fn partition_includes(&self, _partition: i32, _offset: i64) -> bool {
        false
    }

    /// Processes one accepted usage event (SPEC §7.2 steps 2-4).
    pub fn process(&mut self, _partition: i32, _offset: i64, _event: UsageEvent, _out: &mut Vec<Output>) {
        unimplemented!("engine in progress")
    }

    /// Counts a rejected record and stamps its offset; changes no other state.
    pub fn note_rejected(&mut self, _partition: i32, _offset: i64, kind: RejectKind) {
        self.stats.rejected[kind as usize] += 1;
    }

    /// End of replay input: close every open window, emit final balances.
    pub fn finish(&mut self, _out: &mut Vec<Output>) {
        unimplemented!("engine in progress")
    }

    /// Credentials whose state changed since the last call, sorted.
    pub fn take_dirty(&mut self, _partition: i32) -> Vec<String> {
        unimplemented!("engine in progress")
    }

    /// Serialized state of one credential, stamped with the input offset it includes.
    pub fn snapshot_credential(&self, _partition: i32, _credential: &str) -> Option<Vec<u8>> {
        unimplemented!("engine in progress")
    }

    /// Serialized partition-level state (watermark, offset stamp).
    pub fn snapshot_partition(&self, _partition: i32) -> Option<Vec<u8>> {
        unimplemented!("engine in progress")
    }

    /// Restores one changelog record (`key` = credential, or `PARTITION_META_KEY`).
    pub fn restore(&mut self, _partition: i32, _key: &[u8], _value: &[u8]) -> Result<(), EngineError> {
        unimplemented!("engine in progress")
    }

    /// Forgets a partition (revoked from this instance).
    pub fn drop_partition(&mut self, _partition: i32) {
        unimplemented!("engine in progress")
    }

    /// Number of credentials held in state over all partitions.
    pub fn credentials_in_state(&self) -> usize {
        0
    }
}
