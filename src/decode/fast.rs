//! The fast path of usage decoding: one pass (the scan of [`flat`] for a flat
//! object of plain values, the usual line; else one serde_json pass) that
//! reads each kept member straight into its typed value (a borrowed `&str` when the string has
//! no escapes, an `i64` for tokens, the exact decimal text for `credits`),
//! with a CloudEvent's `data` read as a nested object in the same pass, and
//! the line's raw key hint taken from the same members.
//!
//! It is conservative: whenever anything is unusual it returns `None` and the
//! reference decoder (`usage.rs`) runs instead; that one alone produces
//! rejections, with their kind and reason. When the fast path accepts, its
//! event is exactly the reference one: same redaction, same `exposed`, same
//! code-point lengths, same time truncation, same half-to-even credits
//! (docs/semantics.md, "Input"). It bails out on: a value over the limit; more
//! than `MAX_DEPTH` openers (possible nesting too deep); bytes that are not
//! UTF-8; anything serde_json refuses (not JSON, not an object, a lone
//! surrogate in a member it reads, trailing text); a duplicate of a member it
//! reads; a read member of the wrong JSON type (tokens above i64::MAX or
//! negative, `-0`, `1e3` and `1.0` tokens included); a missing required field;
//! a string of the wrong length; an invalid or out-of-range time; credits the
//! reference refuses; an envelope or header that is not a valid CloudEvent.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::cloudevents::{header, header_mode, Mode};
use super::secrets::{is_raw_secret, redacted_id};
use super::{may_be_too_deep, read_credits, Json, KeyName};
use crate::model::credits::MICROS_PER_CREDIT;
use crate::model::time;
use crate::model::usage::Text;
use crate::model::UsageEvent;

mod flat;

/// An event the fast path accepted, with the raw key hint of its value.
pub(crate) struct Accepted<'a> {
    pub event: UsageEvent,
    /// What `key_hint(value)` returns.
    pub key_hint: Option<Cow<'a, str>>,
}

/// Decodes `value` like `decode_usage`, or `None` when the reference decoder
/// must decide (see the module documentation).
pub(crate) fn decode<'a>(value: &'a [u8], headers: &[(&str, &[u8])], max_value_bytes: usize) -> Option<Accepted<'a>> {
    if value.len() > max_value_bytes || may_be_too_deep(value) {
        return None;
    }
    let text = std::str::from_utf8(value).ok()?;
    let decided = header_mode(headers);
    let mut m = Members::default();
    parse(text, if decided == Some(Mode::Binary) { BINARY } else { ENVELOPE }, &mut m)?;
    let e = &m.envelope;
    // Native or structured by a non-null `specversion` member, as in `cloudevents::mode`.
    let member_mode = if e.specversion.is_some() { Mode::Structured } else { Mode::Native };
    let event = match decided.unwrap_or(member_mode) {
        Mode::Native => event(e.id.as_deref()?, e.time.as_deref()?, e.credential.as_deref()?, &m.usage)?,
        Mode::Structured => structured(e, &m.usage)?,
        Mode::Binary => binary(headers, &m.usage)?,
    };
    let e = m.envelope;
    let key_hint = if member_mode == Mode::Structured { e.subject } else { e.credential };
    Some(Accepted { event, key_hint })
}

/// What `key_hint(text)` returns, or `None` when the reference must decide.
/// Only `specversion`, `subject` and `credential` are read.
pub(crate) fn key_hint(text: &str) -> Option<Option<Cow<'_, str>>> {
    let mut m = Members::default();
    parse(text, KEY, &mut m)?;
    let e = m.envelope;
    Some(if e.specversion.is_some() { e.subject } else { e.credential })
}

/// Parses `text` as one object (and nothing after it) into `m`, reading the
/// members in `mask`: a flat object by the scan of `flat`, anything else by serde_json.
fn parse<'a>(text: &'a str, mask: u32, m: &mut Members<'a>) -> Option<()> {
    if flat::scan(text, mask, m) {
        return Some(());
    }
    *m = Members::default();
    parse_serde(text, mask, m)
}

