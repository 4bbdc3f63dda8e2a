//! Per-credential profiles: a pure function of (seed, index), so the
//! entitlements and the usage stream agree without sharing any state and
//! without holding a table of a million credentials in memory.

use super::write::{hash3, push_hex};
use super::GenSpec;
use crate::model::time::MS_PER_DAY;

/// What a credential is for in the story: normal traffic or one anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Normal,
    /// Used, but never given an entitlement (`credential.unmanaged`).
    Unmanaged,
    /// Telemetry carries the raw secret instead of a key id (`credential.exposed`).
    Exposed,
    /// Goes quiet for longer than its dormancy, then comes back (`dormant.idle`, `dormant.reactivated`).
    Dormant,
    /// Goes quiet for good (`dormant.idle`).
    Idle,
    /// Spends more than its grant every month (`credits.overdraft`, thresholds).
    Overdraft,
    /// Spends ~90% of its grant (`credits.threshold` at 0.8).
    Threshold,
    /// Banks 3 months of credits, then spends them (`banking.accumulation`, `banking.drawdown`).
    Saver,
    /// A later version revokes it; usage goes on (`credential.revoked`).
    Revoked,
    /// Suspended for a while, then active again.
    Suspended,
    /// `valid_until` falls inside the span.
    Expiring,
    /// `valid_from` falls inside the span, usage starts before it.
    NotYetValid,
    /// Sometimes calls outside its scope (`scope.violation`).
    Violator,
    /// Starts using a new in-scope model after learning (`scope.drift`).
    Drifter,
    /// Its entitlement is tombstoned (`credential.unmanaged`).
    Tombstoned,
    /// Tombstoned, then re-issued with a later version mid-span.
    Reissued,
    /// Gets a burst of calls (`burst`).
    Burster,
    /// Issued long before its first use (`dormant.reactivated` at the first event).
    Ancient,
    /// Its scope allows its own team's principals only; another team's
    /// workload borrows it now and then (`scope.principal`).
    Borrowed,
    /// Its scope allows its own /24 only; a few calls come from elsewhere (`scope.network`).
    Fenced,
    /// One key shared by a dozen pods, with a limit of 2 principals and 2
    /// source addresses a day (`credential.shared`).
    Shared,
}

/// Every anomaly kind; with anomalies on, credential `i < ANOMALIES.len()`
/// gets `ANOMALIES[i]`, so even a small workload shows each of them.
pub(crate) const ANOMALIES: [Kind; 20] = [
    Kind::Burster,
    Kind::Overdraft,
    Kind::Threshold,
    Kind::Saver,
    Kind::Dormant,
    Kind::Idle,
    Kind::Violator,
    Kind::Drifter,
    Kind::Revoked,
    Kind::Suspended,
    Kind::Expiring,
    Kind::NotYetValid,
    Kind::Unmanaged,
    Kind::Exposed,
    Kind::Tombstoned,
    Kind::Reissued,
    Kind::Ancient,
    Kind::Borrowed,
    Kind::Fenced,
    Kind::Shared,
];

/// Per-mille share of each anomaly kind among the other credentials.
const SHARES: [(Kind, u64); 20] = [
    (Kind::Burster, 20),
    (Kind::Overdraft, 25),
    (Kind::Threshold, 30),
    (Kind::Saver, 30),
    (Kind::Dormant, 25),
    (Kind::Idle, 20),
    (Kind::Violator, 20),
    (Kind::Drifter, 25),
    (Kind::Revoked, 10),
    (Kind::Suspended, 10),
    (Kind::Expiring, 10),
    (Kind::NotYetValid, 10),
    (Kind::Unmanaged, 20),
    (Kind::Exposed, 10),
    (Kind::Tombstoned, 8),
    (Kind::Reissued, 7),
    (Kind::Ancient, 10),
    (Kind::Borrowed, 10),
    (Kind::Fenced, 10),
    (Kind::Shared, 10),
];

/// A (capability, model) pair a team calls.
pub(crate) type Combo = (&'static str, Option<&'static str>);

