//! One input record through the engine: decode, then process or reject.
//! Shared by file replay, topic replay and the live processor, so all three
//! are the same code. `file` runs it as a pipeline of threads over a file.

pub mod event_lead;
mod file;
mod mapped;
pub mod partitioner;

pub use file::{decode_line, replay_file, FileReplay, Lines, ReplaySummary};
pub use mapped::open_input;

use crate::config::EngineConfig;
use crate::decode::{self, secrets};
use crate::engine::output::{Output, RejectedRecord};
use crate::engine::partition::CredId;
use crate::engine::Engine;
use crate::model::UsageEvent;

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
    /// Kafka headers in their order; None for a header with a null value.
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
    /// The Kafka record timestamp (epoch ms), None for a file line: the
    /// `max_event_lead` guard measures event time against it (`event_lead`).
    pub timestamp: Option<i64>,
}

/// A record after decoding: an accepted event, or the record as it goes to
/// the rejected stream. Decoding needs no state, so it can run on any thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Event(UsageEvent),
    /// `partition` and `offset` are filled in when the record is applied.
    Rejected(RejectedRecord),
}

/// Decodes one input record (redacting every raw secret), with the
/// `max_event_lead` guard against its record timestamp.
pub fn decode_record(record: &InputRecord<'_>, config: &EngineConfig) -> Decoded {
    // A null value decodes as an empty one (invalid_json); a null header as an absent one.
    let present: Vec<(&str, &[u8])> = record.headers.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
    let result = decode::decode_usage(record.value.unwrap_or(b""), &present, config.max_value_bytes)
        .and_then(|event| event_lead::check(event.time, record.timestamp, config.max_event_lead_ms).map(|()| event));
    Decoded::of(record, result)
}

impl Decoded {
    /// `record` decoded as `result`: the event, or the record as rejected.
    pub fn of(record: &InputRecord<'_>, result: Result<UsageEvent, crate::decode::Rejection>) -> Decoded {
        match result {
            Ok(event) => Decoded::Event(event),
            Err(rejection) => Decoded::Rejected(rejected(record, rejection)),
        }
    }
}

/// Decodes `records` in order, on two threads when there are many (decoding
/// needs no state; the engine then applies them in order on one).
pub fn decode_records(records: &[InputRecord<'_>], config: &EngineConfig) -> Vec<Decoded> {
    const PARALLEL_FROM: usize = 1024;
    if records.len() < PARALLEL_FROM {
        return records.iter().map(|r| decode_record(r, config)).collect();
    }
    let (first, second) = records.split_at(records.len() / 2);
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new().name("bursar-decode".into()).spawn_scoped(scope, || second.iter().map(|r| decode_record(r, config)).collect::<Vec<_>>());
        let mut out: Vec<Decoded> = first.iter().map(|r| decode_record(r, config)).collect();
        match other.map(|h| h.join()) {
            Ok(Ok(rest)) => out.extend(rest),
            // No second thread (or it failed): decode the rest here.
            _ => out.extend(second.iter().map(|r| decode_record(r, config))),
        }
        out
    })
}

/// The rejected-stream form of a record: the original key, value and headers
/// with every raw secret redacted, and the reason.
pub fn rejected(record: &InputRecord<'_>, rejection: crate::decode::Rejection) -> RejectedRecord {
    RejectedRecord {
        partition: record.partition,
        offset: record.offset,
        line: record.line,
        kind: rejection.kind,
        reason: rejection.reason,
        key: record.key.map(secrets::redact_key),
        value: record.value.map(|v| secrets::redact_value(v, record.key)),
        headers: record.headers.iter().map(|(k, v)| (k.to_string(), v.map(|v| secrets::redact_value(v, record.key)))).collect(),
    }
}

/// Feeds one decoded record of `partition` at `offset` to the engine.
/// Records at or below the partition's restored offset stamp are skipped.
pub fn apply_record(engine: &mut Engine, partition: i32, offset: i64, decoded: Decoded, out: &mut Vec<Output>) {
    apply_record_known(engine, partition, offset, &decoded, None, out);
}

