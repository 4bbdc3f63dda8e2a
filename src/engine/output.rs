//! What the engine produces: findings, window records, balance records and
//! rejected input, as typed values. Serialisation lives in `crate::emit`.

use crate::model::usage::Text;

pub use crate::rules::ledger::{BalanceRecord, GrantView};

// Moved: new code imports these from `crate::rules` and `crate::decode`;
// the re-exports keep older paths compiling.
#[doc(hidden)]
pub use crate::decode::rejection::{RejectKind, Rejection};
#[doc(hidden)]
pub use crate::rules::{finding_uid, Figures, Finding, Rule};

/// Calls per capability, sorted by capability (a window rarely sees more than two).
pub type CapabilityCounts = smallvec::SmallVec<[(Text, u64); 2]>;

/// A closed tumbling window of one credential (docs/semantics.md, "Window and balance records").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    /// Inline (no allocation, no shared count) for ids of up to 24 bytes.
    pub credential: Text,
    /// Window size in ms (rendered `1m`, `1h`).
    pub size_ms: i64,
    pub start: i64,
    pub end: i64,
    pub calls: u64,
    /// Micro-credits.
    pub credits: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Calls per capability, sorted by capability.
    pub capabilities: CapabilityCounts,
    pub distinct_models: u64,
}

/// A record that could not be accepted, as it goes to the rejected topic:
/// the original key, value and headers with every raw secret redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    pub partition: i32,
    pub offset: i64,
    /// Physical line number in a file (from 1); None on a broker.
    pub line: Option<u64>,
    pub kind: RejectKind,
    pub reason: String,
    pub key: Option<Vec<u8>>,
    /// None for a Kafka record with a null value: it is rejected with a null value.
    pub value: Option<Vec<u8>>,
    /// In their original order; a header with a null value keeps it.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Everything the engine emits, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Finding(Box<Finding>),
    Window(WindowRecord),
    Balance(BalanceRecord),
    Rejected(RejectedRecord),
}

impl Output {
    /// The record key on its topic: the (redacted) credential.
    pub fn key(&self) -> Option<&[u8]> {
        match self {
            Output::Finding(f) => Some(f.credential.as_bytes()),
            Output::Window(w) => Some(w.credential.as_bytes()),
            Output::Balance(b) => Some(b.credential.as_bytes()),
            Output::Rejected(r) => r.key.as_deref(),
        }
    }
}

impl crate::rules::Outputs for Vec<Output> {
    fn finding(&mut self, finding: Finding) {
        self.push(Output::Finding(Box::new(finding)));
    }

    fn balance(&mut self, balance: BalanceRecord) {
        self.push(Output::Balance(balance));
    }
}
