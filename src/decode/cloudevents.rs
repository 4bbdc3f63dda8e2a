//! CloudEvents 1.0 in both Kafka bindings (README.md, Inputs; docs/semantics.md, "Input").
//!
//! - Structured mode: the value is the envelope; chosen by the header
//!   `content-type: application/cloudevents+json`, or by a non-null
//!   `specversion` member in the value (the only way in a file).
//! - Binary mode: `ce_*` headers carry the attributes and the value is `data`;
//!   chosen by a `ce_specversion` header (only on a broker).
//!
//! The envelope `id` and `time` become the usage `id` and `time`, `subject`
//! becomes `credential`; every other usage field comes from `data` (also
//! `source`); `data`'s own `id`/`time`/`credential` and `datacontenttype` are
//! ignored. Header names are matched ignoring ASCII case; the last of
//! repeated headers wins.

use super::usage::{data_fields, parse_table, read, reject, Table, UsageFields};
use super::{Json, KeyName};
use super::rejection::{RejectKind, Rejection};

/// How a usage record is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Native,
    Structured,
    Binary,
}

/// The last header called `name` (ASCII case ignored).
pub(crate) fn header<'h>(headers: &[(&str, &'h [u8])], name: &str) -> Option<&'h [u8]> {
    headers.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}

/// `application/cloudevents+json`, parameters (`; charset=utf-8`) and case ignored.
fn is_structured_content_type(value: &[u8]) -> bool {
    let media = value.split(|&b| b == b';').next().unwrap_or(value);
    media.trim_ascii().eq_ignore_ascii_case(b"application/cloudevents+json")
}

/// The encoding of a record from its headers and top-level members.
pub(crate) fn mode(headers: &[(&str, &[u8])], table: &Table<'_>) -> Mode {
    header_mode(headers).unwrap_or(if table.get(KeyName::Specversion).is_some() { Mode::Structured } else { Mode::Native })
}

/// The encoding the headers alone decide; `None` when it rests on a non-null
/// `specversion` member of the value (structured) or its absence (native).
pub(crate) fn header_mode(headers: &[(&str, &[u8])]) -> Option<Mode> {
    if headers.is_empty() {
        None
    } else if header(headers, "content-type").is_some_and(is_structured_content_type) {
        Some(Mode::Structured)
    } else if header(headers, "ce_specversion").is_some() {
        Some(Mode::Binary)
    } else {
        None
    }
}

fn envelope_error(reason: String) -> Rejection {
    reject(RejectKind::InvalidCloudevent, reason)
}

/// A required attribute that must be a string (non-empty when `non_empty`).
fn attribute<'a>(v: Option<Json<'a>>, name: &str, non_empty: bool) -> Result<Json<'a>, Rejection> {
    match v {
        None => Err(envelope_error(format!("CloudEvent attribute `{name}` is required"))),
        Some(Json::Str(s)) if non_empty && s.is_empty() => {
            Err(envelope_error(format!("CloudEvent attribute `{name}` must be a non-empty string")))
        }
        Some(s @ Json::Str(_)) => Ok(s),
        Some(other) => {
            let need = if non_empty { "a non-empty string" } else { "a string" };
            Err(envelope_error(format!("CloudEvent attribute `{name}` must be {need}, got {}", other.type_name())))
        }
    }
}

fn check_specversion(v: Option<&Json<'_>>) -> Result<(), Rejection> {
    match v {
        Some(Json::Str(s)) if s == "1.0" => Ok(()),
        None => Err(envelope_error("CloudEvent attribute `specversion` is required".into())),
        Some(other) => Err(envelope_error(format!("CloudEvent attribute `specversion` must be the string \"1.0\", got {}", other.shown()))),
    }
}

/// The usage fields of a structured-mode CloudEvent.
pub(crate) fn structured<'a>(envelope: &Table<'a>) -> Result<UsageFields<'a>, Rejection> {
    let specversion = read(envelope, KeyName::Specversion)?;
    let id = read(envelope, KeyName::Id)?;
    let source = read(envelope, KeyName::Source)?;
    let kind = read(envelope, KeyName::Type)?;
    let subject = read(envelope, KeyName::Subject)?;
    let time = read(envelope, KeyName::Time)?;
    let data = read(envelope, KeyName::Data)?;
    // Decode data before the envelope checks, so that a bad string anywhere
    // read is `invalid_json`, which comes first.
    let mapped = match &data {
        Some(Json::Object(raw)) => {
            let table = parse_table(raw.get()).map_err(|_| reject(RejectKind::InvalidJson, "CloudEvent `data` is not a JSON object"))?;
            Some(data_fields(&table)?)
        }
        _ => None,
    };
    check_specversion(specversion.as_ref())?;
    let id = attribute(id, "id", true)?;
    attribute(source, "source", true)?;
    attribute(kind, "type", true)?;
    let subject = attribute(subject, "subject", false)?;
    let time = attribute(time, "time", false)?;
    let Some(fields) = mapped else {
        let reason = if data.is_none() && envelope.get(KeyName::DataBase64).is_some() {
            "CloudEvent `data_base64` is not supported: put the usage fields in `data` as a JSON object".to_string()
        } else if let Some(other) = data {
            format!("CloudEvent `data` must be a JSON object holding the usage fields, got {}", other.type_name())
        } else {
            "CloudEvent `data` is required: a JSON object holding the usage fields".to_string()
        };
        return Err(envelope_error(reason));
    };
    Ok(UsageFields { id: Some(id), time: Some(time), credential: Some(subject), cloud: true, ..fields })
}

