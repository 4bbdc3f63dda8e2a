//! `burst` (README.md, Rules; docs/semantics.md, "Rules"): sliding sums over W kept as 60 slices of
//! W/60, per credential and rule object, fired when a sum exceeds its limit,
//! then silent until t + W.

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::finding::{Ctx, Outputs};
use super::figures::{Dimension, Sum};
use crate::model::{BurstRule, UsageEvent};

const SLICES: i64 = 60;

/// Sums of one slice: credits (micro), calls, tokens.
type Sums = [i64; 3];

/// State of one rule object: the non-empty slices within 60 of the newest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstState {
    window_ms: i64,
    newest: i64,
    /// First event time at which the rule may fire again (t_fire + W).
    silent_until: Option<i64>,
    slices: Vec<(i64, Sums)>,
    /// Running totals of `slices` (i128: exact whatever the slices hold).
    sums: [i128; 3],
}

/// Updates every rule object with `event` and fires those whose sum exceeds a limit.
pub fn evaluate<O: Outputs + ?Sized>(states: &mut Vec<BurstState>, rules: &[BurstRule], event: &UsageEvent, ctx: &Ctx<'_>, out: &mut O) {
    for (index, rule) in rules.iter().enumerate() {
        if states.len() <= index {
            states.resize_with(index + 1, BurstState::default);
        }
        let state = &mut states[index];
        if state.window_ms != rule.window_ms {
            // A changed window starts with empty state.
            *state = BurstState { window_ms: rule.window_ms, newest: i64::MIN, silent_until: None, slices: Vec::new(), sums: [0; 3] };
        }
        let Some(sums) = state.add(event) else { continue };
        let dims = [(rule.credits, sums[0], Dimension::Credits), (rule.calls, sums[1], Dimension::Calls), (rule.tokens, sums[2], Dimension::Tokens)];
        let exceeded: Vec<Dimension> = dims.iter().filter(|(l, s, _)| l.is_some_and(|l| *s > l as i128)).map(|d| d.2).collect();
        if exceeded.is_empty() || state.silent_until.is_some_and(|until| event.time < until) {
            continue;
        }
        state.silent_until = Some(event.time.saturating_add(rule.window_ms));
        let doubled = dims.iter().any(|(l, s, _)| l.is_some_and(|l| *s > l as i128 && *s >= 2 * l as i128));
        let slice = event.time.div_euclid(rule.window_ms / SLICES);
        let sum = |limit: Option<i64>, sum: i128| limit.map(|limit| Sum { sum: clamp(sum), limit });
        let f = Figures::Burst {
            rule_index: index as u64,
            window_ms: rule.window_ms,
            slice,
            exceeded,
            credits: sum(rule.credits, sums[0]),
            calls: sum(rule.calls, sums[1]),
            tokens: sum(rule.tokens, sums[2]),
        };
        let severity = super::Rule::Burst.info().severity.graded(doubled);
        ctx.emit_graded(out, vec![index.to_string(), slice.to_string()], event.time, severity, f);
    }
}

/// A sum as i64 for reporting (saturating: a sum past i64 is beyond every limit anyway).
fn clamp(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

impl BurstState {
    /// Window, newest slice, the sums (credits, calls, tokens) over the
    /// window and the end of the silence after a firing (for `bursar explain`).
    pub fn view(&self) -> (i64, i64, [i128; 3], Option<i64>) {
        (self.window_ms, self.newest, self.sums, self.silent_until)
    }

    /// The non-empty slices, oldest first (the engine prefetches them).
    pub fn slices(&self) -> &[(i64, [i64; 3])] {
        &self.slices
    }

    /// Adds the event to its slice; returns the sums over the 60 slices ending at
    /// the newest slice, or None when the event is older than the ring.
    fn add(&mut self, event: &UsageEvent) -> Option<[i128; 3]> {
        let slice = event.time.div_euclid(self.window_ms / SLICES);
        if self.newest != i64::MIN && slice <= self.newest - SLICES {
            return None;
        }
        self.newest = self.newest.max(slice);
        let add = [event.credits, 1, event.tokens()];
        for (acc, v) in self.sums.iter_mut().zip(add) {
            *acc += v as i128;
        }
        super::reserve_lean(&mut self.slices);
        match self.slices.iter().rposition(|(s, _)| *s <= slice) {
            Some(i) if self.slices[i].0 == slice => {
                for (acc, v) in self.slices[i].1.iter_mut().zip(add) {
                    *acc = acc.saturating_add(v);
                }
            }
            Some(i) => self.slices.insert(i + 1, (slice, add)),
            None => self.slices.insert(0, (slice, add)),
        }
        let expired = self.slices.iter().take_while(|(s, _)| *s <= self.newest - SLICES).count();
        for (_, v) in self.slices.drain(..expired) {
            for (acc, x) in self.sums.iter_mut().zip(v) {
                *acc -= x as i128;
            }
        }
        Some(self.sums)
    }
}
