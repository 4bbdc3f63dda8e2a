//! Bytes in, typed records out: usage events (native JSON and CloudEvents),
//! entitlements and secret redaction.
//!
//! Decoding reads JSON with serde_json but keeps every member it needs as
//! borrowed raw text (`&RawValue`): strings without escapes are sliced, not
//! copied, and numbers keep their exact decimal text so that credits never
//! pass through a binary float. The helpers shared by the usage and
//! entitlement decoders live here.

mod cloudevents;
pub mod entitlement;
pub mod entitlement_keys;
mod fast;

pub mod rejection;
mod scan;
pub mod secrets;
mod usage;

pub use rejection::{RejectKind, Rejection};
pub use usage::{decode_usage, decode_usage_reference, key_hint, key_hint_reference};

use crate::model::UsageEvent;

/// A usage record decoded together with its key hint, from one pass over
/// the value when the record is ordinary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// What [`decode_usage`] returns.
    pub event: Result<UsageEvent, Rejection>,
    /// What [`key_hint`] returns for the value (borrowed from it when the
    /// string has no escapes).
    pub key_hint: Option<Cow<'a, str>>,
}

/// [`decode_usage`] and [`key_hint`] of one value at once: file replay needs
/// both for every line.
pub fn decode_usage_keyed<'a>(value: &'a [u8], headers: &[(&str, &[u8])], max_value_bytes: usize) -> Decoded<'a> {
    match fast::decode(value, headers, max_value_bytes) {
        Some(accepted) => Decoded { event: Ok(accepted.event), key_hint: accepted.key_hint },
        None => Decoded { event: decode_usage_reference(value, headers, max_value_bytes), key_hint: key_hint(value).map(Cow::Owned) },
    }
}

/// Whether the fast path decides `value` on its own (for tests: the ordinary
/// shapes must not fall back to the reference decoder).
#[doc(hidden)]
pub fn fast_path_accepts(value: &[u8], headers: &[(&str, &[u8])], max_value_bytes: usize) -> bool {
    fast::decode(value, headers, max_value_bytes).is_some()
}

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::model::credits::{self, CreditsError};
use crate::model::time::{self, TimeError};

/// Deepest accepted nesting of arrays and objects; the top-level object is
/// level 1 (docs/semantics.md: "nesting deeper than 128" is `invalid_json`).
pub const MAX_DEPTH: usize = 128;

/// True when `line` is no record: empty or only whitespace (docs/semantics.md).
/// Whitespace is JSON's (space, tab, CR, LF): any other byte, such as a form
/// feed or a no-break space, makes the line a record (then `invalid_json`).
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The records of a JSON Lines text held in memory: each non-blank line with
/// its physical line number (from 1), a trailing `\r` stripped (docs/semantics.md).
pub fn json_lines(text: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    // `text.split(|&b| b == b'\n')`, with a vectorised search for the newlines.
    let mut start = 0;
    let lines = memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len())).map(move |end| {
        let line = &text[start..end];
        start = end + 1;
        line
    });
    lines.enumerate().map(|(i, line)| (i as u64 + 1, line.strip_suffix(b"\r").unwrap_or(line))).filter(|(_, line)| !is_blank(line))
}

