//! Everything the engine remembers about one credential on one partition.

use serde::{Deserialize, Serialize};

use super::dedupe::Dedupe;
use super::windows::OpenWindow;
use crate::rules::burst::BurstState;
use crate::rules::dormancy::Activity;
use crate::rules::ledger::Ledger;
use crate::rules::lifecycle::Lifecycle;
use crate::rules::scope::ScopeMemory;

/// The state of one credential. Its size does not grow with the credential's
/// call rate: the event ids it remembers beyond a few live in dedupe segments
/// of their own (see [`Dedupe`] and docs/architecture.md, "State").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredState {
    pub activity: Activity,
    pub dedupe: Dedupe,
    pub windows: Vec<OpenWindow>,
    pub burst: Vec<BurstState>,
    pub ledger: Option<Ledger>,
    pub scope: ScopeMemory,
    pub lifecycle: Lifecycle,
}
