//! Writing one usage call as a JSON line: native or structured CloudEvent,
//! optionally with a deliberate defect of each rejection kind (README.md,
//! Outputs: the rejected topic).

use super::profile::{Combo, Kind, Profile, SHARED_PODS, TEAMS};
use super::write::{push_decimal7, push_hex, push_key, push_str_field, push_time, push_u64, Rng, TimeStyle};

const REGIONS: [&str; 3] = ["gw-eu-1", "gw-us-1", "gw-ap-1"];

/// A deliberate defect; the number picks a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Defect {
    None,
    /// Not JSON, or not an object (`invalid_json`).
    InvalidJson(u32),
    /// A required field left out (`missing_field`).
    Missing(u32),
    /// A field of the wrong type or out of range (`invalid_field`).
    Invalid(u32),
    /// A structured CloudEvent with a bad envelope (`invalid_cloudevent`).
    CloudEvent(u32),
    /// Padded beyond the default 64 KiB limit (`too_large`).
    TooLarge,
}

impl Defect {
    /// The n-th defect of a stream: cycles through every kind.
    pub(crate) fn nth(n: u32) -> Defect {
        let round = n / 9;
        match n % 9 {
            0 | 1 => Defect::InvalidJson(round * 2 + n % 9),
            2 | 3 => Defect::Missing(round * 2 + n % 9),
            7 => Defect::CloudEvent(round),
            8 if round % 8 == 0 => Defect::TooLarge,
            _ => Defect::Invalid(round * 4 + n % 9),
        }
    }
}

/// Everything needed to write one usage line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    pub id: u64,
    pub t: i64,
    pub profile: Profile,
    pub combo: Combo,
    /// Cost in 10^-7 credits.
    pub units: u64,
    /// How `credits` is written (number or string, how many digits).
    pub credits_form: u8,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub style: TimeStyle,
    pub cloudevent: bool,
    /// Picks optional fields and their variants (0..100).
    pub decoration: u8,
    pub ip_octet: u8,
    pub defect: Defect,
}

/// A well-formed call of `profile` at `t`: the time style, tokens, credits
/// spelling, decorations and (with probability `cloudevent_rate`) the
/// CloudEvent envelope drawn from `rng`, in a fixed order (the sparse
/// shape's bytes depend on it).
pub(crate) fn new_call(rng: &mut Rng, id: u64, profile: Profile, combo: Combo, t: i64, units: u64, cloudevent_rate: f64) -> Call {
    let style = match rng.below(100) {
        0..=79 => TimeStyle::Millis,
        80..=89 => TimeStyle::Seconds,
        90..=94 => TimeStyle::Micros,
        95..=98 => TimeStyle::Offset,
        _ => TimeStyle::Lower,
    };
    let (tokens_in, tokens_out) = match combo.0 {
        "chat" => (rng.range(20, 4000), rng.range(0, 1200)),
        "embeddings" => (rng.range(8, 2048), 0),
        "tts" => (rng.range(10, 600), 0),
        _ => (0, 0),
    };
    Call {
        id,
        t: t.max(crate::model::time::MIN_TIME_MS),
        profile,
        combo,
        units,
        credits_form: rng.below(10) as u8,
        tokens_in,
        tokens_out,
        style,
        cloudevent: rng.chance(cloudevent_rate),
        decoration: rng.below(100) as u8,
        ip_octet: rng.below(250) as u8,
        defect: Defect::None,
    }
}

/// Appends the line of `c` to `out`.
pub(crate) fn write_call(out: &mut String, c: &Call) {
    match c.defect {
        Defect::InvalidJson(v) if v % 5 == 1 => {
            out.push_str("usage id=");
            push_hex(out, c.id, 6);
            out.push_str(" capability=");
            out.push_str(c.combo.0);
            return;
        }
        Defect::InvalidJson(v) if v % 5 == 3 => out.push('['),
        _ => {}
    }
    if c.cloudevent {
        write_cloudevent(out, c);
    } else {
        out.push('{');
        write_fields(out, c, true, true);
        out.push('}');
    }
    match c.defect {
        Defect::InvalidJson(v) => match v % 5 {
            0 => out.truncate(out.len() / 2),
            2 => {
                out.pop();
                out.push_str(",}");
            }
            3 => out.push(']'),
            _ => {}
        },
        Defect::TooLarge => {
            out.pop();
            out.push_str(",\"debug_payload\":\"");
            out.extend(std::iter::repeat_n('A', 66_000));
            out.push_str("\"}");
        }
        _ => {}
    }
}

