//! The decoder as it was before the tape (b0a6682): the top level parsed by
//! serde_json into raw members, `scope`, `credits` and `burst` parsed again
//! on their own, and again for unknown keys. Kept for the tests only, to
//! pin the tape decoder's results (records, reasons, unknown keys) to it.

use serde_json::value::RawValue;

use super::{bad_string, check_depth, duration_problem, invalid_key, EntitlementError, FileEntitlements, MAX_BANK_MONTHS, MAX_MONTHLY_MICROS};
use crate::decode::entitlement_keys::{unknown_names, UnknownKey, BURST, CREDITS, SCOPE, TOP_LEVEL};
use crate::decode::{json_error_reason, member, parse_members, read_count, read_credits, read_string, read_time, Json, Members};
use crate::model::net::Network;
use crate::model::time::parse_duration;
use crate::model::{BurstRule, CreditPlan, Entitlement, EntitlementRecord, Scope, Status};

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

    fn invalid<'s>(&'s self, name: &'s str) -> impl Fn(String) -> EntitlementError + 's {
        move |problem| EntitlementError::Invalid { field: self.field(name), problem }
    }

    fn object(&self, name: &str) -> Result<Option<Obj<'a>>, EntitlementError> {
        match self.get(name)? {
            None => Ok(None),
            Some(Json::Object(raw)) => Ok(Some(Obj { members: parse_nested(raw)?, path: format!("{}.", self.field(name)) })),
            Some(other) => Err(self.invalid(name)(format!("must be an object, got {}", other.type_name()))),
        }
    }

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

fn parse_record(bytes: &[u8]) -> Result<Obj<'_>, EntitlementError> {
    let obj = parse_shallow(bytes)?;
    check_depth(bytes)?;
    Ok(obj)
}

fn parse_shallow(bytes: &[u8]) -> Result<Obj<'_>, EntitlementError> {
    let text = std::str::from_utf8(bytes).map_err(|e| EntitlementError::InvalidJson(format!("the record is not UTF-8 (invalid byte at offset {})", e.valid_up_to())))?;
    let members = parse_members(text).map_err(|e| EntitlementError::InvalidJson(json_error_reason(text, &e)))?;
    Ok(Obj { members, path: String::new() })
}

fn credential_of(v: Json<'_>, obj: &Obj<'_>) -> Result<String, EntitlementError> {
    read_string(v, 1, 256, false).map(|s| s.into_owned()).map_err(obj.invalid("credential"))
}

pub(super) fn decode_entitlement_line(line: &[u8]) -> Result<EntitlementRecord, EntitlementError> {
    let obj = parse_record(line)?;
    decode_record(&obj, None)
}

pub(super) fn decode_entitlement_kafka(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<EntitlementRecord, EntitlementError> {
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

pub(super) fn decode_entitlement_kafka_with_unknown_keys(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<(EntitlementRecord, Vec<UnknownKey>), EntitlementError> {
    let Some(bytes) = value else { return Ok((decode_entitlement_kafka(key, None)?, Vec::new())) };
    let obj = parse_record(bytes)?;
    let record = match obj.get("credential")? {
        Some(_) => decode_record(&obj, None)?,
        None => decode_entitlement_kafka(key, value)?,
    };
    Ok((record, unknown_keys_of_members(&obj.members)))
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
    let owner = crate::decode::secrets::redact_field(read_string(obj.required("owner")?, 1, usize::MAX, true).map_err(obj.invalid("owner"))?.into_owned());
    let status = match obj.get("status")? {
        None => Status::Active,
        Some(Json::Str(s)) if s == "active" => Status::Active,
        Some(Json::Str(s)) if s == "suspended" => Status::Suspended,
        Some(Json::Str(s)) if s == "revoked" => Status::Revoked,
        Some(other) => return Err(obj.invalid("status")(format!("must be one of active, suspended, revoked, got {}", other.shown()))),
    };
    let updated_at = read_time(&obj.required("updated_at")?, true).map_err(obj.invalid("updated_at"))?;
    let valid_from = obj.get("valid_from")?.map(|v| read_time(&v, true)).transpose().map_err(obj.invalid("valid_from"))?;
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

fn day_limit(obj: &Obj<'_>, name: &str) -> Result<Option<i64>, EntitlementError> {
    let Some(v) = obj.get(name)? else { return Ok(None) };
    match read_count(&v) {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(obj.invalid(name)(format!("must be an integer of at least 1, got {}", v.shown()))),
    }
}

fn networks(scope: &Obj<'_>) -> Result<Option<Vec<Network>>, EntitlementError> {
    let Some(texts) = string_list(scope, "networks")? else { return Ok(None) };
    let mut out = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let net = Network::parse(text).map_err(|problem| EntitlementError::Invalid { field: format!("{}[{i}]", scope.field("networks")), problem })?;
        out.push(net);
    }
    Ok(Some(out))
}

fn string_list(obj: &Obj<'_>, name: &str) -> Result<Option<Vec<String>>, EntitlementError> {
    let Some(items) = obj.array(name)? else { return Ok(None) };
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        match Json::read(raw).map_err(|_| bad_string())? {
            Some(Json::Str(s)) => out.push(crate::decode::secrets::redact_field(s.into_owned())),
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

pub(super) fn read_entitlement_file(text: &[u8], unknown_keys: bool) -> FileEntitlements {
    let mut out = FileEntitlements::default();
    for (line_no, line) in crate::decode::json_lines(text) {
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

/// The unknown keys of one value (`entitlement_keys::unknown_keys` before the tape).
pub(super) fn unknown_keys(value: &[u8]) -> Vec<UnknownKey> {
    match std::str::from_utf8(value).ok().and_then(|t| parse_members(t).ok()) {
        Some(top) => unknown_keys_of_members(&top),
        None => Vec::new(),
    }
}

fn unknown_keys_of_members(top: &Members<'_>) -> Vec<UnknownKey> {
    let mut out = Vec::new();
    unknown_among(top, "", TOP_LEVEL, &mut out);
    if let Some(scope) = nested_object(top, "scope") {
        unknown_among(&scope, "scope.", SCOPE, &mut out);
    }
    if let Some(credits) = nested_object(top, "credits") {
        unknown_among(&credits, "credits.", CREDITS, &mut out);
    }
    if let Some(Ok(Some(Json::Array(raw)))) = member(top, "burst").map(Json::read) {
        let rules: Vec<&RawValue> = serde_json::from_str(raw.get()).unwrap_or_default();
        for (i, rule) in rules.into_iter().enumerate() {
            if let Some(rule) = object_members(rule) {
                unknown_among(&rule, &format!("burst[{i}]."), BURST, &mut out);
            }
        }
    }
    out
}

fn unknown_among(members: &Members<'_>, path: &str, known: &'static [&'static str], out: &mut Vec<UnknownKey>) {
    let mut names: Vec<&str> = members.iter().map(|(k, _)| k.as_ref()).collect();
    names.sort_unstable();
    names.dedup();
    unknown_names(names.into_iter(), path, known, out);
}

fn nested_object<'a>(members: &Members<'a>, name: &str) -> Option<Members<'a>> {
    member(members, name).and_then(object_members)
}

fn object_members(raw: &RawValue) -> Option<Members<'_>> {
    match Json::read(raw) {
        Ok(Some(Json::Object(o))) => parse_members(o.get()).ok(),
        _ => None,
    }
}