/// A scope template: what a team may call and what it usually calls.
pub(crate) struct Team {
    pub name: &'static str,
    pub capabilities: Option<&'static [&'static str]>,
    pub models: Option<&'static [&'static str]>,
    /// In-scope pairs of everyday use.
    pub combos: &'static [Combo],
    /// An in-scope pair never used in everyday traffic (drift).
    pub drift: Combo,
    /// An out-of-scope pair.
    pub violation: Combo,
}

pub(crate) const TEAMS: [Team; 6] = [
    Team {
        name: "ml",
        capabilities: Some(&["chat", "embeddings"]),
        models: Some(&["llama-*", "qwen-*", "text-embedding-*"]),
        combos: &[("chat", Some("llama-3-70b")), ("embeddings", Some("text-embedding-3-small")), ("chat", Some("qwen-2-7b"))],
        drift: ("chat", Some("llama-3-8b")),
        violation: ("chat", Some("gpt-4o")),
    },
    Team {
        name: "support",
        capabilities: Some(&["chat"]),
        models: Some(&["gpt-4o*", "llama-3-*"]),
        combos: &[("chat", Some("gpt-4o-mini")), ("chat", Some("llama-3-8b"))],
        drift: ("chat", Some("gpt-4o")),
        violation: ("tts", Some("tts-1")),
    },
    Team {
        name: "creative",
        capabilities: Some(&["image", "chat"]),
        models: Some(&["sdxl*", "flux-*", "llama-*"]),
        combos: &[("image", Some("sdxl-1.0")), ("image", Some("flux-schnell")), ("chat", Some("llama-3-70b"))],
        drift: ("image", Some("flux-dev")),
        violation: ("image", Some("dall-e-3")),
    },
    Team {
        name: "search",
        capabilities: Some(&["search", "chat", "embeddings"]),
        models: None,
        combos: &[("search", None), ("chat", Some("gpt-4o")), ("embeddings", Some("bge-large-en"))],
        drift: ("chat", Some("mistral-large")),
        violation: ("tts", Some("xtts-v2")),
    },
    Team {
        name: "voice",
        capabilities: Some(&["tts", "chat"]),
        models: Some(&["tts-*", "xtts-*", "qwen-*"]),
        combos: &[("tts", Some("tts-1")), ("chat", Some("qwen-2-7b"))],
        drift: ("tts", Some("xtts-v2")),
        violation: ("chat", Some("gpt-4o")),
    },
    Team {
        name: "platform",
        capabilities: None,
        models: None,
        combos: &[("chat", Some("llama-3-70b")), ("embeddings", Some("nomic-embed-text")), ("search", None)],
        drift: ("image", Some("sdxl-1.0")),
        violation: ("image", Some("sdxl-1.0")),
    },
];

/// Share of picks that are uniform over all credentials; the rest are skewed to low indexes (hot keys).
pub(crate) const UNIFORM_SHARE: f64 = 0.7;

/// Everything the generator decides about one credential.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    pub idx: u64,
    pub kind: Kind,
    pub team: usize,
    /// Whole credits granted per month.
    pub monthly: u64,
    pub bank_months: u32,
    pub dormancy_days: u32,
    /// The version has a `credits` plan.
    pub has_credits: bool,
    /// Mean cost of an everyday call, in 10^-7 credits, at a spend ratio of 1.
    pub unit_cost: f64,
    /// Salt for further stable choices.
    pub h: u64,
}

impl Profile {
    pub(crate) fn new(spec: &GenSpec, idx: u64) -> Profile {
        let h = hash3(spec.seed, idx, 1);
        let kind = kind_of(spec, idx, h);
        let team = if kind == Kind::Violator { (h >> 8) as usize % 5 } else { (h >> 8) as usize % TEAMS.len() };
        let monthly = [100u64, 250, 500, 1000, 2000, 5000][(h >> 16) as usize % 6];
        let bank_months = match kind {
            Kind::Saver => 3,
            _ => ((h >> 24) % 4) as u32,
        };
        let dormancy_days = match kind {
            Kind::Dormant | Kind::Idle => 30,
            _ => [30u32, 45, 60, 90][(h >> 28) as usize % 4],
        };
        let has_credits = matches!(kind, Kind::Overdraft | Kind::Threshold | Kind::Saver) || (h >> 32) % 10 != 0;
        let per_month = expected_events(spec, idx) * 30.0 / f64::from(spec.days.max(1));
        let unit_cost = monthly as f64 * 1e7 / per_month.max(1.0);
        Profile { idx, kind, team, monthly, bank_months, dormancy_days, has_credits, unit_cost, h }
    }