fn missing(c: &Call, field: &str) -> bool {
    const FIELDS: [&str; 5] = ["id", "time", "credential", "capability", "credits"];
    matches!(c.defect, Defect::Missing(v) if FIELDS[v as usize % 5] == field)
}

/// The bad raw JSON of an `invalid_field` defect for `field`, if it targets it.
fn invalid(c: &Call, field: &str) -> Option<&'static str> {
    const BAD: [(&str, &str); 10] = [
        ("credits", "\"-2.5\""),
        ("credits", "\"12.3e2\""),
        ("credits", "-1"),
        ("time", "\"2026-02-30T10:00:00Z\""),
        ("time", "\"1999-12-31T23:59:59Z\""),
        ("tokens_in", "-5"),
        ("tokens_out", "1.5"),
        ("capability", "\"\""),
        ("id", "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""),
        ("capability", "42"),
    ];
    match c.defect {
        Defect::Invalid(v) => {
            let (f, raw) = BAD[v as usize % BAD.len()];
            (f == field).then_some(raw)
        }
        Defect::InvalidJson(v) if v % 5 == 4 && field == "credits" => Some("NaN"),
        _ => None,
    }
}

/// Writes a field unless the defect removes it or replaces its value; returns
/// whether the next field is still the first.
fn field(out: &mut String, c: &Call, name: &str, first: bool, write: impl FnOnce(&mut String)) -> bool {
    if missing(c, name) {
        return first;
    }
    push_key(out, name, first);
    match invalid(c, name) {
        Some(raw) => out.push_str(raw),
        None => write(out),
    }
    false
}

/// The usage fields; `with_ids` adds id, time and credential (native form).
fn write_fields(out: &mut String, c: &Call, with_ids: bool, first: bool) {
    let mut first = first;
    if with_ids {
        first = field(out, c, "id", first, |o| {
            o.push_str("\"evt-");
            push_hex(o, c.id, 6);
            o.push('"');
        });
        first = field(out, c, "time", first, |o| {
            o.push('"');
            push_time(o, c.t, c.style);
            o.push('"');
        });
        first = field(out, c, "credential", first, |o| {
            o.push('"');
            c.profile.push_credential(o);
            o.push('"');
        });
    }
    first = field(out, c, "capability", first, |o| {
        o.push('"');
        o.push_str(c.combo.0);
        o.push('"');
    });
    if let Some(model) = c.combo.1 {
        if c.decoration == 50 {
            push_key(out, "model", first);
            out.push_str("null");
        } else {
            push_str_field(out, "model", model, first);
        }
        first = false;
    }
    first = field(out, c, "credits", first, |o| push_credits(o, c));
    let bad_tokens = invalid(c, "tokens_in").is_some() || invalid(c, "tokens_out").is_some();
    if c.tokens_in > 0 || c.combo.0 == "chat" || bad_tokens {
        field(out, c, "tokens_in", first, |o| push_u64(o, c.tokens_in as u64));
        field(out, c, "tokens_out", false, |o| push_u64(o, c.tokens_out as u64));
    }
    write_decorations(out, c);
}

fn push_credits(out: &mut String, c: &Call) {
    let (quoted, digits) = match c.credits_form {
        0 | 1 => (false, 2),
        2 => (false, 4),
        3 => (false, 7),
        4 | 5 => (true, 2),
        6 => (true, 6),
        7 => (true, 7),
        8 => (false, 0),
        _ => (true, 3),
    };
    if quoted {
        out.push('"');
    }
    push_decimal7(out, c.units, digits);
    if quoted {
        out.push('"');
    }
}

