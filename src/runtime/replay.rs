//! Embedded mode: the engine over JSON Lines (SPEC §6 `bursar replay --input`).

use crate::config::EngineConfig;
use crate::engine::output::{BalanceRecord, Finding, Output, RejectedRecord, WindowRecord};

/// Everything one replay produced, per output stream, in emission order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReplayOutputs {
    pub findings: Vec<Finding>,
    pub windows: Vec<WindowRecord>,
    pub balances: Vec<BalanceRecord>,
    pub rejected: Vec<RejectedRecord>,
    /// Entitlement lines skipped: (line number, reason).
    pub entitlement_errors: Vec<(u64, String)>,
}

impl ReplayOutputs {
    pub fn push(&mut self, output: Output) {
        match output {
            Output::Finding(f) => self.findings.push(f),
            Output::Window(w) => self.windows.push(w),
            Output::Balance(b) => self.balances.push(b),
            Output::Rejected(r) => self.rejected.push(r),
        }
    }
}

/// Replays JSON Lines text: entitlements first (in line order), then usage
/// records split into `partitions` with Kafka's default partitioner.
pub fn replay_text(_config: &EngineConfig, _partitions: i32, _entitlements: &str, _usage: &str) -> ReplayOutputs {
    unimplemented!("replay in progress")
}
