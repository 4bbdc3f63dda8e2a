//! Entitlement records (README.md, Inputs; docs/semantics.md, "Input") from a JSON Lines file or the
//! compacted entitlements topic.
//!
//! A record that breaks the README's entitlement rules is refused whole with a reason naming the field;
//! the caller skips it, logs and counts it. `null` members are absent and
//! unknown members are ignored. Credentials are kept as written, even raw
//! secrets: such an entitlement is stored unredacted and matches nothing.

use std::fmt;

use super::entitlement_keys::{unknown_keys_of, UnknownKey};
use super::{read_count, read_credits, read_string, read_time, too_deep, Json, MAX_DEPTH};
use crate::model::time::parse_duration;
use crate::model::net::Network;
use crate::model::{BurstRule, CreditPlan, Entitlement, EntitlementRecord, Scope, Status};
use tape::{Tape, Value};

#[cfg(test)]
mod reference;
pub(crate) mod tape;
#[cfg(test)]
mod tests;

/// Largest accepted `credits.bank_months`: 100 years, so a grant's expiry
/// (at most 2200 + 100 years) is always a 4-digit RFC 3339 year.
pub const MAX_BANK_MONTHS: i64 = 1_200;

/// Largest accepted `credits.monthly` in micro-credits (10^9 credits): a
/// ledger's totals (at most one grant per month of the years 2000..2200)
/// then stay far inside i64, so conservation holds exactly.
pub const MAX_MONTHLY_MICROS: i64 = 1_000_000_000_000_000;

/// Why an entitlement record was refused. Reasons name the field and never
/// quote a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntitlementError {
    /// Not UTF-8, not JSON, nested too deep, or not an object.
    #[error("{0}")]
    InvalidJson(String),
    /// A required field is absent or null (`credits.monthly` inside `credits`).
    #[error("field `{0}` is required")]
    Missing(String),
    /// A field has the wrong type or value.
    #[error("field `{field}` {problem}")]
    Invalid { field: String, problem: String },
}

impl EntitlementError {
    /// The rejection kind name (as `bursar.error.kind`) for `bursar validate`.
    pub fn kind(&self) -> &'static str {
        match self {
            EntitlementError::InvalidJson(_) => "invalid_json",
            EntitlementError::Missing(_) => "missing_field",
            EntitlementError::Invalid { .. } => "invalid_field",
        }
    }
}

fn bad_string() -> EntitlementError {
    EntitlementError::InvalidJson("a string holds an escape that is not Unicode text (a lone surrogate)".into())
}

/// Where an object's members are, for reasons: the top level, `credits.`, `burst[1].`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path {
    Top,
    /// An object member of the top level.
    Member(&'static str),
    /// An object element of an array member of the top level.
    Element(&'static str, usize),
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Top => Ok(()),
            Path::Member(name) => write!(f, "{name}."),
            Path::Element(name, i) => write!(f, "{name}[{i}]."),
        }
    }
}

/// One JSON object of a record, with the path of its fields in reasons
/// (built only when there is a reason).
struct Obj<'t, 'a> {
    value: Value<'t, 'a>,
    path: Path,
}

impl<'t, 'a> Obj<'t, 'a> {
    fn field(&self, name: &str) -> String {
        format!("{}{name}", self.path)
    }

    /// The field of element `i` of array member `name` (`scope.models[1]`).
    fn element(&self, name: &str, i: usize) -> String {
        format!("{}{name}[{i}]", self.path)
    }

    fn get(&self, name: &str) -> Result<Option<Json<'a>>, EntitlementError> {
        self.value.member(name).map_or(Ok(None), json)
    }

    fn required(&self, name: &str) -> Result<Json<'a>, EntitlementError> {
        self.get(name)?.ok_or_else(|| EntitlementError::Missing(self.field(name)))
    }

    /// The error for member `name`; its path is built only when there is one
    /// (this is called on every member read, most of which are fine).
    fn invalid<'s>(&'s self, name: &'s str) -> impl Fn(String) -> EntitlementError + 's {
        move |problem| EntitlementError::Invalid { field: self.field(name), problem }
    }

    /// A nested object member (of the top level), or None when absent.
    fn object(&self, name: &'static str) -> Result<Option<Obj<'t, 'a>>, EntitlementError> {
        let nested = self.nested(name, b'{', "an object")?;
        Ok(nested.map(|value| Obj { value, path: Path::Member(name) }))
    }

    /// An array member (its elements are its children), or None when absent.
    fn array(&self, name: &str) -> Result<Option<Value<'t, 'a>>, EntitlementError> {
        self.nested(name, b'[', "an array")
    }

    /// Member `name` when it starts with `opener`; None when absent; an error naming `kind` otherwise.
    fn nested(&self, name: &str, opener: u8, kind: &str) -> Result<Option<Value<'t, 'a>>, EntitlementError> {
        let Some(v) = self.value.member(name) else { return Ok(None) };
        if v.starts_with(opener) {
            return readable(v).map(Some);
        }
        match json(v)? {
            None => Ok(None),
            Some(other) => Err(self.invalid(name)(format!("must be {kind}, got {}", other.type_name()))),
        }
    }
}

