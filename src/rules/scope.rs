//! `scope.violation` and `scope.drift` (SPEC §3.5, §3.6, §7.3, §7.7).

use serde::{Deserialize, Serialize};

use crate::engine::finding::Ctx;
use crate::engine::output::{Output, Rule};
use crate::figures;
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

/// Fires `scope.violation` for an out-of-scope event; otherwise learns the
/// event's values, or (after `learning_ends`) fires `scope.drift` for new ones.
/// `scope` is None for an unmanaged credential (everything in scope).
pub fn evaluate(memory: &mut ScopeMemory, scope: Option<&Scope>, event: &UsageEvent, learning: bool, ctx: &Ctx<'_>, out: &mut Vec<Output>) {
    let mut violated = Vec::new();
    if let Some(scope) = scope {
        if !allowed(&scope.capabilities, &event.capability) {
            violated.push("capability");
        }
        if let Some(model) = &event.model {
            if !allowed(&scope.models, model) {
                violated.push("model");
            }
        }
    }
    if !violated.is_empty() {
        violation(memory, event, violated, ctx, out);
        return;
    }
    drift(&mut memory.capabilities, "capability", &event.capability, learning, event.time, ctx, out);
    if let Some(model) = &event.model {
        drift(&mut memory.models, "model", model, learning, event.time, ctx, out);
    }
}

fn violation(memory: &mut ScopeMemory, event: &UsageEvent, violated: Vec<&str>, ctx: &Ctx<'_>, out: &mut Vec<Output>) {
    let day = day_of(event.time);
    let model = event.model.clone().unwrap_or_default();
    let pair = (event.capability.clone(), model.clone());
    if memory.violations.iter().any(|(d, p)| *d == day && *p == pair) {
        return;
    }
    let newest = memory.violations.iter().map(|(d, _)| *d).max().unwrap_or(day).max(day);
    super::keep_recent_days(&mut memory.violations, newest);
    if day >= newest - 1 && memory.violations.iter().filter(|(d, _)| *d == day).count() < REMEMBERED {
        crate::engine::reserve_lean(&mut memory.violations);
        memory.violations.push((day, pair));
    }
    let label = day_label(day);
    let f = figures! {
        "capability" => event.capability.as_str(),
        "model" => model.as_str(),
        "day" => label.clone(),
        "violated" => violated.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    };
    ctx.emit(out, Rule::ScopeViolation, vec![event.capability.to_string(), model.to_string(), label], event.time, 4, f);
}

fn drift(seen: &mut Vec<Text>, dimension: &str, value: &str, learning: bool, time: i64, ctx: &Ctx<'_>, out: &mut Vec<Output>) {
    if seen.iter().any(|v| v == value) {
        return;
    }
    if seen.len() < REMEMBERED {
        crate::engine::reserve_lean(seen);
        seen.push(Text::from(value));
    }
    if !learning {
        let f = figures! { "dimension" => dimension, "value" => value };
        ctx.emit(out, Rule::ScopeDrift, vec![dimension.to_string(), value.to_string()], time, 2, f);
    }
}
