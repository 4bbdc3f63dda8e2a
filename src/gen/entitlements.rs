//! Entitlement lines (README.md, Inputs) for each generated credential:
//! one or more versions over time, tombstones, and none at all for the
//! unmanaged and exposed ones.

use super::profile::{days, Kind, Profile, SHARED_LIMIT};
use super::write::{push_decimal7, push_key, push_str_field, push_time, push_u64, TimeStyle};
use super::GenSpec;
use crate::model::time::MS_PER_HOUR;

/// Calls per 5 minutes that a burster's rule allows.
pub(crate) const BURSTER_CALLS: u64 = 100;
/// Tokens per minute that a burster's rule allows.
pub(crate) const BURSTER_TOKENS: u64 = 150_000;
/// Length of a burst episode, in calls.
pub(crate) const BURST_CALLS: u32 = 150;

/// One version of an entitlement, before it is written.
#[derive(Debug, Clone, Copy)]
struct Version {
    updated_at: i64,
    status: &'static str,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    /// A capability added to the team's scope.
    extra_capability: Option<&'static str>,
    monthly: u64,
    bank_months: u32,
    /// Scale of the 5m calls limit.
    calls_factor: u64,
}

/// Every entitlement line of credential `p`, in the order they are read.
pub(crate) fn lines_for(spec: &GenSpec, p: &Profile) -> Vec<String> {
    let span = days(i64::from(spec.days.max(1)));
    let at = |f: f64| (spec.start_ms + (f * span as f64) as i64) / MS_PER_HOUR * MS_PER_HOUR;
    let issued = spec.start_ms - days(5 + (p.h >> 3) as i64 % 15) - ((p.h >> 9) % 24) as i64 * MS_PER_HOUR;
    let v1 = Version {
        updated_at: issued,
        status: "active",
        valid_from: ((p.h >> 12) & 1 == 0).then_some(issued),
        valid_until: ((p.h >> 13) % 4 == 0).then_some(issued + days(365)),
        extra_capability: None,
        monthly: p.monthly,
        bank_months: p.bank_months,
        calls_factor: 1,
    };
    let mut out = Vec::with_capacity(3);
    let mut push = |v: &Version| out.push(version_line(p, v, |s| push_burst(s, spec, p, v)));
    match p.kind {
        Kind::Unmanaged | Kind::Exposed => {}
        Kind::Revoked => {
            push(&v1);
            push(&Version { updated_at: at(0.55), status: "revoked", ..v1 });
        }
        Kind::Suspended => {
            push(&v1);
            push(&Version { updated_at: at(0.4), status: "suspended", ..v1 });
            push(&Version { updated_at: at(0.5), status: "active", ..v1 });
        }
        Kind::Expiring => push(&Version { valid_until: Some(at(0.6)), ..v1 }),
        Kind::NotYetValid => push(&Version { valid_from: Some(at(0.3)), ..v1 }),
        Kind::Ancient => {
            let long_ago = spec.start_ms - days(200);
            push(&Version { updated_at: long_ago, valid_from: Some(long_ago), valid_until: None, ..v1 });
        }
        Kind::Tombstoned | Kind::Reissued => {
            push(&v1);
            out.push(tombstone_line(p));
            if p.kind == Kind::Reissued {
                let t = at(0.5);
                let v2 = Version { updated_at: t, valid_from: Some(t), ..v1 };
                out.push(version_line(p, &v2, |s| push_burst(s, spec, p, &v2)));
            }
        }
        _ => {
            push(&v1);
            if p.kind == Kind::Normal && (p.h >> 44) % 3 == 0 {
                let widen = (p.h >> 50) & 1 == 1 && p.team().capabilities.is_some();
                push(&Version {
                    updated_at: at(0.3 + ((p.h >> 52) % 40) as f64 / 100.0),
                    extra_capability: widen.then_some("search"),
                    monthly: if (p.h >> 51) & 1 == 1 { p.monthly * 2 } else { p.monthly / 2 },
                    bank_months: (p.bank_months + 1) % 4,
                    calls_factor: 2,
                    ..v1
                });
            }
        }
    }
    out
}

fn tombstone_line(p: &Profile) -> String {
    let mut s = String::with_capacity(64);
    s.push_str("{\"credential\":\"");
    p.push_credential(&mut s);
    s.push_str("\",\"tombstone\":true}");
    s
}

/// One burst rule object of a dense-shape key: a window and its limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BurstRule {
    pub window: &'static str,
    pub calls: Option<u64>,
    /// Credits limit in 10^-7 credits.
    pub credits: Option<u64>,
}

/// The one active version of a dense-shape key, issued at `issued`, with
/// its own burst rules (`rules` empty: no `burst` field).
pub(crate) fn dense_line(p: &Profile, issued: i64, rules: &[BurstRule]) -> String {
    let v = Version {
        updated_at: issued,
        status: "active",
        valid_from: ((p.h >> 12) & 1 == 0).then_some(issued),
        valid_until: None,
        extra_capability: None,
        monthly: p.monthly,
        bank_months: p.bank_months,
        calls_factor: 1,
    };
    version_line(p, &v, |s| {
        if rules.is_empty() {
            return;
        }
        push_key(s, "burst", false);
        s.push('[');
        for (i, r) in rules.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('{');
            push_str_field(s, "window", r.window, true);
            if let Some(calls) = r.calls {
                push_key(s, "calls", false);
                push_u64(s, calls);
            }
            if let Some(units) = r.credits {
                push_key(s, "credits", false);
                s.push('"');
                push_decimal7(s, units, 2);
                s.push('"');
            }
            s.push('}');
        }
        s.push(']');
    })
}

