//! Window, balance and rejected records (README.md, Outputs; docs/semantics.md,
//! Input), written by hand straight into a byte buffer: fixed field order,
//! no intermediate values.

use super::json::{credits_field, int_field, into_string, key, put_key, put_lossy_str, put_str, time_field};
use crate::engine::output::{BalanceRecord, RejectedRecord, WindowRecord};
use crate::model::time::{month_start, push_duration, push_int, push_month_label};

/// Appends `{"credential","window","start","end","calls","credits","tokens_in","tokens_out","capabilities","distinct_models"}`.
pub fn write_window(w: &WindowRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(br#"{"credential":"#);
    put_str(out, &w.credential);
    out.extend_from_slice(br#","window":""#);
    push_duration(out, w.size_ms);
    out.push(b'"');
    put_span(out, w.start, w.end);
    int_field(out, key!("calls"), w.calls);
    credits_field(out, key!("credits"), w.credits);
    int_field(out, key!("tokens_in"), w.tokens_in);
    int_field(out, key!("tokens_out"), w.tokens_out);
    out.extend_from_slice(br#","capabilities":{"#);
    for (i, (cap, n)) in w.capabilities.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        put_str(out, cap);
        out.push(b':');
        push_int(out, *n);
    }
    out.push(b'}');
    int_field(out, key!("distinct_models"), w.distinct_models);
    out.push(b'}');
}

/// The length of `,"start":"…","end":"…"` for times of years 0 to 9999.
const SPAN: usize = 68;

/// The start and end members of the last two window spans written on this
/// thread, with their text, and the slot to replace next. The windows that
/// close at one instant share their span, and the two sizes of an hour
/// boundary alternate: most windows copy their span from here.
struct Spans {
    at: [(i64, i64); 2],
    text: [[u8; SPAN]; 2],
    next: usize,
}

thread_local! {
    // No window spans `(i64::MIN, i64::MIN)`: the empty slots match nothing.
    static SPANS: std::cell::RefCell<Spans> = const { std::cell::RefCell::new(Spans { at: [(i64::MIN, i64::MIN); 2], text: [[0; SPAN]; 2], next: 0 }) };
}

/// Appends `,"start":"…","end":"…"`.
fn put_span(out: &mut Vec<u8>, start: i64, end: i64) {
    SPANS.with(|spans| {
        let mut spans = spans.try_borrow_mut().ok();
        if let Some(s) = spans.as_deref() {
            if let Some(i) = s.at.iter().position(|&at| at == (start, end)) {
                out.extend_from_slice(&s.text[i]);
                return;
            }
        }
        let from = out.len();
        time_field(out, key!("start"), start);
        time_field(out, key!("end"), end);
        // Kept only in its usual length (both years in 0..=9999).
        if let (Some(spans), Ok(text)) = (spans.as_mut(), <[u8; SPAN]>::try_from(&out[from..])) {
            let i = spans.next;
            spans.at[i] = (start, end);
            spans.text[i] = text;
            spans.next = 1 - i;
        }
    })
}

/// `{"credential","window","start","end","calls","credits","tokens_in","tokens_out","capabilities","distinct_models"}`.
pub fn window_json(w: &WindowRecord) -> String {
    let mut out = Vec::with_capacity(256);
    write_window(w, &mut out);
    into_string(out)
}

/// Appends `{"credential","as_of","month","available_at_start","banked_at_start","used","used_banked",
/// "remaining","overage","granted_total","burned_total","expired_total","grants":[{"month","amount","remaining","expires"}]}`.
pub fn write_balance(b: &BalanceRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(br#"{"credential":"#);
    put_str(out, &b.credential);
    time_field(out, key!("as_of"), b.as_of);
    out.extend_from_slice(br#","month":""#);
    push_month_label(out, b.month);
    out.push(b'"');
    credits_field(out, key!("available_at_start"), b.available_at_start);
    credits_field(out, key!("banked_at_start"), b.banked_at_start);
    credits_field(out, key!("used"), b.used);
    credits_field(out, key!("used_banked"), b.used_banked);
    credits_field(out, key!("remaining"), b.remaining);
    credits_field(out, key!("overage"), b.overage);
    credits_field(out, key!("granted_total"), b.granted_total);
    credits_field(out, key!("burned_total"), b.burned_total);
    credits_field(out, key!("expired_total"), b.expired_total);
    out.extend_from_slice(br#","grants":["#);
    for (i, g) in b.grants.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"month":""#);
        push_month_label(out, g.month);
        out.push(b'"');
        credits_field(out, key!("amount"), g.amount);
        credits_field(out, key!("remaining"), g.remaining);
        time_field(out, key!("expires"), month_start(g.expires));
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
}

/// `{"credential","as_of","month","available_at_start","banked_at_start","used","used_banked",
/// "remaining","overage","granted_total","burned_total","expired_total","grants":[{"month","amount","remaining","expires"}]}`.
pub fn balance_json(b: &BalanceRecord) -> String {
    let mut out = Vec::with_capacity(384);
    write_balance(b, &mut out);
    into_string(out)
}

/// Appends the file form of a rejected record (README.md, Outputs):
/// `{"partition","offset","line","kind","reason","key","value"}` with the
/// original text (bytes that are not UTF-8 as U+FFFD); `value` is null
/// only for a Kafka record with a null value.
pub fn write_rejected(r: &RejectedRecord, out: &mut Vec<u8>) {
    out.push(b'{');
    put_key(out, key!(first "partition"));
    push_int(out, r.partition);
    int_field(out, key!("offset"), r.offset);
    put_key(out, key!("line"));
    match r.line {
        Some(l) => push_int(out, l),
        None => out.extend_from_slice(b"null"),
    }
    put_key(out, key!("kind"));
    put_str(out, r.kind.as_str());
    put_key(out, key!("reason"));
    put_str(out, &r.reason);
    put_key(out, key!("key"));
    match &r.key {
        Some(k) => put_lossy_str(out, k),
        None => out.extend_from_slice(b"null"),
    }
    put_key(out, key!("value"));
    match &r.value {
        Some(v) => put_lossy_str(out, v),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// The file form of a rejected record, as [`write_rejected`].
pub fn rejected_json(r: &RejectedRecord) -> String {
    let mut out = Vec::with_capacity(128 + r.value.as_ref().map_or(0, Vec::len));
    write_rejected(r, &mut out);
    into_string(out)
}

/// Kafka headers of a rejected record: its original (redacted) headers in
/// their order, null values kept, then `bursar.error.kind`,
/// `bursar.error.reason`, `bursar.source.topic`, `bursar.source.partition`,
/// `bursar.source.offset`.
pub fn rejected_headers(r: &RejectedRecord, source_topic: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let mut h = r.headers.clone();
    h.push(("bursar.error.kind".into(), Some(r.kind.as_str().as_bytes().to_vec())));
    h.push(("bursar.error.reason".into(), Some(r.reason.as_bytes().to_vec())));
    h.push(("bursar.source.topic".into(), Some(source_topic.as_bytes().to_vec())));
    h.push(("bursar.source.partition".into(), Some(r.partition.to_string().into_bytes())));
    h.push(("bursar.source.offset".into(), Some(r.offset.to_string().into_bytes())));
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::json::write_str;
    use crate::decode::RejectKind;
    use crate::engine::output::GrantView;

    #[test]
    fn strings_are_escaped_like_serde_json() {
        for s in ["plain", "quo\"te", "back\\slash", "ctl\u{1}\u{1f}", "tab\tnl\n", "ünï€"] {
            let mut out = String::new();
            write_str(&mut out, s);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
        }
    }

    #[test]
    fn every_byte_that_needs_an_escape_is_found_at_every_position() {
        // Lengths past two 16-byte chunks and an 8-byte word, so each scan
        // stage (16, 8, 1 bytes at a time) meets the escape at each offset.
        for len in 0..44 {
            for at in 0..len {
                for c in ['"', '\\', '\n', '\u{0}', '\u{1f}', 'é'] {
                    let s: String = (0..len).map(|i| if i == at { c } else { (b'a' + (i % 26) as u8) as char }).collect();
                    let mut out = String::new();
                    write_str(&mut out, &s);
                    assert_eq!(out, serde_json::to_string(&s).unwrap(), "{s:?}");
                }
            }
        }
    }

    fn int_bytes<T: itoa::Integer + Copy + TryInto<u32> + std::fmt::Display>(v: T) {
        let mut out = b"x".to_vec();
        push_int(&mut out, v);
        assert_eq!(out, format!("x{v}").into_bytes(), "{v}");
    }

    #[test]
    fn integers_are_written_in_decimal_at_every_digit_count() {
        [0i64, 1, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 123_456, -1, -9, -9999, -10_000, i64::MIN, i64::MAX].into_iter().for_each(int_bytes);
        [0u64, 7, 9999, 10_000, u64::from(u32::MAX) + 1, u64::MAX].into_iter().for_each(int_bytes);
        [i32::MIN, -1, 0, 4242, i32::MAX].into_iter().for_each(int_bytes);
    }

    #[test]
    fn a_window_record_has_the_fields_of_the_spec_in_order() {
        let w = WindowRecord {
            credential: "k1".into(),
            size_ms: 60_000,
            start: 1_777_888_800_000,
            end: 1_777_888_860_000,
            calls: 3,
            credits: 12_500_000,
            tokens_in: 10,
            tokens_out: 20,
            capabilities: smallvec::smallvec![("chat".into(), 2), ("embeddings".into(), 1)],
            distinct_models: 2,
        };
        assert_eq!(
            window_json(&w),
            r#"{"credential":"k1","window":"1m","start":"2026-05-04T10:00:00.000Z","end":"2026-05-04T10:01:00.000Z","calls":3,"credits":"12.5","tokens_in":10,"tokens_out":20,"capabilities":{"chat":2,"embeddings":1},"distinct_models":2}"#
        );
    }

    #[test]
    fn a_balance_record_renders_credits_months_and_expiry() {
        let b = BalanceRecord {
            credential: "k".into(),
            as_of: 1_777_593_600_000,
            month: 2026 * 12 + 4,
            available_at_start: -3_250_000,
            banked_at_start: 0,
            used: 1,
            used_banked: 0,
            remaining: 0,
            overage: 3_250_001,
            granted_total: 100_000_000,
            burned_total: 100_000_000,
            expired_total: 0,
            grants: smallvec::smallvec![GrantView { month: 2026 * 12 + 4, amount: 100_000_000, remaining: 0, expires: 2026 * 12 + 5 }],
        };
        let v: serde_json::Value = serde_json::from_str(&balance_json(&b)).unwrap();
        assert_eq!(v["month"], "2026-05");
        assert_eq!(v["available_at_start"], "-3.25");
        assert_eq!(v["used"], "0.000001");
        assert_eq!(v["grants"][0]["expires"], "2026-06-01T00:00:00.000Z");
        assert_eq!(v["as_of"], "2026-05-01T00:00:00.000Z");
    }

    #[test]
    fn a_rejected_record_keeps_the_original_text_and_error_headers() {
        let r = RejectedRecord {
            partition: 2,
            offset: 7,
            line: None,
            kind: RejectKind::MissingField,
            reason: "field `id` is required".into(),
            key: Some(b"k".to_vec()),
            value: Some(b"{\"x\":1}".to_vec()),
            headers: vec![("trace".into(), Some(b"t1".to_vec()))],
        };
        let v: serde_json::Value = serde_json::from_str(&rejected_json(&r)).unwrap();
        assert_eq!(v["value"], "{\"x\":1}");
        assert_eq!(v["line"], serde_json::Value::Null);
        let h = rejected_headers(&r, "ai.usage");
        assert_eq!(h[0].0, "trace");
        assert!(h.contains(&("bursar.error.kind".into(), Some(b"missing_field".to_vec()))));
        assert!(h.contains(&("bursar.source.offset".into(), Some(b"7".to_vec()))));
    }

    #[test]
    fn a_balance_record_is_written_byte_for_byte_in_the_spec_order() {
        let b = BalanceRecord {
            credential: "k".into(),
            as_of: 1_777_888_800_123,
            month: 2026 * 12 + 4,
            available_at_start: 1_500_000_000,
            banked_at_start: 500_000_000,
            used: 2_500_000,
            used_banked: 0,
            remaining: 1_497_500_000,
            overage: 0,
            granted_total: 2_000_000_000,
            burned_total: 2_500_000,
            expired_total: 500_000_000,
            grants: smallvec::smallvec![GrantView { month: 2026 * 12 + 3, amount: 1_000_000_000, remaining: 497_500_000, expires: 2026 * 12 + 5 }],
        };
        let text = balance_json(&b);
        assert_eq!(text, balance_json(&b.clone()));
        assert_eq!(
            text,
            r#"{"credential":"k","as_of":"2026-05-04T10:00:00.123Z","month":"2026-05","available_at_start":"1500","banked_at_start":"500","used":"2.5","used_banked":"0","remaining":"1497.5","overage":"0","granted_total":"2000","burned_total":"2.5","expired_total":"500","grants":[{"month":"2026-04","amount":"1000","remaining":"497.5","expires":"2026-06-01T00:00:00.000Z"}]}"#
        );
    }

    #[test]
    fn a_rejected_record_from_a_broker_has_no_line_no_key_and_lossy_text() {
        let r = RejectedRecord {
            partition: 0,
            offset: 3,
            line: None,
            kind: RejectKind::InvalidJson,
            reason: "value is not UTF-8".into(),
            key: None,
            value: Some(vec![b'{', 0xff, b'}']),
            headers: Vec::new(),
        };
        let want = "{\"partition\":0,\"offset\":3,\"line\":null,\"kind\":\"invalid_json\",\"reason\":\"value is not UTF-8\",\"key\":null,\"value\":\"{\u{fffd}}\"}";
        assert_eq!(rejected_json(&r), want);
    }

    #[test]
    fn rejected_headers_append_the_five_bursar_headers_in_order() {
        let r = RejectedRecord {
            partition: 5,
            offset: 99,
            line: Some(4),
            kind: RejectKind::TooLarge,
            reason: "value is 70000 bytes, over the limit of 65536".into(),
            key: Some(b"k".to_vec()),
            value: Some(Vec::new()),
            headers: vec![("a".into(), Some(b"1".to_vec())), ("b".into(), Some(Vec::new())), ("c".into(), None)],
        };
        let h = rejected_headers(&r, "ai.usage");
        let names: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "bursar.error.kind", "bursar.error.reason", "bursar.source.topic", "bursar.source.partition", "bursar.source.offset"]);
        assert_eq!((&h[1].1, &h[2].1), (&Some(Vec::new()), &None), "an empty header stays empty and a null one null");
        let values: Vec<&[u8]> = h.iter().skip(3).filter_map(|(_, v)| v.as_deref()).collect();
        assert_eq!(values, [&b"too_large"[..], r.reason.as_bytes(), b"ai.usage", b"5", b"99"]);
    }

    #[test]
    fn a_rejected_record_with_a_null_value_is_written_with_a_null_value() {
        let r = RejectedRecord {
            partition: 1,
            offset: 4,
            line: None,
            kind: RejectKind::InvalidJson,
            reason: "the value is not JSON".into(),
            key: Some(b"k".to_vec()),
            value: None,
            headers: Vec::new(),
        };
        let want = "{\"partition\":1,\"offset\":4,\"line\":null,\"kind\":\"invalid_json\",\"reason\":\"the value is not JSON\",\"key\":\"k\",\"value\":null}";
        assert_eq!(rejected_json(&r), want);
    }
}
