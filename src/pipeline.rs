//! One input record through the engine: decode, then process or reject.
//! Shared by file replay, topic replay and the live processor, so all three
//! are the same code.

use crate::decode::{self, secrets};
use crate::engine::output::{Output, RejectedRecord};
use crate::engine::Engine;

/// A raw input record as read from a file line or a Kafka message.
#[derive(Debug, Clone, Copy)]
pub struct InputRecord<'a> {
    pub partition: i32,
    pub offset: i64,
    /// Physical line number in a file (from 1).
    pub line: Option<u64>,
    pub key: Option<&'a [u8]>,
    /// None for a Kafka record with a null value.
    pub value: Option<&'a [u8]>,
    pub headers: &'a [(&'a str, &'a [u8])],
}

/// Decodes `record` and feeds it to the engine, or emits it as rejected.
/// Records at or below the partition's restored offset stamp are skipped.
pub fn process_record(engine: &mut Engine, record: &InputRecord<'_>, out: &mut Vec<Output>) {
    if engine.partition_includes(record.partition, record.offset) {
        return;
    }
    let max = engine.config().max_value_bytes;
    let value = record.value.unwrap_or(b"");
    match decode::decode_usage(value, record.headers, max) {
        Ok(event) => engine.process(record.partition, record.offset, event, out),
        Err(rejection) => {
            engine.note_rejected(record.partition, record.offset, rejection.kind);
            out.push(Output::Rejected(RejectedRecord {
                partition: record.partition,
                offset: record.offset,
                line: record.line,
                kind: rejection.kind,
                reason: rejection.reason,
                key: record.key.map(secrets::redact_key),
                value: secrets::redact_value(value, record.key),
                headers: record.headers.iter().map(|(k, v)| (k.to_string(), secrets::redact_value(v, record.key))).collect(),
            }));
        }
    }
}
