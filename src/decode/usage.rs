//! Usage events (README.md, Inputs; docs/semantics.md, "Input"): bytes to a validated, redacted
//! [`UsageEvent`], or a [`Rejection`] with the first kind that applies:
//! `too_large`, `invalid_json`, `invalid_cloudevent`, then the README's usage fields in
//! table order, missing before invalid for each field.

use std::borrow::Cow;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::cloudevents::{self, Mode};
use super::fast;
use super::secrets::{is_raw_secret, redacted_id};
use super::{json_error_reason, read_count, read_credits, read_string, read_time, too_deep, Json, KeyName, MAX_DEPTH};
use super::rejection::{RejectKind, Rejection};
use crate::model::usage::Text;
use crate::model::UsageEvent;

/// The kept members of one JSON object, by [`KeyName`]; `None` when absent or
/// `null` (the last duplicate wins).
pub(crate) struct Table<'a>([Option<&'a RawValue>; KeyName::KEPT]);

impl<'a> Table<'a> {
    pub(crate) fn get(&self, name: KeyName) -> Option<&'a RawValue> {
        self.0.get(name as usize).copied().flatten()
    }
}

struct TableVisitor;

impl<'de> Visitor<'de> for TableVisitor {
    type Value = Table<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Table<'de>, A::Error> {
        let mut slots = [None; KeyName::KEPT];
        while let Some(name) = map.next_key::<KeyName>()? {
            if name == KeyName::Other {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let raw: &'de RawValue = map.next_value()?;
            slots[name as usize] = if raw.get() == "null" { None } else { Some(raw) };
        }
        Ok(Table(slots))
    }
}

/// Parses `text` as one JSON object into its kept members.
pub(crate) fn parse_table(text: &str) -> Result<Table<'_>, serde_json::Error> {
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_str(text);
    let table = (&mut de).deserialize_map(TableVisitor)?;
    de.end()?;
    Ok(table)
}

/// The usage fields of a record before their checks; `None` when absent.
#[derive(Default)]
pub(crate) struct UsageFields<'a> {
    pub id: Option<Json<'a>>,
    pub time: Option<Json<'a>>,
    pub credential: Option<Json<'a>>,
    pub capability: Option<Json<'a>>,
    pub model: Option<Json<'a>>,
    pub credits: Option<Json<'a>>,
    pub tokens_in: Option<Json<'a>>,
    pub tokens_out: Option<Json<'a>>,
    pub principal: Option<Json<'a>>,
    pub source: Option<Json<'a>>,
    pub src_ip: Option<Json<'a>>,
    /// The record was a CloudEvent (`credential` came from `subject`).
    pub cloud: bool,
}

/// A string member whose escapes are not Unicode text.
pub(crate) fn bad_string() -> Rejection {
    reject(RejectKind::InvalidJson, "a string holds an escape that is not Unicode text (a lone surrogate)")
}

/// Reads one kept member of `table`.
pub(crate) fn read<'a>(table: &Table<'a>, name: KeyName) -> Result<Option<Json<'a>>, Rejection> {
    match table.get(name) {
        None => Ok(None),
        Some(raw) => Json::read(raw).map_err(|_| bad_string()),
    }
}

/// The native usage fields of an object.
pub(crate) fn native_fields<'a>(t: &Table<'a>) -> Result<UsageFields<'a>, Rejection> {
    Ok(UsageFields { id: read(t, KeyName::Id)?, time: read(t, KeyName::Time)?, credential: read(t, KeyName::Credential)?, cloud: false, ..data_fields(t)? })
}

/// The usage fields of a CloudEvent's `data`: its own `id`, `time` and
/// `credential` are ignored (docs/semantics.md), so they are not read at all.
pub(crate) fn data_fields<'a>(t: &Table<'a>) -> Result<UsageFields<'a>, Rejection> {
    Ok(UsageFields {
        id: None,
        time: None,
        credential: None,
        capability: read(t, KeyName::Capability)?,
        model: read(t, KeyName::Model)?,
        credits: read(t, KeyName::Credits)?,
        tokens_in: read(t, KeyName::TokensIn)?,
        tokens_out: read(t, KeyName::TokensOut)?,
        principal: read(t, KeyName::Principal)?,
        source: read(t, KeyName::Source)?,
        src_ip: read(t, KeyName::SrcIp)?,
        cloud: true,
    })
}

pub(crate) fn reject(kind: RejectKind, reason: impl Into<String>) -> Rejection {
    Rejection { kind, reason: reason.into() }
}

