//! Entitlement records (README.md, Inputs; docs/semantics.md, "Input") from a JSON Lines file or the
//! compacted entitlements topic.
//!
//! A record that breaks the README's entitlement rules is refused whole with a reason naming the field;
//! the caller skips it, logs and counts it. `null` members are absent and
//! unknown members are ignored. Credentials are kept as written, even raw
//! secrets: such an entitlement is stored unredacted and matches nothing.

use serde_json::value::RawValue;

use super::entitlement_keys::{unknown_keys_of_members, UnknownKey};
use super::{json_error_reason, member, parse_members, read_count, read_credits, read_string, read_time, too_deep, Json, Members, MAX_DEPTH};
use crate::model::time::parse_duration;
use crate::model::net::Network;
use crate::model::{BurstRule, CreditPlan, Entitlement, EntitlementRecord, Scope, Status};

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

/// One JSON object with the path of its fields in reasons (`credits.`, `burst[1].`).
struct Obj<'a> {
    members: Members<'a>,
    path: String,
}

impl<'a> Obj<'a> {
    fn field(&self, name: &str) -> String {
        format!("{}{name}", self.path)
    }

    fn get(&self, name: &str) -> Result<Option<Json<'a>>, EntitlementError> {
        match member(&self.members, name) {
            None => Ok(None),
            Some(raw) => Json::read(raw).map_err(|_| bad_string()),
        }
    }

    fn required(&self, name: &str) -> Result<Json<'a>, EntitlementError> {
        self.get(name)?.ok_or_else(|| EntitlementError::Missing(self.field(name)))
    }

    /// The error for member `name`; its path is built only when there is one
    /// (this is called on every member read, most of which are fine).
    fn invalid<'s>(&'s self, name: &'s str) -> impl Fn(String) -> EntitlementError + 's {
        move |problem| EntitlementError::Invalid { field: self.field(name), problem }
    }

    /// A nested object member, or None when absent.
    fn object(&self, name: &str) -> Result<Option<Obj<'a>>, EntitlementError> {
        match self.get(name)? {
            None => Ok(None),
            Some(Json::Object(raw)) => Ok(Some(Obj { members: parse_nested(raw)?, path: format!("{}.", self.field(name)) })),
            Some(other) => Err(self.invalid(name)(format!("must be an object, got {}", other.type_name()))),
        }
    }

    /// An array member's elements, or None when absent.
    fn array(&self, name: &str) -> Result<Option<Vec<&'a RawValue>>, EntitlementError> {
        match self.get(name)? {
            None => Ok(None),
            Some(Json::Array(raw)) => serde_json::from_str(raw.get()).map(Some).map_err(|e| EntitlementError::InvalidJson(e.to_string())),
            Some(other) => Err(self.invalid(name)(format!("must be an array, got {}", other.type_name()))),
        }
    }
}

fn parse_nested(raw: &RawValue) -> Result<Members<'_>, EntitlementError> {
    parse_members(raw.get()).map_err(|e| EntitlementError::InvalidJson(e.to_string()))
}

/// Parses a whole record text into its top-level object.
fn parse_record(bytes: &[u8]) -> Result<Obj<'_>, EntitlementError> {
    let obj = parse_shallow(bytes)?;
    check_depth(bytes)?;
    Ok(obj)
}

/// The members of a record's top level (UTF-8 and JSON checked, not yet its nesting depth).
fn parse_shallow(bytes: &[u8]) -> Result<Obj<'_>, EntitlementError> {
    let text = std::str::from_utf8(bytes).map_err(|e| EntitlementError::InvalidJson(format!("the record is not UTF-8 (invalid byte at offset {})", e.valid_up_to())))?;
    let members = parse_members(text).map_err(|e| EntitlementError::InvalidJson(json_error_reason(text, &e)))?;
    Ok(Obj { members, path: String::new() })
}

fn check_depth(bytes: &[u8]) -> Result<(), EntitlementError> {
    match too_deep(bytes) {
        true => Err(EntitlementError::InvalidJson(format!("arrays and objects nest deeper than {MAX_DEPTH} levels"))),
        false => Ok(()),
    }
}

/// A credential string of 1..=256 code points (never quoted in reasons).
fn credential_of(v: Json<'_>, obj: &Obj<'_>) -> Result<String, EntitlementError> {
    read_string(v, 1, 256, false).map(|s| s.into_owned()).map_err(obj.invalid("credential"))
}