/// A value as [`Json`] (`null` is None).
fn json<'a>(v: Value<'_, 'a>) -> Result<Option<Json<'a>>, EntitlementError> {
    v.json().map_err(|_| bad_string())
}

/// An object or array whose members or elements serde_json read (see [`tape`]).
fn readable<'t, 'a>(v: Value<'t, 'a>) -> Result<Value<'t, 'a>, EntitlementError> {
    match v.refused() {
        Some(reason) => Err(EntitlementError::InvalidJson(reason.to_string())),
        None => Ok(v),
    }
}

/// Parses a whole record text into its top-level object.
fn parse_record<'t, 'a>(tape: &'t mut Tape<'a>, bytes: &'a [u8]) -> Result<Obj<'t, 'a>, EntitlementError> {
    let value = tape.parse(bytes)?;
    check_depth(bytes)?;
    Ok(Obj { value, path: Path::Top })
}

fn check_depth(bytes: &[u8]) -> Result<(), EntitlementError> {
    match too_deep(bytes) {
        true => Err(EntitlementError::InvalidJson(format!("arrays and objects nest deeper than {MAX_DEPTH} levels"))),
        false => Ok(()),
    }
}

/// A credential string of 1..=256 code points (never quoted in reasons).
fn credential_of(v: Json<'_>, obj: &Obj<'_, '_>) -> Result<String, EntitlementError> {
    read_string(v, 1, 256, false).map(|s| s.into_owned()).map_err(obj.invalid("credential"))
}

/// Decodes one line of an entitlements file; `{"credential": "...",
/// "tombstone": true}` is a tombstone.
pub fn decode_entitlement_line(line: &[u8]) -> Result<EntitlementRecord, EntitlementError> {
    decode_record(&parse_record(&mut Tape::default(), line)?, None)
}

