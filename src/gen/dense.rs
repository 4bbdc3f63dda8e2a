//! The dense shape (`bursar gen --shape dense`): a few hundred keys over a
//! few hours, each with a call rate drawn from a Pareto distribution, so
//! most keys call a few times a minute and a few (gateway keys, agents,
//! batch jobs) several times a second. Busy keys put many events into each
//! window, the path the sparse shape seldom takes.
//!
//! Rates scale with the workload: key `i` carries `events * w_i / sum(w)`
//! calls over `hours`, `w_i` its Pareto weight. Like the sparse shape, every
//! choice is a pure function of the seed: a key's weight, role, team and
//! grant of (seed, index), the stream of one xoshiro [`Rng`].

use super::entitlements::{dense_line, BurstRule};
use super::event::{new_call, write_call, Call, Defect};
use super::profile::{days, Kind, Profile, TEAMS};
use super::write::{hash3, Rng};
use super::GenSpec;
use crate::model::time::{MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND};

/// Share of lines that are malformed (when `bad_lines`).
const BAD_RATE: f64 = 0.0008;
/// Share of lines re-sent verbatim within a few seconds (duplicate ids).
const DUP_RATE: f64 = 0.002;
/// Longest delay of a re-sent line, in event time.
const DUP_WITHIN_MS: f64 = 3_000.0;
/// Share of lines shifted back within the default 30 s lateness (out of order, not late).
const JITTER_RATE: f64 = 0.08;
/// Share of lines that arrive after their 1m window closed.
const LATE_RATE: f64 = 0.001;
/// Share of lines written as structured CloudEvents.
const CLOUDEVENT_RATE: f64 = 0.10;
/// Pareto shape of the call rates (1.16: the "80/20" distribution).
const PARETO_ALPHA: f64 = 1.16;
/// Largest rate weight, in units of the smallest (the Pareto scale).
const MAX_WEIGHT: f64 = 300.0;
/// Share of the span a batch job runs in.
const BATCH_SHARE: f64 = 0.15;
/// An agent works for this long, then pauses as long.
const AGENT_PERIOD_MS: i64 = 10 * MS_PER_MINUTE;
/// Peak calls per minute from which a key counts as busy (may breach its burst rule).
const BUSY_PER_MINUTE: f64 = 30.0;

/// When a key calls.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    /// All the time at its rate (applications; the busiest are gateway keys).
    Steady,
    /// An agent: works for [`AGENT_PERIOD_MS`], pauses as long, from its phase.
    Agent { phase: i64 },
    /// A batch job: only in `[from, from + BATCH_SHARE)` of the span.
    Batch { from: f64 },
}

impl Role {
    /// Share of the span in which the key calls.
    fn active_share(self) -> f64 {
        match self {
            Role::Steady => 1.0,
            Role::Agent { .. } => 0.5,
            Role::Batch { .. } => BATCH_SHARE,
        }
    }

    fn active(self, f: f64, span_ms: i64) -> bool {
        match self {
            Role::Steady => true,
            Role::Agent { phase } => ((f * span_ms as f64) as i64 + phase) / AGENT_PERIOD_MS % 2 == 0,
            Role::Batch { from } => (from..from + BATCH_SHARE).contains(&f),
        }
    }
}

/// Everything the generator decides about one dense-shape key.
#[derive(Debug, Clone, Copy)]
struct Key {
    /// Kind is `Normal`, `Unmanaged` or `Violator`; `unit_cost` is the mean call cost.
    profile: Profile,
    role: Role,
    /// Pareto weight: the key's share of all calls is `weight / sum(weight)`.
    weight: f64,
    /// Credits spent over the span, as a share of the monthly grant.
    spend: f64,
    /// When busy, its burst rule allows less than its peak rate.
    breacher: bool,
}