/// Decodes one line of an entitlements file; `{"credential": "...",
/// "tombstone": true}` is a tombstone.
pub fn decode_entitlement_line(line: &[u8]) -> Result<EntitlementRecord, EntitlementError> {
    let obj = parse_record(line)?;
    decode_record(&obj, None)
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
            let obj = parse_record(bytes)?;
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
    let obj = parse_record(bytes)?;
    let record = match obj.get("credential")? {
        Some(_) => decode_record(&obj, None)?,
        None => decode_entitlement_kafka(key, value)?,
    };
    Ok((record, unknown_keys_of_members(&obj.members)))
}

fn invalid_key(problem: &str) -> EntitlementError {
    EntitlementError::Invalid { field: "credential".into(), problem: format!("(the record key) {problem}") }
}

fn decode_record(obj: &Obj<'_>, key_credential: Option<String>) -> Result<EntitlementRecord, EntitlementError> {
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

fn decode_version(obj: &Obj<'_>, credential: String) -> Result<Entitlement, EntitlementError> {
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
        Some(items) => Some(items.iter().enumerate().map(|(i, raw)| burst_rule(obj, i, raw)).collect::<Result<Vec<_>, _>>()?),
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
fn day_limit(obj: &Obj<'_>, name: &str) -> Result<Option<i64>, EntitlementError> {
    let Some(v) = obj.get(name)? else { return Ok(None) };
    match read_count(&v) {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(obj.invalid(name)(format!("must be an integer of at least 1, got {}", v.shown()))),
    }
}

/// `scope.networks`: CIDRs or bare addresses (docs/semantics.md, "Where and by whom a key is used").
fn networks(scope: &Obj<'_>) -> Result<Option<Vec<Network>>, EntitlementError> {
    let Some(texts) = string_list(scope, "networks")? else { return Ok(None) };
    let mut out = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let net = Network::parse(text).map_err(|problem| EntitlementError::Invalid { field: format!("{}[{i}]", scope.field("networks")), problem })?;
        out.push(net);
    }
    Ok(Some(out))
}

fn duration_problem(v: &Json<'_>) -> String {
    format!("must be a duration <integer><unit> with unit ms, s, m, h or d (e.g. 90d), got {}", v.shown())
}

/// An optional array of strings (None: unrestricted; empty: allows nothing).
fn string_list(obj: &Obj<'_>, name: &str) -> Result<Option<Vec<String>>, EntitlementError> {
    let Some(items) = obj.array(name)? else { return Ok(None) };
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        match Json::read(raw).map_err(|_| bad_string())? {
            // A glob that looks like a raw secret is kept as its redacted id, like the owner
            // (an event value that is a raw secret is redacted too, so matching is unchanged).
            Some(Json::Str(s)) => out.push(super::secrets::redact_field(s.into_owned())),
            other => {
                let got = other.map_or("null", |v| v.type_name());
                return Err(EntitlementError::Invalid { field: format!("{}[{i}]", obj.field(name)), problem: format!("must be a string, got {got}") });
            }
        }
    }
    Ok(Some(out))
}

