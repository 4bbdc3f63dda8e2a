//! The usage stream: background calls in roughly increasing event time,
//! burst episodes, late and jittered events, duplicates, CloudEvents and
//! malformed lines, produced one line at a time. This file holds the sparse
//! shape and the stream type of both; the dense shape is in `dense.rs`.

use super::dense::DenseLines;
use super::entitlements::BURST_CALLS;
use super::event::{new_call, write_call, Call, Defect};
use super::profile::{days, Kind, Profile, UNIFORM_SHARE};
use super::write::Rng;
use super::{GenSpec, Shape};
use crate::model::time::{MS_PER_MINUTE, MS_PER_SECOND};

/// Share of lines that are malformed (when `bad_lines`).
const BAD_RATE: f64 = 0.0008;
/// Share of lines re-sent verbatim a little later (duplicate ids).
const DUP_RATE: f64 = 0.002;
/// Share of lines shifted back within the default lateness (out of order, not late).
const JITTER_RATE: f64 = 0.08;
/// Share of lines that arrive after their 1m window closed.
const LATE_RATE: f64 = 0.001;
/// Share of lines written as structured CloudEvents.
const CLOUDEVENT_RATE: f64 = 0.02;

/// A burst episode in progress: calls of one credential in quick succession.
#[derive(Debug, Clone, Copy)]
struct Episode {
    profile: Profile,
    left: u32,
    t: i64,
    step: i64,
}

/// Streaming iterator over usage lines of either shape; see [`super::usage`].
#[derive(Debug, Clone)]
pub struct UsageLines {
    inner: Lines,
}

#[derive(Debug, Clone)]
enum Lines {
    Sparse(Box<SparseLines>),
    Dense(Box<DenseLines>),
}

impl UsageLines {
    pub(crate) fn new(spec: &GenSpec) -> UsageLines {
        let inner = match spec.shape {
            Shape::Sparse => Lines::Sparse(Box::new(SparseLines::new(spec))),
            Shape::Dense => Lines::Dense(Box::new(DenseLines::new(spec))),
        };
        UsageLines { inner }
    }
}

impl Iterator for UsageLines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        match &mut self.inner {
            Lines::Sparse(s) => s.next(),
            Lines::Dense(d) => d.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            Lines::Sparse(s) => s.size_hint(),
            Lines::Dense(d) => d.size_hint(),
        }
    }
}

/// The sparse shape: many keys, each used every few hours over months.
#[derive(Debug, Clone)]
struct SparseLines {
    spec: GenSpec,
    rng: Rng,
    /// Lines emitted so far.
    emitted: u64,
    /// Ids handed out so far.
    seq: u64,
    /// Milliseconds of event time per line.
    step: f64,
    episode: Option<Episode>,
    next_episode: u64,
    episode_every: u64,
    dup: Option<(u32, String)>,
    bad_counter: u32,
}

impl SparseLines {
    fn new(spec: &GenSpec) -> SparseLines {
        let span_ms = days(i64::from(spec.days.max(1)));
        let episodes = if spec.anomalies { (spec.credentials / 50).max(2).min(spec.events / (20 * u64::from(BURST_CALLS))) } else { 0 };
        let episode_every = spec.events.checked_div(episodes).unwrap_or(u64::MAX);
        SparseLines {
            spec: *spec,
            rng: Rng::new(spec.seed ^ 0x0055_5341_4745),
            emitted: 0,
            seq: 0,
            step: span_ms as f64 / spec.events.max(1) as f64,
            episode: None,
            next_episode: episode_every / 2,
            episode_every,
            dup: None,
            bad_counter: 0,
        }
    }

    fn base_time(&self, i: u64) -> i64 {
        self.spec.start_ms + (i as f64 * self.step) as i64
    }

    fn pick(&mut self, f: f64) -> Profile {
        let n = self.spec.credentials.max(1);
        let mut profile = Profile::new(&self.spec, 0);
        for _ in 0..8 {
            let idx = if self.rng.chance(UNIFORM_SHARE) {
                self.rng.below(n)
            } else {
                let u = self.rng.unit();
                ((u * u * u * n as f64) as u64).min(n - 1)
            };
            profile = Profile::new(&self.spec, idx);
            if profile.active(&self.spec, f) {
                break;
            }
        }
        profile
    }