/// Decodes a record of the entitlements topic: a null value is a tombstone of
/// the key; otherwise the JSON record, whose `credential` wins over the key.
pub fn decode_entitlement_kafka(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<EntitlementRecord, EntitlementError> {
    let key_credential = || -> Result<Option<String>, EntitlementError> {
        let Some(k) = key else { return Ok(None) };
        let text = std::str::from_utf8(k).map_err(|_| invalid_key("must be UTF-8 text"))?;
        let len = text.chars().count();
        if !(1..=256).contains(&len) {
            return Err(invalid_key(&format!("must be 1 to 256 characters long, got {len}")));
        }
        Ok(Some(text.to_string()))
    };
    match value {
        None => match key_credential()? {
            Some(credential) => Ok(EntitlementRecord::Tombstone { credential }),
            None => Err(EntitlementError::Missing("credential".into())),
        },
        Some(bytes) => {
            let mut tape = Tape::default();
            let obj = parse_record(&mut tape, bytes)?;
            let fallback = if obj.get("credential")?.is_none() { key_credential()? } else { None };
            decode_record(&obj, fallback)
        }
    }
}

/// [`decode_entitlement_kafka`] with the record's unknown keys
/// ([`super::entitlement_keys::unknown_keys`]) from the same parse of its
/// value (the topic's loader). A value without `credential` (the key's
/// credential applies) is decoded by [`decode_entitlement_kafka`] itself.
pub fn decode_entitlement_kafka_with_unknown_keys(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<(EntitlementRecord, Vec<UnknownKey>), EntitlementError> {
    let Some(bytes) = value else { return Ok((decode_entitlement_kafka(key, None)?, Vec::new())) };
    let mut tape = Tape::default();
    let obj = parse_record(&mut tape, bytes)?;
    let record = match obj.get("credential")? {
        Some(_) => decode_record(&obj, None)?,
        None => decode_entitlement_kafka(key, value)?,
    };
    Ok((record, unknown_keys_of(obj.value)))
}

fn invalid_key(problem: &str) -> EntitlementError {
    EntitlementError::Invalid { field: "credential".into(), problem: format!("(the record key) {problem}") }
}

fn decode_record(obj: &Obj<'_, '_>, key_credential: Option<String>) -> Result<EntitlementRecord, EntitlementError> {
    let tombstone = match obj.get("tombstone")? {
        None | Some(Json::Bool("false")) => false,
        Some(Json::Bool(_)) => true,
        Some(other) => return Err(obj.invalid("tombstone")(format!("must be a boolean, got {}", other.type_name()))),
    };
    let credential = match (obj.get("credential")?, key_credential) {
        (Some(v), _) => credential_of(v, obj)?,
        (None, Some(k)) => k,
        (None, None) => return Err(EntitlementError::Missing("credential".into())),
    };
    if tombstone {
        return Ok(EntitlementRecord::Tombstone { credential });
    }
    decode_version(obj, credential).map(EntitlementRecord::Version)
}

fn decode_version(obj: &Obj<'_, '_>, credential: String) -> Result<Entitlement, EntitlementError> {
    let owner = super::secrets::redact_field(read_string(obj.required("owner")?, 1, usize::MAX, true).map_err(obj.invalid("owner"))?.into_owned());
    let status = match obj.get("status")? {
        None => Status::Active,
        Some(Json::Str(s)) if s == "active" => Status::Active,
        Some(Json::Str(s)) if s == "suspended" => Status::Suspended,
        Some(Json::Str(s)) if s == "revoked" => Status::Revoked,
        Some(other) => return Err(obj.invalid("status")(format!("must be one of active, suspended, revoked, got {}", other.shown()))),
    };
    let updated_at = read_time(&obj.required("updated_at")?, true).map_err(obj.invalid("updated_at"))?;
    let valid_from = obj.get("valid_from")?.map(|v| read_time(&v, true)).transpose().map_err(obj.invalid("valid_from"))?;
    // valid_until may lie past 2200 (e.g. 9999-12-31T00:00:00Z for "no end").
    let valid_until = obj.get("valid_until")?.map(|v| read_time(&v, false)).transpose().map_err(obj.invalid("valid_until"))?;
    let scope = match obj.object("scope")? {
        None => Scope::default(),
        Some(s) => Scope {
            capabilities: string_list(&s, "capabilities")?,
            models: string_list(&s, "models")?,
            principals: string_list(&s, "principals")?,
            networks: networks(&s)?,
        },
    };
    let credits = obj.object("credits")?.map(|c| credit_plan(&c)).transpose()?;
    let burst = match obj.array("burst")? {
        None => None,
        Some(items) => Some(items.children().enumerate().map(|(i, item)| burst_rule(obj, i, item)).collect::<Result<Vec<_>, _>>()?),
    };
    let dormancy_ms = match obj.get("dormancy")? {
        None => None,
        Some(Json::Str(s)) => Some(parse_duration(&s).map_err(|_| obj.invalid("dormancy")(duration_problem(&Json::Str(s.clone()))))?),
        Some(other) => return Err(obj.invalid("dormancy")(duration_problem(&other))),
    };
    let max_principals = day_limit(obj, "max_principals")?;
    let max_source_ips = day_limit(obj, "max_source_ips")?;
    Ok(Entitlement { credential, owner, status, updated_at, valid_from, valid_until, scope, credits, burst, dormancy_ms, max_principals, max_source_ips })
}

/// `max_principals` / `max_source_ips`: an integer >= 1, or absent.
fn day_limit(obj: &Obj<'_, '_>, name: &str) -> Result<Option<i64>, EntitlementError> {
    let Some(v) = obj.get(name)? else { return Ok(None) };
    match read_count(&v) {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(obj.invalid(name)(format!("must be an integer of at least 1, got {}", v.shown()))),
    }
}

/// `scope.networks`: CIDRs or bare addresses (docs/semantics.md, "Where and by whom a key is used").
fn networks(scope: &Obj<'_, '_>) -> Result<Option<Vec<Network>>, EntitlementError> {
    let Some(texts) = string_list(scope, "networks")? else { return Ok(None) };
    let mut out = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let net = Network::parse(text).map_err(|problem| EntitlementError::Invalid { field: scope.element("networks", i), problem })?;
        out.push(net);
    }
    Ok(Some(out))
}

fn duration_problem(v: &Json<'_>) -> String {
    format!("must be a duration <integer><unit> with unit ms, s, m, h or d (e.g. 90d), got {}", v.shown())
}

/// An optional array of strings (None: unrestricted; empty: allows nothing).
fn string_list(obj: &Obj<'_, '_>, name: &str) -> Result<Option<Vec<String>>, EntitlementError> {
    let Some(items) = obj.array(name)? else { return Ok(None) };
    let mut out = Vec::with_capacity(items.children().count());
    for (i, item) in items.children().enumerate() {
        match json(item)? {
            // A glob that looks like a raw secret is kept as its redacted id, like the owner
            // (an event value that is a raw secret is redacted too, so matching is unchanged).
            Some(Json::Str(s)) => out.push(super::secrets::redact_field(s.into_owned())),
            other => {
                let got = other.map_or("null", |v| v.type_name());
                return Err(EntitlementError::Invalid { field: obj.element(name, i), problem: format!("must be a string, got {got}") });
            }
        }
    }
    Ok(Some(out))
}

fn credit_plan(c: &Obj<'_, '_>) -> Result<CreditPlan, EntitlementError> {
    let monthly = read_credits(&c.required("monthly")?).map_err(c.invalid("monthly"))?;
    if monthly > MAX_MONTHLY_MICROS {
        return Err(c.invalid("monthly")(format!("must be at most {} credits a month", MAX_MONTHLY_MICROS / 1_000_000)));
    }
    let bank_months = match c.get("bank_months")? {
        None => 0,
        Some(v) => match read_count(&v) {
            Ok(n) if n <= MAX_BANK_MONTHS => n as u32,
            Ok(_) => return Err(c.invalid("bank_months")(format!("must be at most {MAX_BANK_MONTHS}, got {}", v.shown()))),
            Err(problem) => return Err(c.invalid("bank_months")(problem)),
        },
    };
    let bank_cap = c.get("bank_cap")?.map(|v| read_credits(&v)).transpose().map_err(c.invalid("bank_cap"))?;
    Ok(CreditPlan { monthly, bank_months, bank_cap })
}

/// One `burst` rule object: a window that divides into 60 whole-millisecond
/// slices and at least one limit.
fn burst_rule(parent: &Obj<'_, '_>, index: usize, item: Value<'_, '_>) -> Result<BurstRule, EntitlementError> {
    let r = match item.starts_with(b'{') {
        true => Obj { value: readable(item)?, path: Path::Element("burst", index) },
        false => {
            let got = json(item)?.map_or("null", |v| v.type_name());
            return Err(EntitlementError::Invalid { field: parent.element("burst", index), problem: format!("must be an object, got {got}") });
        }
    };
    let window = r.required("window")?;
    let window_ms = match &window {
        Json::Str(s) => parse_duration(s).ok(),
        _ => None,
    };
    let window_ms = match window_ms {
        Some(ms) if ms > 0 && ms % 60 == 0 => ms,
        _ => {
            let problem = format!("must be a positive duration that is a multiple of 60ms (60 slices of whole milliseconds), got {}", window.shown());
            return Err(r.invalid("window")(problem));
        }
    };
    let credits = r.get("credits")?.map(|v| read_credits(&v)).transpose().map_err(r.invalid("credits"))?;
    let calls = r.get("calls")?.map(|v| read_count(&v)).transpose().map_err(r.invalid("calls"))?;
    let tokens = r.get("tokens")?.map(|v| read_count(&v)).transpose().map_err(r.invalid("tokens"))?;
    if credits.is_none() && calls.is_none() && tokens.is_none() {
        return Err(EntitlementError::Invalid { field: parent.element("burst", index), problem: "must set at least one limit: credits, calls or tokens".into() });
    }
    Ok(BurstRule { window_ms, credits, calls, tokens })
}

/// Entitlements read from a file, with what else its lines held.
#[derive(Debug, Default)]
pub struct FileEntitlements {
    pub records: Vec<EntitlementRecord>,
    /// Lines that are no record: (line number, why).
    pub skipped: Vec<(u64, EntitlementError)>,
    /// Unknown keys by line number, as [`super::entitlement_keys::unknown_keys_by_line`]
    /// finds them (every line that parses as a JSON object, whether or not it
    /// is a record); empty unless asked for.
    pub unknown: Vec<(u64, UnknownKey)>,
}

/// Decodes an entitlements file: records in line order, and the skipped lines
/// as (line number from 1, reason). Blank lines are skipped; a trailing `\r`
/// is stripped; a line that is not UTF-8 is skipped like any bad record.
pub fn read_entitlements(text: &(impl AsRef<[u8]> + ?Sized)) -> (Vec<EntitlementRecord>, Vec<(u64, EntitlementError)>) {
    let FileEntitlements { records, skipped, .. } = read_entitlement_file(text.as_ref(), false);
    (records, skipped)
}

/// [`read_entitlements`], and with `unknown_keys` the unknown keys of every
/// line as well, from the same parse of each line.
pub fn read_entitlement_file(text: &[u8], unknown_keys: bool) -> FileEntitlements {
    let mut out = FileEntitlements::default();
    let mut tape = Tape::default();
    for (line_no, line) in super::json_lines(text) {
        let decoded = tape.parse(line).and_then(|value| {
            if unknown_keys {
                out.unknown.extend(unknown_keys_of(value).into_iter().map(|k| (line_no, k)));
            }
            check_depth(line)?;
            decode_record(&Obj { value, path: Path::Top }, None)
        });
        match decoded {
            Ok(record) => out.records.push(record),
            Err(e) => out.skipped.push((line_no, e)),
        }
    }
    out
}