/// [`parse`] by serde_json alone.
fn parse_serde<'a>(text: &'a str, mask: u32, m: &mut Members<'a>) -> Option<()> {
    let mut de = serde_json::Deserializer::from_str(text);
    (&mut de).deserialize_map(ObjectVisitor { mask, usage: &mut m.usage, envelope: Some(&mut m.envelope) }).ok()?;
    de.end().ok()
}

/// A structured-mode CloudEvent: the envelope checks of `cloudevents::structured`
/// (the envelope `source` is read as the top-level usage `source`), then the
/// mapped fields.
fn structured(e: &Envelope<'_>, top: &Usage<'_>) -> Option<UsageEvent> {
    let non_empty = |s: &Option<Str<'_>>| s.as_deref().is_some_and(|s| !s.is_empty());
    let envelope_ok = e.specversion.as_deref() == Some("1.0") && non_empty(&top.source) && non_empty(&e.kind);
    if !envelope_ok {
        return None;
    }
    event(e.id.as_deref()?, e.time.as_deref()?, e.subject.as_deref()?, e.data()?)
}

/// A binary-mode CloudEvent: the header checks of `cloudevents::binary`, then
/// the mapped fields with the value as `data`.
fn binary(headers: &[(&str, &[u8])], data: &Usage<'_>) -> Option<UsageEvent> {
    let text = |name: &str| header(headers, name).and_then(|b| std::str::from_utf8(b).ok());
    let non_empty = |name: &str| text(name).filter(|s| !s.is_empty());
    if text("ce_specversion")? != "1.0" || non_empty("ce_source").is_none() || non_empty("ce_type").is_none() {
        return None;
    }
    event(non_empty("ce_id")?, text("ce_time")?, text("ce_subject")?, data)
}

/// The checks of `usage::check` on fields already known to be strings,
/// counts and credit text; `None` where that would reject.
fn event(id: &str, time: &str, credential: &str, u: &Usage<'_>) -> Option<UsageEvent> {
    let id = checked(id, 1, 128)?;
    let time = time::parse_rfc3339(time).ok()?;
    let credential = checked(credential, 1, 256)?;
    let capability = checked(u.capability.as_deref()?, 1, 64)?;
    let model = match u.model.as_deref() {
        Some(m) => Some(checked(m, 0, 128)?).filter(|m| !m.is_empty()),
        None => None,
    };
    Some(UsageEvent {
        id: scrub(id),
        time,
        credential: scrub(credential),
        capability: scrub(capability),
        model: model.map(scrub),
        credits: credits(u.credits?)?,
        tokens_in: u.tokens_in.unwrap_or(0),
        tokens_out: u.tokens_out.unwrap_or(0),
        principal: u.principal.as_deref().filter(|p| !p.is_empty()).map(scrub),
        source: u.source.as_deref().map(scrub),
        src_ip: u.src_ip.as_deref().filter(|s| !s.is_empty()).map(scrub),
        exposed: is_raw_secret(credential),
    })
}

/// `s` when it has `min..=max` code points (`min` at most 1). Code points
/// are never more than bytes, so they are counted only when the byte length
/// does not decide.
fn checked(s: &str, min: usize, max: usize) -> Option<&str> {
    debug_assert!(min <= 1);
    let fits = s.len() >= min && (s.len() <= max || s.chars().count() <= max);
    fits.then_some(s)
}

/// A string field as kept, like `usage::scrub`: a raw secret becomes its redacted id.
fn scrub(s: &str) -> Text {
    if is_raw_secret(s) {
        Text::from(redacted_id(s))
    } else {
        Text::from(s)
    }
}

/// Micro-credits of the raw `credits` member (its JSON text). The usual
/// spellings (`[0-9]+(\.[0-9]+)?`, as a number or an unescaped string) are
/// read here without allocating; any other goes through the reference `read_credits`.
fn credits(text: &str) -> Option<i64> {
    let plain = match text.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"').filter(|s| !s.contains('\\')),
        None => Some(text),
    };
    plain.and_then(plain_decimal).or_else(|| {
        let raw = serde_json::from_str::<&RawValue>(text).ok()?;
        read_credits(&Json::read(raw).ok()??).ok()
    })
}