impl Key {
    fn new(spec: &GenSpec, idx: u64) -> Key {
        let h = hash3(spec.seed, idx, 0xD3);
        // Stratified Pareto quantiles: key i draws inside the i-th of n equal
        // slices of (0, 1], so low indexes are the busy keys (as in the sparse
        // shape) and every seed gets its few very busy keys.
        let v = ((h >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u = (idx as f64 + v) / spec.credentials.max(1) as f64;
        let weight = u.powf(-1.0 / PARETO_ALPHA).min(MAX_WEIGHT);
        // The first keys have fixed parts: 0 the busiest gateway key, 1 a busy
        // key breaching its burst rule, 3 an agent, 4 a scope violator,
        // 5 an unmanaged key, 6 a batch job.
        let role = match (idx, (h >> 2) % 100) {
            (6, _) | (7.., 0..=3) => Role::Batch { from: ((h >> 40) % 850) as f64 / 1000.0 },
            (3, _) | (7.., 4..=11) => Role::Agent { phase: ((h >> 40) % 2) as i64 * AGENT_PERIOD_MS },
            _ => Role::Steady,
        };
        let kind = match (spec.anomalies, idx, (h >> 8) % 100) {
            (false, _, _) => Kind::Normal,
            (true, 5, _) | (true, 7.., 0..=2) => Kind::Unmanaged,
            (true, 4, _) | (true, 7.., 3..=5) => Kind::Violator,
            _ => Kind::Normal,
        };
        // Every team but `platform` has a scope to violate.
        let team = (h >> 16) as usize % if kind == Kind::Violator { TEAMS.len() - 1 } else { TEAMS.len() };
        let spend = match (spec.anomalies, role) {
            (true, Role::Batch { .. }) => 1.3,
            (true, _) if (h >> 50) % 40 == 0 => 0.85,
            _ => 0.005 + 0.035 * ((h >> 32) % 1000) as f64 / 1000.0,
        };
        let profile = Profile {
            idx,
            kind,
            team,
            monthly: [100u64, 250, 500, 1000, 2000, 5000][(h >> 24) as usize % 6],
            bank_months: ((h >> 28) % 4) as u32,
            dormancy_days: [30u32, 45, 60, 90][(h >> 30) as usize % 4],
            has_credits: true,
            unit_cost: 0.0,
            h,
        };
        let breacher = spec.anomalies && (idx == 1 || (idx > 6 && (h >> 48) % 2 == 0));
        Key { profile, role, weight, spend, breacher }
    }
}

/// Every key of a dense workload, with the table that picks them by rate.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    keys: Vec<Key>,
    /// Running sums of `weight / active_share`: the pick weights while active.
    cumulative: Vec<f64>,
    /// Sum of the keys' weights.
    total_weight: f64,
    span_ms: i64,
}

impl Keys {
    pub(crate) fn new(spec: &GenSpec) -> Keys {
        let n = spec.credentials.max(1);
        let mut keys: Vec<Key> = (0..n).map(|idx| Key::new(spec, idx)).collect();
        let total: f64 = keys.iter().map(|k| k.weight).sum();
        let calls = spec.events as f64 * (1.0 - DUP_RATE - BAD_RATE);
        for k in &mut keys {
            let expected = (calls * k.weight / total).max(1.0);
            k.profile.unit_cost = k.profile.monthly as f64 * 1e7 * k.spend / expected;
        }
        let mut sum = 0.0;
        let cumulative = keys
            .iter()
            .map(|k| {
                sum += k.weight / k.role.active_share();
                sum
            })
            .collect();
        let span_ms = i64::from(spec.hours.max(1)) * MS_PER_HOUR;
        Keys { keys, cumulative, total_weight: total, span_ms }
    }

    /// Calls per minute of key `k` while it is active.
    fn peak_per_minute(&self, spec: &GenSpec, k: &Key) -> f64 {
        let calls = spec.events as f64 * k.weight / self.total_weight;
        calls / k.role.active_share() / (self.span_ms as f64 / MS_PER_MINUTE as f64)
    }

    /// The entitlement lines of key `idx`: none for unmanaged keys, else one
    /// active version with scope, monthly credits and burst rules.
    pub(crate) fn entitlement_lines(&self, spec: &GenSpec, idx: u64) -> Vec<String> {
        let Some(k) = self.keys.get(idx as usize) else { return Vec::new() };
        if k.profile.kind == Kind::Unmanaged {
            return Vec::new();
        }
        let h = k.profile.h;
        let issued = spec.start_ms - days(3 + (h >> 3) as i64 % 20) - ((h >> 9) % 24) as i64 * MS_PER_HOUR;
        let per_minute = self.peak_per_minute(spec, k);
        let calls = if k.breacher && per_minute >= BUSY_PER_MINUTE {
            (per_minute * 0.7) as u64
        } else {
            ((per_minute * 3.0).ceil() as u64).max(20)
        };
        let hourly_credits = k.profile.unit_cost * per_minute * 60.0 * 3.0;
        let rules = [
            BurstRule { window: "1m", calls: Some(calls), credits: None },
            BurstRule { window: "1h", calls: None, credits: Some((hourly_credits as u64).max(10_000_000)) },
        ];
        let roomy_without_rules = !k.breacher && (h >> 52) % 5 == 0;
        vec![dense_line(&k.profile, issued, if roomy_without_rules { &[] } else { &rules })]
    }