/// [`apply_record`] of a record the caller keeps (a rejection is copied
/// into its output), with the event's credential id when the caller has it
/// (`Engine::process_known`).
pub fn apply_record_known(engine: &mut Engine, partition: i32, offset: i64, decoded: &Decoded, known: Option<CredId>, out: &mut Vec<Output>) {
    if engine.partition_includes(partition, offset) {
        return;
    }
    match decoded {
        Decoded::Event(event) => engine.process_known(partition, offset, event, known, out),
        Decoded::Rejected(r) => {
            engine.note_rejected(partition, offset, r.kind);
            out.push(Output::Rejected(RejectedRecord { partition, offset, ..r.clone() }));
        }
    }
}

/// Decodes `record` and feeds it to the engine, or emits it as rejected.
/// Records at or below the partition's restored offset stamp are skipped.
pub fn process_record(engine: &mut Engine, record: &InputRecord<'_>, out: &mut Vec<Output>) {
    if engine.partition_includes(record.partition, record.offset) {
        return;
    }
    let decoded = decode_record(record, engine.config());
    apply_record(engine, record.partition, record.offset, decoded, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EngineConfig;
    use crate::decode::RejectKind;

    fn run(value: Option<&[u8]>, headers: &[(&str, Option<&[u8]>)]) -> Vec<Output> {
        let mut engine = Engine::new(EngineConfig::default());
        let record = InputRecord { partition: 0, offset: 5, line: None, key: Some(b"key_a"), value, headers, timestamp: None };
        let mut out = Vec::new();
        process_record(&mut engine, &record, &mut out);
        out
    }

    fn rejected(out: &[Output]) -> &RejectedRecord {
        match out {
            [Output::Rejected(r)] => r,
            other => panic!("expected one rejected record, got {other:?}"),
        }
    }

    #[test]
    fn a_null_value_is_rejected_with_a_null_value_and_every_header_in_order() {
        let headers = [("a", Some(&b"1"[..])), ("b", None), ("c", Some(&b""[..]))];
        let out = run(None, &headers);
        let r = rejected(&out);
        assert_eq!(r.kind, RejectKind::InvalidJson);
        assert_eq!(r.value, None, "a null value stays null, never empty");
        assert_eq!(r.headers, vec![("a".to_string(), Some(b"1".to_vec())), ("b".to_string(), None), ("c".to_string(), Some(Vec::new()))]);
    }

    #[test]
    fn an_event_too_far_ahead_of_its_record_timestamp_is_rejected_only_when_the_guard_is_set() {
        let line = br#"{"id":"e1","time":"2199-01-01T00:00:00Z","credential":"key_a","capability":"chat","credits":"1"}"#;
        let stamp = Some(1_777_888_800_000);
        let run_with = |max_event_lead_ms: Option<i64>, timestamp: Option<i64>| {
            let mut engine = Engine::new(EngineConfig { max_event_lead_ms, ..EngineConfig::default() });
            let record = InputRecord { partition: 0, offset: 5, line: None, key: Some(b"key_a"), value: Some(line), headers: &[], timestamp };
            let mut out = Vec::new();
            process_record(&mut engine, &record, &mut out);
            out
        };
        let out = run_with(Some(3_600_000), stamp);
        let r = rejected(&out);
        assert_eq!(r.kind, RejectKind::InvalidField);
        assert!(event_lead::rejected_ahead(r), "{}", r.reason);
        assert_eq!(r.value.as_deref(), Some(&line[..]), "the record goes out unchanged");
        assert!(run_with(None, stamp).iter().all(|o| !matches!(o, Output::Rejected(_))), "absent by default");
        assert!(run_with(Some(3_600_000), None).iter().all(|o| !matches!(o, Output::Rejected(_))), "no record timestamp, no guard");
    }

    #[test]
    fn an_empty_value_is_rejected_with_an_empty_value() {
        let out = run(Some(b""), &[]);
        assert_eq!(rejected(&out).value, Some(Vec::new()));
    }

    #[test]
    fn a_header_with_a_null_value_is_absent_to_the_decoder() {
        let line = br#"{"id":"e1","time":"2026-01-01T00:00:00Z","credential":"key_a","capability":"chat","credits":"1","source":"gw"}"#;
        let out = run(Some(line), &[("ce_specversion", None), ("trace", Some(b"t"))]);
        assert!(out.iter().all(|o| !matches!(o, Output::Rejected(_))), "decoded as a native event: {out:?}");
    }
}