fn version_line(p: &Profile, v: &Version, burst: impl FnOnce(&mut String)) -> String {
    let mut s = String::with_capacity(400);
    s.push('{');
    push_key(&mut s, "credential", true);
    s.push('"');
    p.push_credential(&mut s);
    s.push('"');
    push_key(&mut s, "owner", false);
    s.push('"');
    p.push_owner(&mut s);
    s.push('"');
    push_str_field(&mut s, "status", v.status, false);
    push_time_field(&mut s, "updated_at", v.updated_at);
    if let Some(t) = v.valid_from {
        push_time_field(&mut s, "valid_from", t);
    }
    if let Some(t) = v.valid_until {
        push_time_field(&mut s, "valid_until", t);
    }
    push_scope(&mut s, p, v);
    if p.has_credits {
        push_credits(&mut s, p, v);
    }
    burst(&mut s);
    if p.kind == Kind::Shared {
        for key in ["max_principals", "max_source_ips"] {
            push_key(&mut s, key, false);
            push_u64(&mut s, SHARED_LIMIT);
        }
    }
    if matches!(p.kind, Kind::Dormant | Kind::Idle) || (p.h >> 56) % 10 < 7 {
        push_key(&mut s, "dormancy", false);
        s.push('"');
        push_u64(&mut s, u64::from(p.dormancy_days));
        s.push_str("d\"");
    }
    s.push('}');
    s
}

fn push_time_field(s: &mut String, name: &str, t: i64) {
    push_key(s, name, false);
    s.push('"');
    push_time(s, t, TimeStyle::Seconds);
    s.push('"');
}

fn push_list(s: &mut String, items: &[&str], extra: Option<&str>) {
    s.push('[');
    for (i, item) in items.iter().chain(extra.iter()).enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        s.push_str(item);
        s.push('"');
    }
    s.push(']');
}

fn push_scope(s: &mut String, p: &Profile, v: &Version) {
    let team = p.team();
    let origin = matches!(p.kind, Kind::Borrowed | Kind::Fenced);
    if team.capabilities.is_none() && team.models.is_none() && !origin {
        return;
    }
    push_key(s, "scope", false);
    s.push('{');
    let mut first = true;
    if let Some(caps) = team.capabilities {
        push_key(s, "capabilities", first);
        push_list(s, caps, v.extra_capability);
        first = false;
    }
    if let Some(models) = team.models {
        push_key(s, "models", first);
        push_list(s, models, None);
        first = false;
    }
    match p.kind {
        Kind::Borrowed => {
            push_key(s, "principals", first);
            let glob = format!("spiffe://prod.example/ns/{}/*", team.name);
            push_list(s, &[glob.as_str()], None);
        }
        Kind::Fenced => {
            // Its own /24 (where its calls come from, see gen::event) and a documentation IPv6 range.
            push_key(s, "networks", first);
            let own = format!("10.{}.{}.0/24", (p.idx >> 8) & 255, p.idx & 255);
            push_list(s, &[own.as_str(), "2001:db8::/32"], None);
        }
        _ => {}
    }
    s.push('}');
}

fn push_credits(s: &mut String, p: &Profile, v: &Version) {
    push_key(s, "credits", false);
    s.push_str("{\"monthly\":\"");
    push_u64(s, v.monthly.max(1));
    s.push('"');
    if v.bank_months > 0 || (p.h >> 20) & 1 == 1 {
        s.push_str(",\"bank_months\":");
        push_u64(s, u64::from(v.bank_months));
    }
    if v.bank_months > 0 && p.kind != Kind::Saver && (p.h >> 21) % 3 == 0 {
        // A cap between one and the full banking window's worth of grants.
        let cap = v.monthly.max(1) * (u64::from(v.bank_months) * 8 + 5) / 10;
        s.push_str(",\"bank_cap\":\"");
        push_u64(s, cap.max(1));
        s.push_str(".5\"");
    }
    s.push('}');
}

/// Burst rules: bursters get calls, credits and tokens limits a burst
/// episode breaches; most others get roomy limits everyday traffic stays under.
fn push_burst(s: &mut String, spec: &GenSpec, p: &Profile, v: &Version) {
    let burster = p.kind == Kind::Burster;
    if !burster && (p.h >> 36) % 4 == 0 {
        return;
    }
    let mean_call = p.unit_cost * p.spend_ratio(0.5);
    push_key(s, "burst", false);
    s.push_str("[{\"window\":\"5m\",\"calls\":");
    push_u64(s, if burster { BURSTER_CALLS } else { 120 * v.calls_factor });
    s.push_str("},{\"window\":\"1h\",\"credits\":\"");
    let factor = if burster { 30.0 } else { 200.0 };
    push_decimal7(s, ((mean_call * factor) as u64).max(100_000), 2);
    s.push_str("\"}");
    if burster || (p.h >> 38) & 1 == 1 {
        s.push_str(",{\"window\":\"1m\",\"tokens\":");
        push_u64(s, if burster { BURSTER_TOKENS } else { 400_000 });
        s.push('}');
    }
    if (p.h >> 39) & 3 == 0 && spec.days > 0 {
        s.push_str(",{\"window\":\"1d\",\"calls\":5000,\"credits\":\"");
        push_decimal7(s, ((mean_call * 2000.0) as u64).max(10_000_000), 0);
        s.push_str("\"}");
    }
    s.push(']');
}
