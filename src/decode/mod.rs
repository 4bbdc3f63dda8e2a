//! Bytes in, typed records out: usage events (native JSON and CloudEvents),
//! entitlements, secret redaction and Kafka's default partitioner.

pub mod secrets;

use crate::engine::output::{RejectKind, Rejection};
use crate::model::UsageEvent;

/// Decodes one usage record value (with its Kafka headers; empty for a file line).
pub fn decode_usage(_value: &[u8], _headers: &[(&str, &[u8])], _max_value_bytes: usize) -> Result<UsageEvent, Rejection> {
    Err(Rejection { kind: RejectKind::InvalidJson, reason: "decoder in progress".into() })
}