/// `^[0-9]+(\.[0-9]+)?$` as micro-credits, rounded half-to-even; `None` for
/// any other text or a value over i64::MAX.
fn plain_decimal(text: &str) -> Option<i64> {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) if !frac.is_empty() => (int.as_bytes(), frac.as_bytes()),
        Some(_) => return None,
        None => (text.as_bytes(), &b""[..]),
    };
    if int.is_empty() || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let digit = |b: &u8| i64::from(b - b'0');
    let whole = int.iter().try_fold(0i64, |v, b| v.checked_mul(10)?.checked_add(digit(b)))?;
    let (kept, dropped) = frac.split_at(frac.len().min(6));
    let micros = kept.iter().chain(std::iter::repeat(&b'0')).take(6).fold(0i64, |v, b| v * 10 + digit(b));
    let micros = whole.checked_mul(MICROS_PER_CREDIT)?.checked_add(micros)?;
    let round_up = match dropped.split_first() {
        Some((&head, rest)) => head > b'5' || (head == b'5' && (rest.iter().any(|&b| b != b'0') || micros % 2 == 1)),
        None => false,
    };
    micros.checked_add(i64::from(round_up))
}

/// A string as read: borrowed from the value when it has no escapes.
type Str<'a> = Cow<'a, str>;

/// The usage members of an object (the top level, or a CloudEvent's `data`).
#[derive(Debug, Default, PartialEq)]
struct Usage<'a> {
    capability: Option<Str<'a>>,
    model: Option<Str<'a>>,
    /// The member's JSON text.
    credits: Option<&'a str>,
    tokens_in: Option<i64>,
    tokens_out: Option<i64>,
    principal: Option<Str<'a>>,
    source: Option<Str<'a>>,
    src_ip: Option<Str<'a>>,
}

/// The members of a top level that are not usage members.
#[derive(Debug, Default, PartialEq)]
struct Envelope<'a> {
    id: Option<Str<'a>>,
    time: Option<Str<'a>>,
    credential: Option<Str<'a>>,
    specversion: Option<Str<'a>>,
    kind: Option<Str<'a>>,
    subject: Option<Str<'a>>,
    /// A non-null `data` member was read (as an object) into `data_usage`.
    has_data: bool,
    data_usage: Usage<'a>,
}

impl<'a> Envelope<'a> {
    fn data(&self) -> Option<&Usage<'a>> {
        self.has_data.then_some(&self.data_usage)
    }
}

/// The members read from the top level; `None` when absent or `null`. Filled
/// in place by the visitors (moving it around costs more than reading it).
#[derive(Debug, Default, PartialEq)]
struct Members<'a> {
    envelope: Envelope<'a>,
    usage: Usage<'a>,
}

const fn bit(name: KeyName) -> u32 {
    1 << name as u32
}

/// The members of a CloudEvent's `data` that bursar reads (not its own
/// `id`, `time` or `credential`).
const DATA: u32 = bit(KeyName::Capability)
    | bit(KeyName::Model)
    | bit(KeyName::Credits)
    | bit(KeyName::TokensIn)
    | bit(KeyName::TokensOut)
    | bit(KeyName::Principal)
    | bit(KeyName::Source)
    | bit(KeyName::SrcIp);
/// The members of the key hint.
const KEY: u32 = bit(KeyName::Credential) | bit(KeyName::Specversion) | bit(KeyName::Subject);
/// A top level that is a native event or a structured envelope (which one is
/// known only at its end): everything either reads.
const ENVELOPE: u32 = DATA | KEY | bit(KeyName::Id) | bit(KeyName::Time) | bit(KeyName::Type) | bit(KeyName::Data);
/// A binary-mode value (the data), plus the members of its key hint.
const BINARY: u32 = DATA | KEY;