/// True when arrays and objects in the (syntactically valid) JSON `text`
/// nest deeper than [`MAX_DEPTH`]. serde_json skips ignored and raw values
/// without a depth limit, so the limit is enforced here.
pub(crate) fn too_deep(text: &[u8]) -> bool {
    if !may_be_too_deep(text) {
        return false;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The cheap pre-check of [`too_deep`]: false when `text` holds at most
/// [`MAX_DEPTH`] openers (`{` or `[`, in strings too), so cannot nest too deep.
pub(crate) fn may_be_too_deep(text: &[u8]) -> bool {
    // `{` and `[` are the only bytes that are `{` with bit 0x20 set. Counted
    // in chunks whose count fits in a u8, so the loop vectorises well.
    let opener = |b: &u8| u8::from(b | 0x20 == b'{');
    let mut chunks = text.chunks_exact(255);
    let mut openers: usize = (&mut chunks).map(|c| usize::from(c.iter().map(opener).sum::<u8>())).sum();
    openers += usize::from(chunks.remainder().iter().map(opener).sum::<u8>());
    openers > MAX_DEPTH
}

/// The shape of one JSON value, read from its raw text. `null` never appears
/// here: a `null` member is absent.
#[derive(Debug, Clone)]
pub(crate) enum Json<'a> {
    Bool(&'a str),
    /// The exact text of the number.
    Number(&'a str),
    Str(Cow<'a, str>),
    Array(&'a RawValue),
    Object(&'a RawValue),
}

/// A string member whose escapes do not form Unicode text (a lone surrogate).
#[derive(Debug)]
pub(crate) struct BadString;

impl<'a> Json<'a> {
    /// Classifies a raw value; `Ok(None)` for `null`.
    pub(crate) fn read(raw: &'a RawValue) -> Result<Option<Json<'a>>, BadString> {
        let text = raw.get();
        let json = match text.as_bytes().first() {
            Some(b'n') | None => return Ok(None),
            Some(b't' | b'f') => Json::Bool(text),
            Some(b'"') => {
                let inner = &text[1..text.len() - 1];
                if inner.contains('\\') {
                    Json::Str(Cow::Owned(serde_json::from_str::<String>(text).map_err(|_| BadString)?))
                } else {
                    Json::Str(Cow::Borrowed(inner))
                }
            }
            Some(b'[') => Json::Array(raw),
            Some(b'{') => Json::Object(raw),
            Some(_) => Json::Number(text),
        };
        Ok(Some(json))
    }

    /// "a string", "a number", ... for reasons.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::Str(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// The value as JSON text for a reason: redacted and shortened.
    pub(crate) fn shown(&self) -> String {
        match self {
            Json::Bool(t) | Json::Number(t) => shown(t),
            Json::Str(s) => shown(&serde_json::to_string(s.as_ref()).unwrap_or_default()),
            Json::Array(r) | Json::Object(r) => shown(r.get()),
        }
    }
}

/// Most characters of a value quoted in a reason.
const SHOWN_CHARS: usize = 64;

/// `text` made safe to quote in a reason: raw secrets redacted (docs/semantics.md),
/// then cut to [`SHOWN_CHARS`] characters (and redacted again, since a cut
/// can expose a secret-shaped prefix).
pub(crate) fn shown(text: &str) -> String {
    let redacted = String::from_utf8_lossy(&secrets::redact_value(text.as_bytes(), None)).into_owned();
    if redacted.chars().count() <= SHOWN_CHARS {
        return redacted;
    }
    let cut: String = redacted.chars().take(SHOWN_CHARS).collect();
    let mut out = String::from_utf8_lossy(&secrets::redact_value(cut.as_bytes(), None)).into_owned();
    out.push('…');
    out
}

/// The reason for text that serde_json refused to read as an object.
/// serde_json's syntax messages carry positions, never content; its type
/// messages (`invalid type: string "..."`) quote content, so they are never
/// passed on: a top level that is not an object is re-read as any value.
pub(crate) fn json_error_reason(text: &str, err: &serde_json::Error) -> String {
    let first = text.trim_start_matches([' ', '\t', '\n', '\r']).as_bytes().first().copied();
    if first == Some(b'{') {
        return format!("the value is not JSON: {err}");
    }
    match serde_json::from_str::<IgnoredAny>(text) {
        Ok(_) => "the top level must be a JSON object".to_string(),
        Err(syntax) => format!("the value is not JSON: {syntax}"),
    }
}

/// Micro-credits of a credits value: a JSON number read exactly from its
/// decimal text (rounded half-to-even to 6 digits) or a string matching
/// `^[0-9]+(\.[0-9]+)?$`. Err holds what is wrong, to follow a field name.
pub(crate) fn read_credits(v: &Json<'_>) -> Result<i64, String> {
    const SHAPE: &str = "must be a non-negative decimal number";
    let parsed = match v {
        Json::Number(text) => {
            let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
            if text.starts_with('-') && mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
                return Err(format!("{SHAPE}, got {}", v.shown()));
            }
            credits::parse_json_number(text)
        }
        Json::Str(s) => credits::parse_decimal_string(s),
        other => return Err(format!("must be a number or a decimal string, got {} {}", other.type_name(), other.shown())),
    };
    parsed.map_err(|e| match e {
        CreditsError::Overflow(_) => format!("must fit in 64-bit micro-credits (at most 9223372036854.775807), got {}", v.shown()),
        CreditsError::Syntax(_) | CreditsError::Negative(_) => format!("{SHAPE}, got {}", v.shown()),
    })
}

/// A count (tokens, calls): a JSON integer from 0 to i64::MAX (`-0` is 0;
/// `1.0` and `1e3` are not integers).
pub(crate) fn read_count(v: &Json<'_>) -> Result<i64, String> {
    let fail = || format!("must be an integer from 0 to {}, got {}", i64::MAX, v.shown());
    match v {
        Json::Number(text) if !text.contains(['.', 'e', 'E']) => match text.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => Err(fail()),
        },
        _ => Err(fail()),
    }
}

/// An RFC 3339 time within years 2000..2200 (`ranged`) or any 4-digit year, as epoch ms.
pub(crate) fn read_time(v: &Json<'_>, ranged: bool) -> Result<i64, String> {
    let Json::Str(s) = v else {
        return Err(format!("must be an RFC 3339 time string, got {} {}", v.type_name(), v.shown()));
    };
    let parsed = if ranged { time::parse_rfc3339(s) } else { time::parse_rfc3339_any(s) };
    parsed.map_err(|e| match e {
        TimeError::OutOfRange(_) => format!("must lie in the years 2000..2200, got {}", v.shown()),
        _ => format!("must be an RFC 3339 time like 2026-05-04T10:00:00Z, got {}", v.shown()),
    })
}

/// A string of `min..=max` Unicode code points. `quote`: whether the value
/// may appear in the reason (never for a credential).
pub(crate) fn read_string<'a>(v: Json<'a>, min: usize, max: usize, quote: bool) -> Result<Cow<'a, str>, String> {
    let Json::Str(s) = v else {
        return Err(match quote {
            true => format!("must be a string, got {} {}", v.type_name(), v.shown()),
            false => format!("must be a string, got {}", v.type_name()),
        });
    };
    let len = if s.is_ascii() { s.len() } else { s.chars().count() };
    if len < min || len > max {
        return Err(format!("must be {min} to {max} characters long, got {len}"));
    }
    Ok(s)
}

/// Every member of an object as (name, raw value), in document order. A
/// later duplicate wins when looked up with [`member`].
pub(crate) type Members<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// Parses `text` as one JSON object (and nothing after it) into its members.
pub(crate) fn parse_members(text: &str) -> Result<Members<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let members = (&mut de).deserialize_map(MembersVisitor)?;
    de.end()?;
    Ok(members)
}

/// The last member called `name`; `None` when absent. (The entitlement
/// decoder finds members in its tape; this serves the tests, and its
/// reference decoder.)
#[cfg(test)]
pub(crate) fn member<'a>(members: &Members<'a>, name: &str) -> Option<&'a RawValue> {
    members.iter().rev().find(|(k, _)| k == name).map(|(_, v)| *v)
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value: &'de RawValue = map.next_value()?;
            out.push((key, value));
        }
        Ok(out)
    }
}