fn credit_plan(c: &Obj<'_>) -> Result<CreditPlan, EntitlementError> {
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
fn burst_rule(parent: &Obj<'_>, index: usize, raw: &RawValue) -> Result<BurstRule, EntitlementError> {
    let path = format!("{}[{index}]", parent.field("burst"));
    let members = match Json::read(raw).map_err(|_| bad_string())? {
        Some(Json::Object(o)) => parse_nested(o)?,
        other => {
            let got = other.map_or("null", |v| v.type_name());
            return Err(EntitlementError::Invalid { field: path, problem: format!("must be an object, got {got}") });
        }
    };
    let r = Obj { members, path: format!("{path}.") };
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
        return Err(EntitlementError::Invalid { field: path, problem: "must set at least one limit: credits, calls or tokens".into() });
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
    for (line_no, line) in super::json_lines(text) {
        let decoded = parse_shallow(line).and_then(|obj| {
            if unknown_keys {
                out.unknown.extend(unknown_keys_of_members(&obj.members).into_iter().map(|k| (line_no, k)));
            }
            check_depth(line)?;
            decode_record(&obj, None)
        });
        match decoded {
            Ok(record) => out.records.push(record),
            Err(e) => out.skipped.push((line_no, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::MS_PER_DAY;

    #[test]
    fn one_parse_finds_the_records_and_unknown_keys_of_separate_parses() {
        let deep = format!(r#"{{"credential":"d","owner":"o","updated_at":"2026-05-01T00:00:00Z","x":{}{}}}"#, "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        let text = [
            r#"{"credential":"k1","owner":"o","updated_at":"2026-05-01T00:00:00Z","ownr":"x","credits":{"monthly":10,"bank_month":1}}"#,
            "",
            r#"{"credential":"k2","tombstone":true,"note":1}"#,
            r#"{"credential":"k3","owner":"o","updated_at":"yesterday","colour":"red"}"#,
            "not json",
            &deep,
            r#"{"credential":"k4","owner":"o","updated_at":"2026-05-02T00:00:00Z","burst":[{"window":"60s","calls":5,"cals":1}]}"#,
        ]
        .join("\n");
        let one = read_entitlement_file(text.as_bytes(), true);
        // The reference: each line decoded on its own, and unknown keys by a parse of their own.
        let (mut records, mut skipped) = (Vec::new(), Vec::new());
        for (line_no, line) in super::super::json_lines(text.as_bytes()) {
            match decode_entitlement_line(line) {
                Ok(record) => records.push(record),
                Err(e) => skipped.push((line_no, e)),
            }
        }
        let unknown = super::super::entitlement_keys::unknown_keys_by_line(text.as_bytes());
        assert_eq!(format!("{:?}", one.records), format!("{records:?}"));
        assert_eq!(format!("{:?}", one.skipped), format!("{skipped:?}"));
        assert_eq!(format!("{:?}", one.unknown), format!("{unknown:?}"));
        assert_eq!((one.records.len(), one.skipped.len()), (3, 3), "{:?}", one.skipped);
        // A line nested too deep is skipped, yet its keys are still checked, as before.
        let lines: Vec<u64> = one.unknown.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 1, 3, 4, 6, 7], "{:?}", one.unknown);
    }

    const FULL: &str = r#"{"credential":"key_7f3a","owner":"team-ml@example.com","status":"active",
        "updated_at":"2026-05-01T00:00:00Z","valid_from":"2026-05-01T00:00:00Z","valid_until":"2027-05-01T00:00:00Z",
        "scope":{"capabilities":["chat","embeddings"],"models":["llama-*","qwen-*"]},
        "credits":{"monthly":"1000","bank_months":3,"bank_cap":"2500"},
        "burst":[{"window":"5m","credits":"50"},{"window":"1h","calls":2000}],"dormancy":"90d","extra":1}"#;

    fn line(s: &str) -> Result<EntitlementRecord, EntitlementError> {
        decode_entitlement_line(s.replace('\n', "").as_bytes())
    }

    fn version(s: &str) -> Entitlement {
        match line(s) {
            Ok(EntitlementRecord::Version(e)) => e,
            other => panic!("expected a version, got {other:?}"),
        }
    }

    fn patched(member: &str, value: &str) -> String {
        let base = r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#;
        format!("{},\"{member}\":{value}}}", &base[..base.len() - 1])
    }

    #[test]
    fn the_spec_example_decodes_every_field() {
        let e = version(FULL);
        assert_eq!(e.credential, "key_7f3a");
        assert_eq!(e.owner, "team-ml@example.com");
        assert_eq!(e.status, Status::Active);
        assert_eq!(e.scope.capabilities, Some(vec!["chat".to_string(), "embeddings".to_string()]));
        assert_eq!(e.credits, Some(CreditPlan { monthly: 1_000_000_000, bank_months: 3, bank_cap: Some(2_500_000_000) }));
        let burst = e.burst.unwrap();
        assert_eq!(burst[0], BurstRule { window_ms: 300_000, credits: Some(50_000_000), calls: None, tokens: None });
        assert_eq!(burst[1], BurstRule { window_ms: 3_600_000, credits: None, calls: Some(2000), tokens: None });
        assert_eq!(e.dormancy_ms, Some(90 * MS_PER_DAY));
        assert!(e.valid_from.is_some() && e.valid_until.is_some());
    }

    #[test]
    fn absent_and_null_members_take_their_defaults() {
        let e = version(&patched("status", "null"));
        assert_eq!(e.status, Status::Active);
        assert_eq!(e.scope, Scope::default());
        assert_eq!((e.credits, e.burst, e.dormancy_ms, e.valid_from), (None, None, None, None));
        let e = version(&patched("scope", r#"{"capabilities":[],"models":null}"#));
        assert_eq!(e.scope, Scope { capabilities: Some(vec![]), ..Scope::default() });
        let e = version(&patched("credits", r#"{"monthly":0.0000035}"#));
        assert_eq!(e.credits, Some(CreditPlan { monthly: 4, bank_months: 0, bank_cap: None }));
        assert_eq!(version(&patched("dormancy", "\"0d\"")).dormancy_ms, Some(0));
        assert_eq!(version(&patched("burst", "[]")).burst, Some(vec![]));
        assert!(version(&patched("valid_until", "\"9999-12-31T00:00:00Z\"")).valid_until.is_some());
    }

    #[test]
    fn principals_networks_and_day_limits_decode() {
        let e = version(&patched("scope", r#"{"principals":["svc-*"],"networks":["10.0.0.0/8","2001:db8::1"]}"#));
        assert_eq!(e.scope.principals, Some(vec!["svc-*".to_string()]));
        let nets: Vec<&str> = e.scope.networks.iter().flatten().map(|n| n.as_str()).collect();
        assert_eq!(nets, ["10.0.0.0/8", "2001:db8::1"]);
        assert_eq!(version(&patched("scope", r#"{"networks":[]}"#)).scope.networks, Some(vec![]));
        assert_eq!(version(&patched("max_principals", "3")).max_principals, Some(3));
        assert_eq!(version(&patched("max_source_ips", "1")).max_source_ips, Some(1));
        let e = version(FULL);
        assert_eq!((e.scope.principals, e.scope.networks, e.max_principals, e.max_source_ips), (None, None, None, None));
    }

    #[test]
    fn tombstones_name_a_credential() {
        assert_eq!(line(r#"{"credential":"k","tombstone":true}"#).unwrap(), EntitlementRecord::Tombstone { credential: "k".into() });
        assert!(matches!(line(&patched("tombstone", "false")), Ok(EntitlementRecord::Version(_))));
        assert!(line(r#"{"tombstone":true}"#).is_err());
        assert!(line(r#"{"credential":"k","tombstone":"yes"}"#).is_err());
    }

    #[test]
    fn invalid_records_name_the_field() {
        let cases = [
            (r#"{"owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#.to_string(), "field `credential` is required"),
            (r#"{"credential":"k","updated_at":"2026-05-01T00:00:00Z"}"#.to_string(), "field `owner` is required"),
            (r#"{"credential":"k","owner":"o"}"#.to_string(), "field `updated_at` is required"),
            (r#"{"credential":"","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#.to_string(), "field `credential`"),
            (r#"{"credential":"k","owner":"","updated_at":"2026-05-01T00:00:00Z"}"#.to_string(), "field `owner`"),
            (patched("status", "\"paused\""), "field `status`"),
            (patched("valid_from", "\"2026-05-01\""), "field `valid_from`"),
            (patched("scope", "[]"), "field `scope`"),
            (patched("scope", r#"{"models":["a",1]}"#), "field `scope.models[1]`"),
            (patched("credits", "{}"), "field `credits.monthly` is required"),
            (patched("credits", r#"{"monthly":"-5"}"#), "field `credits.monthly`"),
            (patched("credits", r#"{"monthly":1,"bank_months":-1}"#), "field `credits.bank_months`"),
            (patched("credits", r#"{"monthly":1,"bank_months":1.5}"#), "field `credits.bank_months`"),
            (patched("credits", r#"{"monthly":1,"bank_cap":"x"}"#), "field `credits.bank_cap`"),
            (patched("credits", r#"{"monthly":"1000000000.000001"}"#), "field `credits.monthly` must be at most 1000000000 credits a month"),
            (patched("credits", r#"{"monthly":1,"bank_months":1201}"#), "field `credits.bank_months` must be at most 1200"),
            (patched("burst", r#"[{"window":"5m"}]"#), "field `burst[0]` must set at least one limit"),
            (patched("burst", r#"[{"window":"5m","calls":1},{"window":"0s","calls":1}]"#), "field `burst[1].window`"),
            (patched("burst", r#"[{"window":"90ms","calls":1}]"#), "field `burst[0].window`"),
            (patched("burst", r#"[{"calls":1}]"#), "field `burst[0].window` is required"),
            (patched("burst", r#"[5]"#), "field `burst[0]` must be an object"),
            (patched("burst", r#"[{"window":"1m","tokens":-2}]"#), "field `burst[0].tokens`"),
            (patched("dormancy", "\"3 months\""), "field `dormancy`"),
            (patched("scope", r#"{"principals":"svc-*"}"#), "field `scope.principals` must be an array"),
            (patched("scope", r#"{"principals":["svc-*",7]}"#), "field `scope.principals[1]` must be a string"),
            (patched("scope", r#"{"networks":["10.0.0.0/8","10.0.0.0/08"]}"#), "field `scope.networks[1]` has a prefix length `/08`"),
            (patched("scope", r#"{"networks":["10.0.0.256"]}"#), "field `scope.networks[0]` must be a network"),
            (patched("scope", r#"{"networks":[null]}"#), "field `scope.networks[0]` must be a string"),
            (patched("max_principals", "0"), "field `max_principals` must be an integer of at least 1"),
            (patched("max_principals", "2.5"), "field `max_principals`"),
            (patched("max_source_ips", "\"3\""), "field `max_source_ips`"),
        ];
        for (text, reason) in cases {
            let err = line(&text).expect_err(&text);
            assert!(err.to_string().starts_with(reason), "{text}: {err}");
        }
        assert_eq!(line("[1]").unwrap_err().kind(), "invalid_json");
        assert_eq!(line("{").unwrap_err().kind(), "invalid_json");
        assert!(version(&patched("burst", r#"[{"window":"60ms","tokens":0}]"#)).burst.is_some());
    }

    #[test]
    fn raw_secret_credentials_are_kept_unredacted() {
        let e = version(r#"{"credential":"sk-live-123","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#);
        assert_eq!(e.credential, "sk-live-123");
        // A scope glob that is a raw secret (found by fuzzing) is kept as its redacted id.
        let e = version(&patched("scope", r#"{"models":["ghp_model*","llama-*"]}"#));
        assert_eq!(e.scope.models, Some(vec![crate::decode::secrets::redacted_id("ghp_model*"), "llama-*".to_string()]));
        let err = line(&format!(r#"{{"credential":"sk-{}","owner":"o","updated_at":"2026-05-01T00:00:00Z"}}"#, "x".repeat(300))).unwrap_err();
        assert!(!err.to_string().contains("sk-"));
    }

    #[test]
    fn kafka_records_use_the_key_for_tombstones_and_as_a_fallback() {
        assert_eq!(decode_entitlement_kafka(Some(b"k1"), None).unwrap(), EntitlementRecord::Tombstone { credential: "k1".into() });
        assert!(decode_entitlement_kafka(None, None).is_err());
        let value = br#"{"owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#;
        let rec = decode_entitlement_kafka(Some(b"k2"), Some(value)).unwrap();
        assert_eq!(rec.credential(), "k2");
        let value = br#"{"credential":"inside","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#;
        assert_eq!(decode_entitlement_kafka(Some(b"k2"), Some(value)).unwrap().credential(), "inside");
        assert!(decode_entitlement_kafka(None, Some(br#"{"owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#)).is_err());
    }

    #[test]
    fn a_file_is_read_in_line_order_with_skipped_lines_numbered() {
        let text = "{\"credential\":\"a\",\"owner\":\"o\",\"updated_at\":\"2026-05-01T00:00:00Z\"}\r\n\n   \nbroken\n{\"credential\":\"a\",\"tombstone\":true}\n";
        let (records, skipped) = read_entitlements(text);
        assert_eq!(records.len(), 2);
        assert!(matches!(records[1], EntitlementRecord::Tombstone { .. }));
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].0, 4);
        // A line that is not UTF-8 is skipped like any bad record; the rest is read.
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(b"\xff\xfe\n{\"credential\":\"b\",\"owner\":\"o\",\"updated_at\":\"2026-05-01T00:00:00Z\"}\n");
        let (records, skipped) = read_entitlements(&bytes);
        assert_eq!((records.len(), skipped.len(), skipped[1].0, skipped[1].1.kind()), (3, 2, 6, "invalid_json"));
    }
}