    pub(crate) fn team(&self) -> &'static Team {
        &TEAMS[self.team]
    }

    /// Fraction of its grant the credential spends per month at fraction `f` of the span.
    pub(crate) fn spend_ratio(&self, f: f64) -> f64 {
        match self.kind {
            Kind::Overdraft => 1.6,
            Kind::Threshold => 0.9,
            Kind::Saver if f < 0.7 => 0.05,
            Kind::Saver => 4.0,
            _ => 0.15 + (self.h >> 40) as f64 / (1u64 << 24) as f64 * 0.35,
        }
    }

    /// Whether the credential calls at all at fraction `f` of the span.
    pub(crate) fn active(&self, spec: &GenSpec, f: f64) -> bool {
        let span_days = f64::from(spec.days.max(1));
        match self.kind {
            Kind::Dormant => {
                let gap = (f64::from(self.dormancy_days) + 10.0) / span_days;
                !(0.25..0.25 + gap).contains(&f)
            }
            Kind::Idle => f < 0.35,
            _ => true,
        }
    }

    /// Appends the credential string as it appears in telemetry.
    pub(crate) fn push_credential(&self, out: &mut String) {
        if self.kind == Kind::Exposed {
            push_secret(out, self.h);
        } else {
            push_key_id(out, self.idx);
        }
    }

    /// The entitlement owner.
    pub(crate) fn push_owner(&self, out: &mut String) {
        out.push_str("team-");
        out.push_str(self.team().name);
        out.push('-');
        push_hex(out, self.idx % 97, 2);
        out.push_str("@example.com");
    }
}

/// Pods sharing a [`Kind::Shared`] key, and the daily limits its entitlement sets.
pub(crate) const SHARED_PODS: u64 = 12;
pub(crate) const SHARED_LIMIT: u64 = 2;

/// `key_` + 6 or more hex digits of the index.
pub(crate) fn push_key_id(out: &mut String, idx: u64) {
    out.push_str("key_");
    push_hex(out, idx, 6);
}

/// A fake raw secret in one of several well-known shapes.
fn push_secret(out: &mut String, h: u64) {
    const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let (prefix, len, alphabet): (&str, usize, &[u8]) = match h % 4 {
        0 => ("sk-", 40, B62),
        1 => ("AKIA", 16, &B62[..36]),
        2 => ("ghp_", 36, B62),
        _ => ("sk-ant-api03-", 32, B62),
    };
    out.push_str(prefix);
    let mut x = h;
    for i in 0..len {
        if i % 8 == 0 {
            x = hash3(h, i as u64, 7);
        }
        out.push(alphabet[(x % alphabet.len() as u64) as usize] as char);
        x /= alphabet.len() as u64;
    }
}

fn kind_of(spec: &GenSpec, idx: u64, h: u64) -> Kind {
    if !spec.anomalies {
        return Kind::Normal;
    }
    if let Some(kind) = ANOMALIES.get(idx as usize) {
        return *kind;
    }
    let mut r = h % 1000;
    for (kind, share) in SHARES {
        if r < share {
            return kind;
        }
        r -= share;
    }
    Kind::Normal
}

/// Expected number of picks of credential `idx` over the workload.
fn expected_events(spec: &GenSpec, idx: u64) -> f64 {
    let n = spec.credentials.max(1) as f64;
    let x = (idx as f64 + 0.5) / n;
    // Picks are UNIFORM_SHARE uniform and the rest n * u^3 (density x^(-2/3) / 3).
    let density = UNIFORM_SHARE + (1.0 - UNIFORM_SHARE) * x.powf(-2.0 / 3.0) / 3.0;
    spec.events as f64 * 0.93 * density / n
}

/// Whole days as milliseconds.
pub(crate) const fn days(d: i64) -> i64 {
    d * MS_PER_DAY
}