/// Decodes one usage record value with its Kafka headers (empty for a file
/// line). Never panics; every string field of the returned event that was a
/// raw secret is redacted (`exposed` tells whether `credential` was). The
/// fast path decides the ordinary records, the reference decoder the rest.
pub fn decode_usage(value: &[u8], headers: &[(&str, &[u8])], max_value_bytes: usize) -> Result<UsageEvent, Rejection> {
    match fast::decode(value, headers, max_value_bytes) {
        Some(accepted) => Ok(accepted.event),
        None => decode_usage_reference(value, headers, max_value_bytes),
    }
}

/// The reference decoder: what [`decode_usage`] returns, reached without the
/// fast path (for tests and measurements). The only source of rejections.
#[doc(hidden)]
pub fn decode_usage_reference(value: &[u8], headers: &[(&str, &[u8])], max_value_bytes: usize) -> Result<UsageEvent, Rejection> {
    if value.len() > max_value_bytes {
        let reason = format!("the value is {} bytes, over the limit of {max_value_bytes}", value.len());
        return Err(reject(RejectKind::TooLarge, reason));
    }
    let text = std::str::from_utf8(value).map_err(|e| {
        reject(RejectKind::InvalidJson, format!("the value is not UTF-8 (invalid byte at offset {})", e.valid_up_to()))
    })?;
    let table = parse_table(text).map_err(|e| reject(RejectKind::InvalidJson, json_error_reason(text, &e)))?;
    if too_deep(value) {
        return Err(reject(RejectKind::InvalidJson, format!("arrays and objects nest deeper than {MAX_DEPTH} levels")));
    }
    let fields = match cloudevents::mode(headers, &table) {
        Mode::Native => native_fields(&table)?,
        Mode::Structured => cloudevents::structured(&table)?,
        Mode::Binary => cloudevents::binary(headers, &table)?,
    };
    check(fields)
}

/// The raw `credential` (native) or `subject` (structured CloudEvent) string
/// of a file line, before redaction, for partitioning (docs/semantics.md). Parsed
/// whatever the size or other defects of the line; None when there is none.
pub fn key_hint(value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?;
    match fast::key_hint(text) {
        Some(hint) => hint.map(Cow::into_owned),
        None => key_hint_of_text(text),
    }
}

/// What [`key_hint`] returns, reached without the fast path (for tests).
#[doc(hidden)]
pub fn key_hint_reference(value: &[u8]) -> Option<String> {
    key_hint_of_text(std::str::from_utf8(value).ok()?)
}

/// [`key_hint`] of UTF-8 text by the reference reading.
fn key_hint_of_text(text: &str) -> Option<String> {
    let table = parse_table(text).ok()?;
    let name = if table.get(KeyName::Specversion).is_some() { KeyName::Subject } else { KeyName::Credential };
    match read(&table, name).ok()?? {
        Json::Str(s) => Some(s.into_owned()),
        _ => None,
    }
}

/// A field's name in reasons.
fn label(name: &str, cloud: bool) -> Cow<'static, str> {
    match (name, cloud) {
        ("credential", true) => Cow::Borrowed("field `credential` (the CloudEvent `subject`)"),
        ("id", true) => Cow::Borrowed("field `id` (the CloudEvent `id`)"),
        ("time", true) => Cow::Borrowed("field `time` (the CloudEvent `time`)"),
        (other, _) => Cow::Owned(format!("field `{other}`")),
    }
}

fn required<'a>(v: Option<Json<'a>>, name: &str, cloud: bool) -> Result<Json<'a>, Rejection> {
    v.ok_or_else(|| reject(RejectKind::MissingField, format!("{} is required", label(name, cloud))))
}

fn invalid(name: &str, cloud: bool) -> impl Fn(String) -> Rejection + '_ {
    move |problem| reject(RejectKind::InvalidField, format!("{} {problem}", label(name, cloud)))
}

fn optional_string(v: Option<Json<'_>>, name: &str, max: usize) -> Result<Option<Text>, Rejection> {
    v.map(|v| read_string(v, 0, max, true).map(scrub)).transpose().map_err(invalid(name, false))
}

/// A string field as kept: a raw secret (docs/semantics.md) is replaced by its
/// redacted id, so none leaves bursar through any field of an event.
fn scrub(s: Cow<'_, str>) -> Text {
    if is_raw_secret(&s) {
        Text::from(redacted_id(&s))
    } else {
        Text::from(s)
    }
}