/// Reads the members in `mask` of one object into `usage` and `envelope`
/// (`None` for a nested `data`), ignoring the others unread; fails on a
/// duplicate of a read member.
struct ObjectVisitor<'m, 'de> {
    mask: u32,
    usage: &'m mut Usage<'de>,
    envelope: Option<&'m mut Envelope<'de>>,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = 0u32;
        while let Some(name) = map.next_key::<KeyName>()? {
            let b = bit(name);
            if self.mask & b == 0 {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if seen & b != 0 {
                return Err(de::Error::custom("a duplicate member"));
            }
            seen |= b;
            let u = &mut *self.usage;
            let slot = match (name, self.envelope.as_deref_mut()) {
                (KeyName::Capability, _) => &mut u.capability,
                (KeyName::Model, _) => &mut u.model,
                (KeyName::Principal, _) => &mut u.principal,
                (KeyName::Source, _) => &mut u.source,
                (KeyName::SrcIp, _) => &mut u.src_ip,
                (KeyName::Credits, _) => {
                    u.credits = map.next_value::<Option<&RawValue>>()?.map(RawValue::get);
                    continue;
                }
                (KeyName::TokensIn, _) => {
                    u.tokens_in = map.next_value::<Option<Count>>()?.map(|c| c.0);
                    continue;
                }
                (KeyName::TokensOut, _) => {
                    u.tokens_out = map.next_value::<Option<Count>>()?.map(|c| c.0);
                    continue;
                }
                (KeyName::Data, Some(e)) => {
                    e.has_data = map.next_value_seed(DataSeed(&mut e.data_usage))?;
                    continue;
                }
                (KeyName::Id, Some(e)) => &mut e.id,
                (KeyName::Time, Some(e)) => &mut e.time,
                (KeyName::Credential, Some(e)) => &mut e.credential,
                (KeyName::Specversion, Some(e)) => &mut e.specversion,
                (KeyName::Type, Some(e)) => &mut e.kind,
                (KeyName::Subject, Some(e)) => &mut e.subject,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Option<StrValue<'de>>>()?.map(|s| s.0);
        }
        Ok(())
    }
}

/// A JSON string, borrowed when it has no escapes; any other type fails.
struct StrValue<'a>(Str<'a>);

impl<'de> Deserialize<'de> for StrValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrValue(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrValue(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON integer from 0 to i64::MAX written without sign, fraction or
/// exponent (serde_json reads `-0` as a float, so it fails here too).
struct Count(i64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer from 0 to i64::MAX")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                i64::try_from(v).map(Count).map_err(|_| E::custom("a count above i64::MAX"))
            }
        }
        d.deserialize_u64(V)
    }
}

/// A CloudEvent's `data`, read into its usage members; true unless `null`.
struct DataSeed<'m, 'de>(&'m mut Usage<'de>);

impl<'de> DeserializeSeed<'de> for DataSeed<'_, 'de> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, 'de> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(ObjectVisitor { mask: DATA, usage: self.0, envelope: None }).map(|()| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_round_half_to_even_like_the_reference() {
        for (text, want) in [
            ("0", Some(0)),
            ("007", Some(7_000_000)),
            ("1.5", Some(1_500_000)),
            ("0.0000035", Some(4)),
            ("0.0000025", Some(2)),
            ("0.00000250001", Some(3)),
            ("0.0000024999", Some(2)),
            ("9223372036854.775807", Some(i64::MAX)),
            ("9223372036854.7758074", Some(i64::MAX)),
            ("9223372036854.7758075", None),
            ("9223372036854.775808", None),
            ("99999999999999999999999", None),
            ("1.", None),
            (".5", None),
            ("", None),
            ("-0", None),
            ("1e3", None),
        ] {
            assert_eq!(plain_decimal(text), want, "{text}");
            if let Some(v) = want {
                assert_eq!(crate::model::credits::parse_decimal_string(text), Ok(v), "{text}");
            }
        }
    }

    #[test]
    fn lengths_count_code_points_only_past_the_byte_length() {
        assert!(checked("", 0, 128).is_some());
        assert!(checked("", 1, 128).is_none());
        assert!(checked(&"é".repeat(128), 1, 128).is_some());
        assert!(checked(&"é".repeat(129), 1, 128).is_none());
        assert!(checked(&"k".repeat(257), 1, 256).is_none());
    }
}
