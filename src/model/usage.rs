//! The usage event: one model/API call (SPEC §1.1), after decoding and redaction.

use serde::{Deserialize, Serialize};

/// A decoded, validated usage event. `credential` is already redacted when the
/// raw value was a secret (`exposed` is then true); nothing downstream ever
/// sees the raw secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub id: String,
    /// Event time, epoch milliseconds (truncated).
    pub time: i64,
    pub credential: String,
    pub capability: String,
    /// Absent when missing, null or empty.
    pub model: Option<String>,
    /// Micro-credits.
    pub credits: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub principal: Option<String>,
    pub source: Option<String>,
    pub src_ip: Option<String>,
    /// The `credential` field held a raw secret and was replaced by its redacted id.
    pub exposed: bool,
}

impl UsageEvent {
    /// tokens_in + tokens_out, saturating.
    pub fn tokens(&self) -> i64 {
        self.tokens_in.saturating_add(self.tokens_out)
    }
}