/// A required `ce_*` header as UTF-8 text (non-empty when `non_empty`).
fn header_attribute<'h>(headers: &[(&str, &'h [u8])], name: &str, non_empty: bool) -> Result<&'h str, Rejection> {
    let Some(bytes) = header(headers, name) else {
        return Err(envelope_error(format!("CloudEvent header `{name}` is required")));
    };
    let text = std::str::from_utf8(bytes).map_err(|_| envelope_error(format!("CloudEvent header `{name}` must be UTF-8 text")))?;
    if non_empty && text.is_empty() {
        return Err(envelope_error(format!("CloudEvent header `{name}` must not be empty")));
    }
    Ok(text)
}

/// The usage fields of a binary-mode CloudEvent: attributes from `ce_*`
/// headers, `data` = the value (already parsed into `data`).
pub(crate) fn binary<'a>(headers: &[(&str, &'a [u8])], data: &Table<'a>) -> Result<UsageFields<'a>, Rejection> {
    let fields = data_fields(data)?;
    let specversion = header_attribute(headers, "ce_specversion", false)?;
    if specversion != "1.0" {
        let shown = super::shown(&serde_json::to_string(specversion).unwrap_or_default());
        return Err(envelope_error(format!("CloudEvent header `ce_specversion` must be \"1.0\", got {shown}")));
    }
    let id = header_attribute(headers, "ce_id", true)?;
    header_attribute(headers, "ce_source", true)?;
    header_attribute(headers, "ce_type", true)?;
    let subject = header_attribute(headers, "ce_subject", false)?;
    let time = header_attribute(headers, "ce_time", false)?;
    let text = |s: &'a str| Some(Json::Str(s.into()));
    Ok(UsageFields { id: text(id), time: text(time), credential: text(subject), cloud: true, ..fields })
}

#[cfg(test)]
mod tests {
    use crate::decode::decode_usage;
    use crate::decode::RejectKind;
    use serde_json::{json, Value};

    fn envelope() -> Value {
        json!({"specversion": "1.0", "id": "ce-1", "source": "/gw", "type": "io.example.usage",
               "subject": "key_7f3a", "time": "2026-05-04T10:00:00Z", "datacontenttype": "application/json",
               "data": {"id": "ignored", "time": "2000-01-01T00:00:00Z", "credential": "ignored",
                        "capability": "chat", "credits": "2", "source": "gw-data", "model": "m"}})
    }

    fn kind_of(v: &Value) -> RejectKind {
        decode_usage(v.to_string().as_bytes(), &[], 65536).expect_err("should be rejected").kind
    }

    #[test]
    fn a_structured_event_maps_envelope_id_time_and_subject() {
        let e = decode_usage(envelope().to_string().as_bytes(), &[], 65536).unwrap();
        assert_eq!(e.id, "ce-1");
        assert_eq!(e.time, 1_777_888_800_000);
        assert_eq!(e.credential, "key_7f3a");
        assert_eq!(e.capability, "chat");
        assert_eq!(e.credits, 2_000_000);
        assert_eq!(e.source.as_deref(), Some("gw-data"));
    }

    #[test]
    fn ignored_members_of_data_are_not_read() {
        // A lone surrogate is `invalid_json` in a member bursar reads, but
        // data's own id, time and credential are never read.
        let lone = |text: String| text.replace("\"ignored\"", "\"\\ud800\"").replace("\"2000-01-01T00:00:00Z\"", "\"\\ud800\"");
        let structured = lone(envelope().to_string());
        assert_eq!(structured.matches("\\ud800").count(), 3, "{structured}");
        let e = decode_usage(structured.as_bytes(), &[], 65536).unwrap();
        assert_eq!((e.id.as_str(), e.credential.as_str()), ("ce-1", "key_7f3a"));
        let headers = [("ce_specversion", &b"1.0"[..]), ("ce_id", b"b-1"), ("ce_source", b"/gw"), ("ce_type", b"t"), ("ce_subject", b"key_b"), ("ce_time", b"2026-05-04T10:00:00Z")];
        let data = lone(envelope()["data"].to_string());
        assert_eq!(decode_usage(data.as_bytes(), &headers, 65536).unwrap().credential, "key_b");
        let native = lone(envelope()["data"].to_string());
        assert_eq!(decode_usage(native.as_bytes(), &[], 65536).unwrap_err().kind, RejectKind::InvalidJson);
    }