fn write_decorations(out: &mut String, c: &Call) {
    let d = c.decoration;
    let p = &c.profile;
    if d < 80 {
        push_key(out, "principal", false);
        out.push_str(if d == 42 { "\"svc-caf\\u00e9-" } else { "\"spiffe://prod.example/ns/" });
        match p.kind {
            Kind::Shared => {
                out.push_str(p.team().name);
                out.push_str("/sa/pod-");
                push_u64(out, u64::from(c.ip_octet) % SHARED_PODS);
            }
            _ => {
                // A borrowed key is used by another team's workload in one call of 16.
                let borrowed = p.kind == Kind::Borrowed && c.id % 16 == 0;
                out.push_str(if borrowed { borrower(p) } else { p.team().name });
                out.push_str("/sa/svc-");
                push_hex(out, p.idx, 4);
            }
        }
        out.push('"');
    }
    if d % 10 != 9 {
        push_str_field(out, "source", REGIONS[(p.idx % 3) as usize], false);
    }
    if d % 7 != 0 {
        push_key(out, "src_ip", false);
        out.push('"');
        if d < 3 || (p.kind == Kind::Fenced && c.id % 16 == 1) {
            out.push_str("203.0.113.");
            push_u64(out, u64::from(c.ip_octet));
        } else {
            out.push_str("10.");
            push_u64(out, (p.idx >> 8) & 255);
            out.push('.');
            push_u64(out, p.idx & 255);
            out.push('.');
            push_u64(out, u64::from(c.ip_octet % 4) + 10);
        }
        out.push('"');
    }
    if d >= 97 {
        out.push_str(",\"region\":\"eu-west-1\",\"meta\":{\"latency_ms\":");
        push_u64(out, u64::from(c.ip_octet) * 3);
        out.push_str(",\"cached\":false,\"tags\":[\"batch\",null]}");
    }
}

/// A structured-mode CloudEvent: envelope id/time/subject, usage fields in `data`.
fn write_cloudevent(out: &mut String, c: &Call) {
    let bad = match c.defect {
        Defect::CloudEvent(v) => Some(v % 4),
        _ => None,
    };
    out.push_str(if bad == Some(0) { "{\"specversion\":\"0.3\"" } else { "{\"specversion\":\"1.0\"" });
    out.push_str(",\"id\":\"ce-");
    push_hex(out, c.id, 6);
    out.push('"');
    if bad != Some(1) {
        out.push_str(",\"source\":\"//gateway/");
        out.push_str(REGIONS[(c.profile.idx % 3) as usize]);
        out.push('"');
    }
    out.push_str(",\"type\":\"io.bursar.usage.v1\"");
    if bad != Some(3) {
        out.push_str(",\"subject\":\"");
        c.profile.push_credential(out);
        out.push('"');
    }
    out.push_str(",\"time\":\"");
    push_time(out, c.t, c.style);
    out.push_str("\",\"datacontenttype\":\"application/json\",\"data\":");
    if bad == Some(2) {
        out.push_str("\"not an object\"}");
        return;
    }
    out.push('{');
    write_fields(out, c, false, true);
    out.push_str("}}");
}

/// What a usage stream emits next.
pub(crate) enum Next {
    /// A duplicate whose countdown reached zero.
    Resend(String),
    /// A new line, with its index.
    Fresh(u64),
}

/// Counts the line against `events` (None: the stream is done) and says
/// whether it is a due re-send (its countdown in `dup` reached zero) or new.
pub(crate) fn next_line(emitted: &mut u64, events: u64, dup: &mut Option<(u32, String)>) -> Option<Next> {
    if *emitted >= events {
        return None;
    }
    let i = *emitted;
    *emitted += 1;
    if let Some((left, line)) = dup.take() {
        if left == 0 {
            return Some(Next::Resend(line));
        }
        *dup = Some((left - 1, line));
    }
    Some(Next::Fresh(i))
}

/// `call` made into the next malformed line, every rejection kind in turn.
pub(crate) fn spoiled(mut call: Call, counter: &mut u32) -> Call {
    *counter += 1;
    call.defect = Defect::nth(*counter);
    call.cloudevent = matches!(call.defect, Defect::CloudEvent(_));
    call
}

/// The team whose workload borrows a [`Kind::Borrowed`] key: the next one.
fn borrower(p: &Profile) -> &'static str {
    TEAMS[(p.team + 1) % TEAMS.len()].name
}
