//! The usage event: one model/API call (README.md), after decoding and redaction.

use serde::{Deserialize, Serialize};

/// Short text kept inline (up to 24 bytes) without a heap allocation.
pub type Text = compact_str::CompactString;

/// A decoded, validated usage event. `credential` is already redacted when the
/// raw value was a secret (`exposed` is then true); nothing downstream ever
/// sees the raw secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub id: Text,
    /// Event time, epoch milliseconds (truncated).
    pub time: i64,
    pub credential: Text,
    pub capability: Text,
    /// Absent when missing, null or empty.
    pub model: Option<Text>,
    /// Micro-credits.
    pub credits: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub principal: Option<Text>,
    pub source: Option<Text>,
    pub src_ip: Option<Text>,
    /// The `credential` field held a raw secret and was replaced by its redacted id.
    pub exposed: bool,
}

impl UsageEvent {
    /// tokens_in + tokens_out, saturating.
    pub fn tokens(&self) -> i64 {
        self.tokens_in.saturating_add(self.tokens_out)
    }
}