    /// A key picked by rate among those active at fraction `f` of the span.
    fn pick(&self, rng: &mut Rng, f: f64) -> &Key {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let mut key = &self.keys[0];
        for _ in 0..8 {
            let x = rng.unit() * total;
            let i = self.cumulative.partition_point(|c| *c <= x).min(self.keys.len() - 1);
            key = &self.keys[i];
            if key.role.active(f, self.span_ms) {
                break;
            }
        }
        key
    }
}

/// Streaming iterator over dense usage lines; see [`super::usage`].
#[derive(Debug, Clone)]
pub(crate) struct DenseLines {
    spec: GenSpec,
    keys: Keys,
    rng: Rng,
    /// Lines emitted so far.
    emitted: u64,
    /// Ids handed out so far.
    seq: u64,
    /// Milliseconds of event time per line.
    step: f64,
    /// A line to re-send after this many more lines.
    dup: Option<(u32, String)>,
    bad_counter: u32,
}

impl DenseLines {
    pub(crate) fn new(spec: &GenSpec) -> DenseLines {
        let keys = Keys::new(spec);
        let step = keys.span_ms as f64 / spec.events.max(1) as f64;
        DenseLines { spec: *spec, keys, rng: Rng::new(spec.seed ^ 0x0044_454E_5345), emitted: 0, seq: 0, step, dup: None, bad_counter: 0 }
    }

    /// An everyday call of a key picked by rate, at line `i`'s event time.
    fn background(&mut self, i: u64) -> Call {
        let f = i as f64 / self.spec.events.max(1) as f64;
        let key = *self.keys.pick(&mut self.rng, f);
        let mut t = self.spec.start_ms + (i as f64 * self.step) as i64;
        if self.rng.chance(JITTER_RATE) {
            t -= self.rng.range(0, 25 * MS_PER_SECOND);
        } else if self.rng.chance(LATE_RATE) {
            t -= self.rng.range(MS_PER_MINUTE + 30 * MS_PER_SECOND, 10 * MS_PER_MINUTE);
        }
        let p = key.profile;
        let team = p.team();
        let mut combo = team.combos[(p.h % team.combos.len() as u64) as usize];
        if self.rng.chance(0.15) {
            combo = team.combos[self.rng.below(team.combos.len() as u64) as usize];
        }
        if p.kind == Kind::Violator && self.rng.chance(0.05) {
            combo = team.violation;
        }
        let units = (p.unit_cost * (0.25 + 1.5 * self.rng.unit())) as u64;
        self.seq += 1;
        new_call(&mut self.rng, self.seq, p, combo, t, units, CLOUDEVENT_RATE)
    }

    fn bad_call(&mut self, i: u64) -> Call {
        let call = self.background(i);
        super::event::spoiled(call, &mut self.bad_counter)
    }
}

impl Iterator for DenseLines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let i = match super::event::next_line(&mut self.emitted, self.spec.events, &mut self.dup)? {
            super::event::Next::Resend(line) => return Some(line),
            super::event::Next::Fresh(i) => i,
        };
        let call = if self.spec.bad_lines && self.rng.chance(BAD_RATE) { self.bad_call(i) } else { self.background(i) };
        let mut line = String::with_capacity(if call.defect == Defect::TooLarge { 70_000 } else { 320 });
        write_call(&mut line, &call);
        if self.dup.is_none() && call.defect == Defect::None && self.rng.chance(DUP_RATE) {
            let within = (DUP_WITHIN_MS / self.step.max(1.0)).clamp(1.0, 200.0) as u64;
            self.dup = Some((self.rng.below(within + 1) as u32, line.clone()));
        }
        Some(line)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.spec.events - self.emitted).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}