    fn next_id(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Everyday call of a credential picked by traffic share.
    fn background(&mut self, i: u64) -> Call {
        let f = i as f64 / self.spec.events.max(1) as f64;
        let profile = self.pick(f);
        let mut t = self.base_time(i);
        if self.rng.chance(JITTER_RATE) {
            t -= self.rng.range(0, 25 * MS_PER_SECOND);
        } else if self.rng.chance(LATE_RATE) {
            t -= self.rng.range(2 * MS_PER_MINUTE, 40 * MS_PER_MINUTE);
        }
        let team = profile.team();
        let mut combo = team.combos[(profile.h % team.combos.len() as u64) as usize];
        if self.spec.anomalies {
            if self.rng.chance(0.15) {
                combo = team.combos[self.rng.below(team.combos.len() as u64) as usize];
            }
            if profile.kind == Kind::Drifter && f > 0.5 && self.rng.chance(0.3) {
                combo = team.drift;
            }
            if profile.kind == Kind::Violator && self.rng.chance(0.08) {
                combo = team.violation;
            }
        }
        let mean = profile.unit_cost * profile.spend_ratio(f);
        let units = (mean * (0.25 + 1.5 * self.rng.unit())) as u64;
        self.call(profile, combo, t, units)
    }

    fn call(&mut self, profile: Profile, combo: (&'static str, Option<&'static str>), t: i64, units: u64) -> Call {
        let id = self.next_id();
        new_call(&mut self.rng, id, profile, combo, t, units, CLOUDEVENT_RATE)
    }

    fn start_episode(&mut self, i: u64) {
        self.next_episode = self.next_episode.saturating_add(self.episode_every);
        let n = self.spec.credentials.max(1);
        let start = self.rng.below(n);
        let mut profile = Profile::new(&self.spec, start);
        for k in 0..n.min(256) {
            let p = Profile::new(&self.spec, (start + k) % n);
            if p.kind == Kind::Burster {
                profile = p;
                break;
            }
        }
        let step = (self.step as i64).clamp(1, 400);
        self.episode = Some(Episode { profile, left: BURST_CALLS, t: self.base_time(i), step });
    }

    fn episode_call(&mut self) -> Option<Call> {
        let mut ep = self.episode?;
        let team = ep.profile.team();
        let combo = team.combos[(ep.profile.h % team.combos.len() as u64) as usize];
        let units = (ep.profile.unit_cost * ep.profile.spend_ratio(0.5) * (2.0 + 2.0 * self.rng.unit())) as u64;
        let mut call = self.call(ep.profile, combo, ep.t, units);
        call.cloudevent = false;
        call.tokens_in = self.rng.range(1200, 2400);
        call.tokens_out = self.rng.range(100, 600);
        ep.t += ep.step;
        ep.left -= 1;
        self.episode = (ep.left > 0).then_some(ep);
        Some(call)
    }

    fn bad_call(&mut self, i: u64) -> Call {
        let call = self.background(i);
        super::event::spoiled(call, &mut self.bad_counter)
    }
}

impl Iterator for SparseLines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let i = match super::event::next_line(&mut self.emitted, self.spec.events, &mut self.dup)? {
            super::event::Next::Resend(line) => return Some(line),
            super::event::Next::Fresh(i) => i,
        };
        let call = if let Some(call) = self.episode_call() {
            call
        } else if i >= self.next_episode {
            self.start_episode(i);
            self.episode_call().unwrap_or_else(|| self.background(i))
        } else if self.spec.bad_lines && self.rng.chance(BAD_RATE) {
            self.bad_call(i)
        } else {
            self.background(i)
        };
        let mut line = String::with_capacity(if call.defect == Defect::TooLarge { 70_000 } else { 320 });
        write_call(&mut line, &call);
        if self.dup.is_none() && call.defect == Defect::None && self.rng.chance(DUP_RATE) {
            // Re-sent within ~20 s of event time, so the id is still remembered.
            let within = (20_000.0 / self.step.max(1.0)).min(20.0) as u64;
            self.dup = Some((self.rng.below(within + 1) as u32, line.clone()));
        }
        Some(line)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.spec.events - self.emitted).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}
