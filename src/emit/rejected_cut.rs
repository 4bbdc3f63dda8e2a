//! A rejected record as it goes to the rejected topic, cut to fit the
//! producer's record limit (docs/semantics.md "Bad input"): a record too
//! large for Kafka must still reach the rejected topic, or its partition
//! could never move past it.
//!
//! Pure: the same record and limit always give the same bytes. Sizes are
//! counted as librdkafka counts a record against `message.max.bytes`
//! (key + value + headers + the largest per-record overhead), less the
//! record batch's own header, so a broker whose limit is at least the
//! producer's accepts it too.

use sha2::{Digest, Sha256};

use super::records::rejected_headers;
use crate::decode::secrets;
use crate::engine::output::RejectedRecord;

/// librdkafka's default `message.max.bytes`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_000_000;

/// librdkafka's least `message.max.bytes`; every record fits a limit this large.
pub const MIN_MAX_MESSAGE_BYTES: usize = 1_000;

/// Largest per-record overhead of a v2 record (librdkafka's
/// `RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD`: length, attributes, timestamp and
/// offset deltas, key and value lengths, header count).
const RECORD_OVERHEAD: usize = 36;

/// The header of the record batch that carries a record (61 bytes): kept
/// free so the broker's limit, which counts the batch, holds as well.
const BATCH_OVERHEAD: usize = 61;

/// Largest overhead of one header (its name and value lengths as varints).
const HEADER_OVERHEAD: usize = 10;

/// Header with the size in bytes of the value before the cut (decimal).
pub const ORIGINAL_SIZE: &str = "bursar.original.size";
/// Header with the SHA-256 of the value before the cut (64 lower-case hex digits).
pub const ORIGINAL_SHA256: &str = "bursar.original.sha256";
/// Header with the number of the record's own headers left off (only when
/// they alone did not fit).
pub const ORIGINAL_HEADERS: &str = "bursar.original.headers";

/// A rejected record in its topic form: key, value (the record's own or a
/// prefix of them) and every header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRejected<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// True when anything was cut (the `bursar.original.*` headers are then present).
    pub cut: bool,
}

/// The bytes librdkafka counts for a record of these parts.
pub fn record_size(key: Option<&[u8]>, value: Option<&[u8]>, headers: &[(String, Option<Vec<u8>>)]) -> usize {
    let h: usize = headers.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len) + HEADER_OVERHEAD).sum();
    RECORD_OVERHEAD + key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len) + h
}

/// `r` as the rejected topic carries it (`source_topic` in
/// `bursar.source.topic`), cut so that it fits `max_message_bytes` (at least
/// [`MIN_MAX_MESSAGE_BYTES`]). A record that fits is unchanged. Otherwise, in
/// this order, until it fits: the value is cut, the record's own headers
/// are left off, the key is cut, the reason is cut. A cut never ends inside
/// a UTF-8 character nor inside a run of secret characters (so a cut never
/// turns text into a raw secret), and the headers `bursar.original.size`
/// and `bursar.original.sha256` describe the whole value.
pub fn for_topic<'a>(r: &'a RejectedRecord, source_topic: &str, max_message_bytes: usize) -> TopicRejected<'a> {
    let budget = max_message_bytes.max(MIN_MAX_MESSAGE_BYTES) - BATCH_OVERHEAD;
    let headers = rejected_headers(r, source_topic);
    if record_size(r.key.as_deref(), r.value.as_deref(), &headers) <= budget {
        return TopicRejected { key: r.key.as_deref(), value: r.value.as_deref(), headers, cut: false };
    }
    let original = r.value.as_deref().unwrap_or(b"");
    let described = |own: &[(String, Option<Vec<u8>>)], dropped: usize, reason: &str| {
        let mut h = rejected_headers(&shell(r, own, reason), source_topic);
        h.push((ORIGINAL_SIZE.into(), Some(original.len().to_string().into_bytes())));
        h.push((ORIGINAL_SHA256.into(), Some(hex_sha256(original).into_bytes())));
        if dropped > 0 {
            h.push((ORIGINAL_HEADERS.into(), Some(dropped.to_string().into_bytes())));
        }
        h
    };
    let empty: Option<&[u8]> = r.value.as_ref().map(|_| &b""[..]);
    // 1. The value, cut.
    let headers = described(&r.headers, 0, &r.reason);
    if let Some(room) = room(budget, r.key.as_deref(), &headers) {
        let value = r.value.as_deref().map(|v| cut(v, room));
        return TopicRejected { key: r.key.as_deref(), value, headers, cut: true };
    }
    // 2. The record's own headers left off, the value cut.
    let headers = described(&[], r.headers.len(), &r.reason);
    if let Some(room) = room(budget, r.key.as_deref(), &headers) {
        let value = r.value.as_deref().map(|v| cut(v, room));
        return TopicRejected { key: r.key.as_deref(), value, headers, cut: true };
    }
    // 3. The key cut, the value empty.
    if let Some(room) = room(budget, None, &headers) {
        let key = r.key.as_deref().map(|k| cut(k, room));
        return TopicRejected { key, value: empty, headers, cut: true };
    }
    // 4. The reason cut too (only for a limit near the minimum with a long topic name).
    let reason_room = room(budget, None, &described(&[], r.headers.len(), "")).unwrap_or(0);
    let reason = String::from_utf8_lossy(cut(r.reason.as_bytes(), reason_room)).into_owned();
    let key = r.key.as_ref().map(|_| &b""[..]);
    TopicRejected { key, value: empty, headers: described(&[], r.headers.len(), &reason), cut: true }
}

/// `r` without key and value, with `headers` and `reason` (for [`rejected_headers`]).
fn shell(r: &RejectedRecord, headers: &[(String, Option<Vec<u8>>)], reason: &str) -> RejectedRecord {
    RejectedRecord { partition: r.partition, offset: r.offset, line: r.line, kind: r.kind, reason: reason.to_string(), key: None, value: None, headers: headers.to_vec() }
}

/// Bytes left for a value beside `key` and `headers`, if any fit.
fn room(budget: usize, key: Option<&[u8]>, headers: &[(String, Option<Vec<u8>>)]) -> Option<usize> {
    budget.checked_sub(record_size(key, Some(b""), headers))
}

/// The longest prefix of `bytes` of at most `room` bytes that ends neither
/// inside a UTF-8 character (of text that is UTF-8 up to there) nor inside a
/// run of the characters secrets are made of.
fn cut(bytes: &[u8], room: usize) -> &[u8] {
    if bytes.len() <= room {
        return bytes;
    }
    let mut end = room;
    // Back off a UTF-8 continuation so a text value stays text.
    while end > 0 && end < bytes.len() && (bytes[end] & 0xC0) == 0x80 && room - end < 4 {
        end -= 1;
    }
    // A run that continues past the cut is left off whole: a part of it
    // could be a raw secret the whole run is not.
    if end < bytes.len() && secrets::in_class(bytes[end]) {
        while end > 0 && secrets::in_class(bytes[end - 1]) {
            end -= 1;
        }
    }
    &bytes[..end]
}

/// SHA-256 of `bytes` as 64 lower-case hex digits.
pub fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        out.push(char::from(b"0123456789abcdef"[(b & 0xf) as usize]));
    }
    out
}

#[cfg(test)]
mod tests;