/// Checks the fields in README.md table order and builds the event.
fn check(f: UsageFields<'_>) -> Result<UsageEvent, Rejection> {
    let c = f.cloud;
    let id = read_string(required(f.id, "id", c)?, 1, 128, true).map_err(invalid("id", c))?;
    let time = read_time(&required(f.time, "time", c)?, true).map_err(invalid("time", c))?;
    let credential = read_string(required(f.credential, "credential", c)?, 1, 256, false).map_err(invalid("credential", c))?;
    let capability = read_string(required(f.capability, "capability", c)?, 1, 64, true).map_err(invalid("capability", c))?;
    let model = optional_string(f.model, "model", 128)?.filter(|m| !m.is_empty());
    let credits = read_credits(&required(f.credits, "credits", c)?).map_err(invalid("credits", c))?;
    let tokens_in = f.tokens_in.map_or(Ok(0), |v| read_count(&v)).map_err(invalid("tokens_in", c))?;
    let tokens_out = f.tokens_out.map_or(Ok(0), |v| read_count(&v)).map_err(invalid("tokens_out", c))?;
    // An empty principal or src_ip is absent, as an empty model.
    let principal = optional_string(f.principal, "principal", usize::MAX)?.filter(|p| !p.is_empty());
    let source = optional_string(f.source, "source", usize::MAX)?;
    let src_ip = optional_string(f.src_ip, "src_ip", usize::MAX)?.filter(|s| !s.is_empty());
    // Step 1 of docs/semantics.md: only a raw secret in `credential` is
    // `credential.exposed`; one in any other field is redacted all the same.
    let exposed = is_raw_secret(&credential);
    Ok(UsageEvent {
        id: scrub(id),
        time,
        credential: scrub(credential),
        capability: scrub(capability),
        model,
        credits,
        tokens_in,
        tokens_out,
        principal,
        source,
        src_ip,
        exposed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const MAX: usize = 65536;

    fn good() -> Value {
        json!({"id": "e1", "time": "2026-05-04T10:00:00Z", "credential": "key_7f3a", "capability": "chat",
               "model": "llama-3", "credits": "1.5", "tokens_in": 10, "tokens_out": 20,
               "principal": "svc-a", "source": "gw-1", "src_ip": "10.0.0.1"})
    }

    fn decode(v: &Value) -> Result<UsageEvent, Rejection> {
        decode_usage(v.to_string().as_bytes(), &[], MAX)
    }

    fn kind_of(v: &Value) -> RejectKind {
        decode(v).expect_err("should be rejected").kind
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = good();
        v[field] = value;
        v
    }

    fn without(field: &str) -> Value {
        let mut v = good();
        v.as_object_mut().unwrap().remove(field);
        v
    }

    #[test]
    fn a_complete_native_event_decodes_every_field() {
        let e = decode(&good()).unwrap();
        assert_eq!(e.id, "e1");
        assert_eq!(e.time, 1_777_888_800_000);
        assert_eq!(e.credential, "key_7f3a");
        assert_eq!(e.capability, "chat");
        assert_eq!(e.model.as_deref(), Some("llama-3"));
        assert_eq!(e.credits, 1_500_000);
        assert_eq!((e.tokens_in, e.tokens_out), (10, 20));
        assert_eq!(e.principal.as_deref(), Some("svc-a"));
        assert_eq!(e.source.as_deref(), Some("gw-1"));
        assert_eq!(e.src_ip.as_deref(), Some("10.0.0.1"));
        assert!(!e.exposed);
    }

    #[test]
    fn optional_fields_default_and_null_members_are_absent() {
        let v = json!({"id": "e1", "time": "2026-05-04T10:00:00Z", "credential": "k", "capability": "chat",
                       "credits": 0, "model": "", "tokens_in": null, "principal": null, "extra": {"x": [1]}});
        let e = decode(&v).unwrap();
        assert_eq!((e.model, e.tokens_in, e.tokens_out, e.principal), (None, 0, 0, None));
        assert_eq!(kind_of(&with("id", Value::Null)), RejectKind::MissingField);
        let v = json!({"id": "e1", "time": "2026-05-04T10:00:00Z", "credential": "k", "capability": "chat",
                       "credits": 0, "principal": "", "src_ip": "", "source": ""});
        let e = decode(&v).unwrap();
        assert_eq!((e.principal, e.src_ip, e.source.as_deref()), (None, None, Some("")));
    }

    #[test]
    fn each_rejection_kind_has_its_cause() {
        let v = good().to_string();
        assert_eq!(decode_usage(v.as_bytes(), &[], v.len() - 1).unwrap_err().kind, RejectKind::TooLarge);
        assert!(decode_usage(v.as_bytes(), &[], v.len()).is_ok());
        for bad in [&b"\xff{}"[..], b"not json", b"[1,2]", b"\"str\"", b"{\"a\":NaN}", b"{\"credits\":Infinity}", b"{} {}", b""] {
            assert_eq!(decode_usage(bad, &[], MAX).unwrap_err().kind, RejectKind::InvalidJson, "{bad:?}");
        }
        assert_eq!(kind_of(&without("capability")), RejectKind::MissingField);
        assert_eq!(kind_of(&with("capability", json!(""))), RejectKind::InvalidField);
    }

    #[test]
    fn nesting_deeper_than_128_levels_is_invalid_json() {
        let nest = |depth: usize| {
            let mut v = good().to_string();
            v.pop();
            format!("{v},\"deep\":{}1{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1))
        };
        assert!(decode_usage(nest(128).as_bytes(), &[], MAX).is_ok());
        assert_eq!(decode_usage(nest(129).as_bytes(), &[], MAX).unwrap_err().kind, RejectKind::InvalidJson);
    }

    #[test]
    fn the_first_defect_in_kind_and_field_order_is_reported() {
        let big = format!("{{\"id\":{}}}", "1".repeat(100));
        assert_eq!(decode_usage(big.as_bytes(), &[], 50).unwrap_err().kind, RejectKind::TooLarge);
        // Missing id beats an invalid time; an invalid id beats a missing time.
        let mut v = with("time", json!("yesterday"));
        v.as_object_mut().unwrap().remove("id");
        assert_eq!(decode(&v).unwrap_err().reason, "field `id` is required");
        let mut v = with("id", json!(7));
        v.as_object_mut().unwrap().remove("time");
        assert_eq!(kind_of(&v), RejectKind::InvalidField);
        // credits before tokens, tokens_in before tokens_out.
        let mut v = with("credits", json!(-1));
        v["tokens_in"] = json!(-1);
        assert!(decode(&v).unwrap_err().reason.starts_with("field `credits`"));
        let mut v = with("tokens_out", json!("x"));
        v["tokens_in"] = json!(1.5);
        assert!(decode(&v).unwrap_err().reason.starts_with("field `tokens_in`"));
        // A structured CloudEvent with a bad envelope is invalid_cloudevent before its fields.
        let ce = json!({"specversion": "0.3", "id": "x", "source": "s", "type": "t", "subject": "k", "time": "t", "data": {}});
        assert_eq!(kind_of(&ce), RejectKind::InvalidCloudevent);
    }

    #[test]
    fn field_types_and_lengths_are_checked_in_code_points() {
        assert!(decode(&with("id", json!("é".repeat(128)))).is_ok());
        assert_eq!(kind_of(&with("id", json!("é".repeat(129)))), RejectKind::InvalidField);
        assert!(decode(&with("credential", json!("k".repeat(256)))).is_ok());
        assert_eq!(kind_of(&with("credential", json!("k".repeat(257)))), RejectKind::InvalidField);
        assert_eq!(kind_of(&with("capability", json!("c".repeat(65)))), RejectKind::InvalidField);
        assert_eq!(kind_of(&with("model", json!("m".repeat(129)))), RejectKind::InvalidField);
        for (field, bad) in [("principal", json!(1)), ("source", json!([])), ("src_ip", json!({})), ("model", json!(true)), ("time", json!(1))] {
            assert_eq!(kind_of(&with(field, bad)), RejectKind::InvalidField, "{field}");
        }
        assert_eq!(kind_of(&with("time", json!("2026-05-04 10:00:00Z"))), RejectKind::InvalidField);
        assert_eq!(kind_of(&with("time", json!("2201-01-01T00:00:00Z"))), RejectKind::InvalidField);
        assert_eq!(decode(&with("time", json!("2026-05-04T10:00:00.1239Z"))).unwrap().time, 1_777_888_800_123);
    }

    #[test]
    fn credits_are_exact_from_json_text_or_decimal_strings() {
        let credits = |raw: &str| {
            let mut v = good().to_string();
            v = v.replace("\"credits\":\"1.5\"", &format!("\"credits\":{raw}"));
            decode_usage(v.as_bytes(), &[], MAX).map(|e| e.credits).map_err(|r| r.kind)
        };
        assert_eq!(credits("0.0000035"), Ok(4));
        assert_eq!(credits("0.0000025"), Ok(2));
        assert_eq!(credits("-0"), Ok(0));
        assert_eq!(credits("-0.0e3"), Ok(0));
        assert_eq!(credits("1e3"), Ok(1_000_000_000));
        assert_eq!(credits("9223372036854.775807"), Ok(i64::MAX));
        assert_eq!(credits("\"12.5\""), Ok(12_500_000));
        assert_eq!(credits("\"007\""), Ok(7_000_000));
        for bad in ["-1", "-0.0000001", "9223372036854.775808", "1e19", "1e400", "\"-1\"", "\"1e3\"", "\".5\"", "\"1.\"", "\"\"", "true", "[1]"] {
            assert_eq!(credits(bad), Err(RejectKind::InvalidField), "{bad}");
        }
        assert_eq!(decode(&with("credits", json!(-1))).unwrap_err().reason, "field `credits` must be a non-negative decimal number, got -1");
    }

    #[test]
    fn tokens_are_json_integers_up_to_i64_max() {
        assert_eq!(decode(&with("tokens_in", json!(i64::MAX))).unwrap().tokens_in, i64::MAX);
        let raw = good().to_string().replace("\"tokens_in\":10", "\"tokens_in\":-0");
        assert_eq!(decode_usage(raw.as_bytes(), &[], MAX).unwrap().tokens_in, 0);
        for bad in [json!(1.0), json!(-1), json!(u64::MAX), json!("5"), json!(1e3)] {
            assert_eq!(kind_of(&with("tokens_out", bad.clone())), RejectKind::InvalidField, "{bad}");
        }
        let raw = good().to_string().replace("\"tokens_in\":10", "\"tokens_in\":1e3");
        assert_eq!(decode_usage(raw.as_bytes(), &[], MAX).unwrap_err().kind, RejectKind::InvalidField);
    }

    #[test]
    fn a_raw_secret_credential_is_redacted_and_marked_exposed() {
        let e = decode(&with("credential", json!("sk-ant-api03-secret"))).unwrap();
        assert_eq!(e.credential, redacted_id("sk-ant-api03-secret"));
        assert!(e.exposed);
        let r = decode(&with("credential", json!(format!("sk-{}", "x".repeat(300))))).unwrap_err();
        assert!(!r.reason.contains("sk-"));
    }

    #[test]
    fn a_raw_secret_in_any_other_field_is_redacted_without_exposure() {
        let secret = "ghp_0123456789abcdefABCDEF0123456789abcd";
        for field in ["id", "capability", "model", "principal", "source", "src_ip"] {
            let e = decode(&with(field, json!(secret))).unwrap();
            let text = format!("{e:?}");
            assert!(!text.contains(secret) && text.contains(&redacted_id(secret)), "{field}: {text}");
            assert!(!e.exposed && e.credential == "key_7f3a", "{field}");
        }
    }

    #[test]
    fn the_last_duplicate_member_wins_and_escapes_are_decoded() {
        let raw = r#"{"id":"a","id":"b","time":"2026-05-04T10:00:00Z","credential":"k\u0031","capability":"ch\"at","credits":1,"credits":null}"#;
        assert_eq!(decode_usage(raw.as_bytes(), &[], MAX).unwrap_err().kind, RejectKind::MissingField);
        let raw = raw.replace(",\"credits\":null", "");
        let e = decode_usage(raw.as_bytes(), &[], MAX).unwrap();
        assert_eq!((e.id.as_str(), e.credential.as_str(), e.capability.as_str()), ("b", "k1", "ch\"at"));
    }

    #[test]
    fn a_lone_surrogate_in_a_read_field_is_invalid_json() {
        let raw = r#"{"id":"\ud800","time":"2026-05-04T10:00:00Z","credential":"k","capability":"chat","credits":1}"#;
        assert_eq!(decode_usage(raw.as_bytes(), &[], MAX).unwrap_err().kind, RejectKind::InvalidJson);
    }

    #[test]
    fn the_key_hint_is_the_raw_credential_or_subject() {
        assert_eq!(key_hint(good().to_string().as_bytes()).as_deref(), Some("key_7f3a"));
        assert_eq!(key_hint(br#"{"credential":"sk-abc","id":5}"#).as_deref(), Some("sk-abc"));
        assert_eq!(key_hint(br#"{"specversion":"1.0","subject":"s1","credential":"c"}"#).as_deref(), Some("s1"));
        assert_eq!(key_hint(br#"{"specversion":null,"subject":"s1","credential":"c"}"#).as_deref(), Some("c"));
        assert_eq!(key_hint(br#"{"credential":5}"#), None);
        assert_eq!(key_hint(b"not json"), None);
        assert_eq!(key_hint(br#"{"id":"x"}"#), None);
    }
}
