//! `scope.violation` and `scope.drift` (docs/semantics.md, §3.6, §7.3, §7.7).

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::finding::{Ctx, Outputs};
use crate::model::entitlement::allowed;
use crate::model::time::{day_label, day_of, Day};
use crate::model::usage::Text;
use crate::model::{Scope, UsageEvent};

/// Values remembered per dimension, and violation pairs per day.
pub const REMEMBERED: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeMemory {
    capabilities: Vec<Text>,
    models: Vec<Text>,
    /// (day, capability, model) already reported, for the newest two days.
    violations: Vec<(Day, (Text, Text))>,
}

impl ScopeMemory {
    /// The capabilities and models remembered as seen (for `bursar explain`).
    pub fn remembered(&self) -> (&[Text], &[Text]) {
        (&self.capabilities, &self.models)
    }

    /// Where its lists live, when they hold anything (a prefetch hint).
    pub fn heap_parts(&self) -> [Option<*const u8>; 2] {
        [(!self.capabilities.is_empty()).then(|| self.capabilities.as_ptr() as *const u8), (!self.models.is_empty()).then(|| self.models.as_ptr() as *const u8)]
    }
}

/// Which scope dimensions an event breaks: `[capability, model]`. `scope`
/// is None for an unmanaged credential (everything in scope). A pure
/// function of the scope and the event's capability and model, so a caller
/// may remember it for the next event with the same three.
pub type Verdict = [bool; 2];

pub fn check(scope: Option<&Scope>, event: &UsageEvent) -> Verdict {
    let Some(scope) = scope else { return [false, false] };
    let capability = !allowed(&scope.capabilities, &event.capability);
    let model = event.model.as_ref().is_some_and(|m| !allowed(&scope.models, m));
    [capability, model]
}

/// Fires `scope.violation` for an out-of-scope event (`verdict` from
/// [`check`]); otherwise learns the event's values, or (after the learning
/// period) fires `scope.drift` for new ones.
pub fn evaluate<O: Outputs + ?Sized>(memory: &mut ScopeMemory, verdict: Verdict, event: &UsageEvent, learning: bool, ctx: &Ctx<'_>, out: &mut O) {
    if verdict != [false, false] {
        let violated: Vec<&'static str> = ["capability", "model"].into_iter().zip(verdict).filter(|(_, v)| *v).map(|(d, _)| d).collect();
        violation(memory, event, violated, ctx, out);
        return;
    }
    drift(&mut memory.capabilities, "capability", &event.capability, learning, event.time, ctx, out);
    if let Some(model) = &event.model {
        drift(&mut memory.models, "model", model, learning, event.time, ctx, out);
    }
}

fn violation<O: Outputs + ?Sized>(memory: &mut ScopeMemory, event: &UsageEvent, violated: Vec<&'static str>, ctx: &Ctx<'_>, out: &mut O) {
    let day = day_of(event.time);
    let model = event.model.clone().unwrap_or_default();
    let pair = (event.capability.clone(), model.clone());
    if memory.violations.iter().any(|(d, p)| *d == day && *p == pair) {
        return;
    }
    let newest = memory.violations.iter().map(|(d, _)| *d).max().unwrap_or(day).max(day);
    super::keep_recent_days(&mut memory.violations, newest);
    if day >= newest - 1 && memory.violations.iter().filter(|(d, _)| *d == day).count() < REMEMBERED {
        super::reserve_lean(&mut memory.violations);
        memory.violations.push((day, pair));
    }
    let label = day_label(day);
    let dedupe = vec![event.capability.to_string(), model.to_string(), label];
    let f = Figures::ScopeViolation { capability: event.capability.clone(), model, day, violated };
    ctx.emit(out, dedupe, event.time, f);
}

fn drift<O: Outputs + ?Sized>(seen: &mut Vec<Text>, dimension: &'static str, value: &str, learning: bool, time: i64, ctx: &Ctx<'_>, out: &mut O) {
    if seen.iter().any(|v| v == value) {
        return;
    }
    if seen.len() < REMEMBERED {
        super::reserve_lean(seen);
        seen.push(Text::from(value));
    }
    if !learning {
        let f = Figures::ScopeDrift { dimension, value: Text::from(value) };
        ctx.emit(out, vec![dimension.to_string(), value.to_string()], time, f);
    }
}