impl<'de> de::Deserialize<'de> for KeyName {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyName, E> {
                Ok(KeyName::of(v))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The member names the usage decoder keeps (native fields and CloudEvents
/// envelope attributes); everything else is [`KeyName::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyName {
    Id,
    Time,
    Credential,
    Capability,
    Model,
    Credits,
    TokensIn,
    TokensOut,
    Principal,
    Source,
    SrcIp,
    Specversion,
    Type,
    Subject,
    Data,
    DataBase64,
    Other,
}

impl KeyName {
    /// Number of kept names (the slots of a member table).
    pub(crate) const KEPT: usize = 16;

    fn of(name: &str) -> KeyName {
        match name {
            "id" => KeyName::Id,
            "time" => KeyName::Time,
            "credential" => KeyName::Credential,
            "capability" => KeyName::Capability,
            "model" => KeyName::Model,
            "credits" => KeyName::Credits,
            "tokens_in" => KeyName::TokensIn,
            "tokens_out" => KeyName::TokensOut,
            "principal" => KeyName::Principal,
            "source" => KeyName::Source,
            "src_ip" => KeyName::SrcIp,
            "specversion" => KeyName::Specversion,
            "type" => KeyName::Type,
            "subject" => KeyName::Subject,
            "data" => KeyName::Data,
            "data_base64" => KeyName::DataBase64,
            _ => KeyName::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The same numbered lines as splitting at every newline.
        #[test]
        fn json_lines_are_the_lines_between_newlines(text in "[a \r\n]{0,60}") {
            let expected: Vec<(u64, &[u8])> = text.as_bytes().split(|&b| b == b'\n').enumerate().map(|(i, l)| (i as u64 + 1, l.strip_suffix(b"\r").unwrap_or(l))).filter(|(_, l)| !is_blank(l)).collect();
            proptest::prop_assert_eq!(json_lines(text.as_bytes()).collect::<Vec<_>>(), expected);
        }
    }

    fn nested(depth: usize) -> String {
        // depth counts the top-level object as level 1.
        format!("{{\"a\":{}1{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1))
    }

    #[test]
    fn only_braces_and_brackets_count_as_openers() {
        let text = |n: usize, c: &str| c.repeat(n).into_bytes();
        for c in ["{", "["] {
            assert!(!may_be_too_deep(&text(MAX_DEPTH, c)));
            assert!(may_be_too_deep(&text(MAX_DEPTH + 1, c)));
        }
        let others: Vec<u8> = (0..=255u8).filter(|b| !matches!(b, b'{' | b'[')).cycle().take(10_000).collect();
        assert!(!may_be_too_deep(&others));
        let mut mixed = others.clone();
        mixed.extend(text(MAX_DEPTH + 1, "{["));
        assert!(may_be_too_deep(&mixed));
    }

    #[test]
    fn nesting_of_128_levels_is_accepted_and_129_is_too_deep() {
        assert!(!too_deep(nested(128).as_bytes()));
        assert!(too_deep(nested(129).as_bytes()));
    }

    #[test]
    fn brackets_inside_strings_do_not_count_as_nesting() {
        let text = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(200), "{".repeat(200));
        assert!(!too_deep(text.as_bytes()));
    }

    #[test]
    fn null_members_read_as_absent_and_escaped_strings_are_decoded() {
        let m = parse_members(r#"{"a":null,"b":"x\ny","c":"plain","d":-0.5}"#).unwrap();
        assert!(Json::read(member(&m, "a").unwrap()).unwrap().is_none());
        assert!(matches!(Json::read(member(&m, "b").unwrap()).unwrap(), Some(Json::Str(Cow::Owned(s))) if s == "x\ny"));
        assert!(matches!(Json::read(member(&m, "c").unwrap()).unwrap(), Some(Json::Str(Cow::Borrowed("plain")))));
        assert!(matches!(Json::read(member(&m, "d").unwrap()).unwrap(), Some(Json::Number("-0.5"))));
    }

    #[test]
    fn a_lone_surrogate_is_not_a_string() {
        let m = parse_members(r#"{"a":"\ud800"}"#).unwrap();
        assert!(Json::read(member(&m, "a").unwrap()).is_err());
    }

    #[test]
    fn the_last_duplicate_member_wins() {
        let m = parse_members(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(member(&m, "a").unwrap().get(), "2");
    }

    #[test]
    fn shown_values_never_carry_a_raw_secret_and_are_short() {
        let s = shown("token sk-abcdef and more");
        assert!(!s.contains("sk-abcdef"));
        assert!(s.contains("sha256:"));
        assert!(shown(&"x".repeat(500)).chars().count() <= SHOWN_CHARS + 1);
    }

    #[test]
    fn json_error_reasons_never_quote_content() {
        for text in [r#""sk-secret-value" x"#, r#""sk-secret-value""#, "[\"sk-secret-value\"", "{\"a\":\"sk-secret-value\" x}"] {
            let err = parse_members(text).unwrap_err();
            let reason = json_error_reason(text, &err);
            assert!(!reason.contains("sk-secret"), "{reason}");
        }
        let err = parse_members("[1]").unwrap_err();
        assert_eq!(json_error_reason("[1]", &err), "the top level must be a JSON object");
    }

    #[test]
    fn blank_lines_are_empty_or_whitespace() {
        assert!(is_blank(b""));
        assert!(is_blank(b"  \t\r"));
        assert!(!is_blank(b" {}"));
        assert!(!is_blank(b"\xff"));
        // Not JSON whitespace: a form feed, a vertical tab, a no-break space.
        assert!(!is_blank(b"\x0c"));
        assert!(!is_blank(b"\x0b"));
        assert!(!is_blank("\u{a0}".as_bytes()));
    }
}