    #[test]
    fn the_content_type_header_selects_structured_mode() {
        let mut v = envelope();
        v.as_object_mut().unwrap().remove("specversion");
        let headers: [(&str, &[u8]); 1] = [("content-type", b"application/cloudevents+json; charset=utf-8")];
        let r = decode_usage(v.to_string().as_bytes(), &headers, 65536).unwrap_err();
        assert_eq!(r.kind, RejectKind::InvalidCloudevent);
        assert_eq!(r.reason, "CloudEvent attribute `specversion` is required");
        // Without the header the same value is a native event (missing its credential).
        assert_eq!(kind_of(&v), RejectKind::MissingField);
    }

    #[test]
    fn envelope_defects_are_invalid_cloudevent() {
        let cases: [(&str, Value); 11] = [
            ("specversion", json!(1.0)),
            ("specversion", json!("1.1")),
            ("id", json!("")),
            ("id", Value::Null),
            ("source", json!(5)),
            ("type", json!("")),
            ("subject", json!(5)),
            ("subject", Value::Null),
            ("time", json!(false)),
            ("data", json!("text")),
            ("data", Value::Null),
        ];
        for (field, bad) in cases {
            let mut v = envelope();
            v[field] = bad.clone();
            assert_eq!(kind_of(&v), RejectKind::InvalidCloudevent, "{field} = {bad}");
        }
        let mut v = envelope();
        let data = v.as_object_mut().unwrap().remove("data").unwrap();
        v["data_base64"] = json!("e30=");
        assert!(decode_usage(v.to_string().as_bytes(), &[], 65536).unwrap_err().reason.contains("data_base64"));
        v["data"] = data;
        assert!(decode_usage(v.to_string().as_bytes(), &[], 65536).is_ok());
    }

    #[test]
    fn mapped_fields_are_checked_like_native_ones() {
        let mut v = envelope();
        v["subject"] = json!("");
        let r = decode_usage(v.to_string().as_bytes(), &[], 65536).unwrap_err();
        assert_eq!(r.kind, RejectKind::InvalidField);
        assert!(r.reason.contains("`credential`"), "{}", r.reason);
        let mut v = envelope();
        v["time"] = json!("not a time");
        assert_eq!(kind_of(&v), RejectKind::InvalidField);
        let mut v = envelope();
        v["id"] = json!("x".repeat(129));
        assert_eq!(kind_of(&v), RejectKind::InvalidField);
        let mut v = envelope();
        v["data"].as_object_mut().unwrap().remove("capability");
        assert_eq!(kind_of(&v), RejectKind::MissingField);
        let mut v = envelope();
        v["subject"] = json!("ghp_abcdef");
        let e = decode_usage(v.to_string().as_bytes(), &[], 65536).unwrap();
        assert!(e.exposed && e.credential.starts_with("sha256:"));
    }

    fn binary_headers() -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("ce_specversion", b"1.0"),
            ("ce_id", b"b-1"),
            ("ce_source", b"/gw"),
            ("ce_type", b"io.example.usage"),
            ("ce_subject", b"key_b"),
            ("ce_time", b"2026-05-04T10:00:00Z"),
        ]
    }

    #[test]
    fn a_binary_event_takes_attributes_from_headers_and_data_from_the_value() {
        let data = br#"{"id":"ignored","credential":"ignored","capability":"chat","credits":1,"specversion":"x"}"#;
        let e = decode_usage(data, &binary_headers(), 65536).unwrap();
        assert_eq!((e.id.as_str(), e.credential.as_str(), e.time), ("b-1", "key_b", 1_777_888_800_000));
        for missing in ["ce_id", "ce_source", "ce_type", "ce_subject", "ce_time"] {
            let headers: Vec<_> = binary_headers().into_iter().filter(|(k, _)| *k != missing).collect();
            assert_eq!(decode_usage(data, &headers, 65536).unwrap_err().kind, RejectKind::InvalidCloudevent, "{missing}");
        }
        let mut headers = binary_headers();
        headers[0].1 = b"0.3";
        assert_eq!(decode_usage(data, &headers, 65536).unwrap_err().kind, RejectKind::InvalidCloudevent);
        let mut headers = binary_headers();
        headers[4].1 = b"\xff";
        assert_eq!(decode_usage(data, &headers, 65536).unwrap_err().kind, RejectKind::InvalidCloudevent);
        // A value that is not a JSON object is invalid_json first.
        assert_eq!(decode_usage(b"[1]", &binary_headers(), 65536).unwrap_err().kind, RejectKind::InvalidJson);
        assert_eq!(decode_usage(b"", &binary_headers(), 65536).unwrap_err().kind, RejectKind::InvalidJson);
    }
}
