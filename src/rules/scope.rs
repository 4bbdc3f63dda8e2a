//! The scope rules (docs/semantics.md, "Rules, exactly" and "Where and by
//! whom a key is used"): `scope.violation` (capability or model),
//! `scope.principal`, `scope.network`, and `scope.drift` in the configured
//! dimensions.

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::finding::{Ctx, Outputs};
use crate::model::entitlement::allowed;
use crate::model::net::{drift_network, parse_addr};
use crate::model::time::{day_label, day_of, Day};
use crate::model::usage::Text;
use crate::model::{Scope, ScopeDimension, UsageEvent};

/// Values remembered per dimension, and scope breaks per day.
pub const REMEMBERED: usize = 64;

/// What the capability and model rules remember (the state layout of the
/// first changelog format).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeMemory {
    capabilities: Vec<Text>,
    models: Vec<Text>,
    /// (day, capability, model) already reported, for the newest two days.
    violations: Vec<(Day, (Text, Text))>,
}

/// What the principal and network rules remember.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginMemory {
    /// Drift values learned or reported.
    principals: Vec<Text>,
    networks: Vec<Text>,
    /// (day, principal) and (day, src_ip) already reported, for the newest two days.
    principal_breaks: Vec<(Day, Text)>,
    network_breaks: Vec<(Day, Text)>,
}

impl ScopeMemory {
    /// The capabilities and models remembered as seen (for `bursar explain`).
    pub fn remembered(&self) -> (&[Text], &[Text]) {
        (&self.capabilities, &self.models)
    }
}

/// Which scope dimensions an event breaks, by `ScopeDimension as usize`.
pub type Verdict = [bool; 4];

/// The capability and model part of a verdict: a pure function of the scope
/// and the event's capability and model, so a caller may remember it for
/// the next event with the same three. `scope` None: unmanaged (everything
/// in scope).
pub fn check_reach(scope: Option<&Scope>, event: &UsageEvent) -> [bool; 2] {
    let Some(scope) = scope else { return [false, false] };
    let capability = !allowed(&scope.capabilities, &event.capability);
    let model = event.model.as_ref().is_some_and(|m| !allowed(&scope.models, m));
    [capability, model]
}

/// The whole verdict: `reach` from [`check_reach`], then the principal (an
/// absent or empty one is not checked) and the source address (an absent
/// one is not checked; one that is no address lies outside every network).
pub fn check(scope: Option<&Scope>, reach: [bool; 2], event: &UsageEvent) -> Verdict {
    let Some(scope) = scope else { return [reach[0], reach[1], false, false] };
    let principal = principal_of(event).is_some_and(|p| !allowed(&scope.principals, p));
    let network = match (&scope.networks, src_ip_of(event)) {
        (Some(nets), Some(ip)) => !parse_addr(ip).is_some_and(|a| nets.iter().any(|n| n.contains(&a))),
        _ => false,
    };
    [reach[0], reach[1], principal, network]
}

/// The event's principal, when present and not empty.
pub fn principal_of(event: &UsageEvent) -> Option<&str> {
    event.principal.as_deref().filter(|p| !p.is_empty())
}

/// The event's `src_ip` as written, when present and not empty.
pub fn src_ip_of(event: &UsageEvent) -> Option<&str> {
    event.src_ip.as_deref().filter(|s| !s.is_empty())
}

/// What one event asks of the scope rules.
pub struct ScopeInput<'a> {
    pub verdict: Verdict,
    /// The scope in force (None: unmanaged).
    pub scope: Option<&'a Scope>,
    /// In the learning period: new values are learned, not reported.
    pub learning: bool,
    /// `drift_dimensions` by `ScopeDimension as usize`.
    pub drift: &'a [bool; 4],
}

/// Fires the scope-break findings of an out-of-scope event (`scope.violation`,
/// then `scope.principal`, then `scope.network`); an event in scope in every
/// dimension instead learns its values, or (after the learning period) fires
/// `scope.drift` for new ones, in the order capability, model, principal, network.
/// `origin` is created when one of its rules first has something to remember.
pub fn evaluate<O: Outputs + ?Sized>(memory: &mut ScopeMemory, origin: &mut Option<Box<OriginMemory>>, input: &ScopeInput<'_>, event: &UsageEvent, ctx: &Ctx<'_>, out: &mut O) {
    let v = input.verdict;
    if v != [false; 4] {
        let day = day_of(event.time);
        if v[0] || v[1] {
            let violated: Vec<&'static str> = ["capability", "model"].into_iter().zip([v[0], v[1]]).filter(|(_, b)| *b).map(|(d, _)| d).collect();
            violation(memory, event, day, violated, ctx, out);
        }
        let scope = input.scope;
        if let (true, Some(p)) = (v[2], principal_of(event)) {
            if first_today(&mut origin.get_or_insert_default().principal_breaks, day, Text::from(p)) {
                let allowed = scope.and_then(|s| s.principals.clone()).unwrap_or_default();
                let f = Figures::ScopePrincipal { principal: p.into(), day, allowed };
                ctx.emit(out, vec![p.to_string(), day_label(day)], event.time, f);
            }
        }
        if let (true, Some(ip)) = (v[3], src_ip_of(event)) {
            if first_today(&mut origin.get_or_insert_default().network_breaks, day, Text::from(ip)) {
                let allowed = scope.and_then(|s| s.networks.as_ref()).map(|n| n.iter().map(|n| n.as_str().to_string()).collect()).unwrap_or_default();
                let f = Figures::ScopeNetwork { src_ip: ip.into(), address: parse_addr(ip).is_some(), day, allowed };
                ctx.emit(out, vec![ip.to_string(), day_label(day)], event.time, f);
            }
        }
        return;
    }
    for dimension in ScopeDimension::ALL {
        if !input.drift[dimension as usize] {
            continue;
        }
        let network = (dimension == ScopeDimension::Network).then(|| src_ip_of(event).and_then(parse_addr).map(drift_network)).flatten();
        let value = match dimension {
            ScopeDimension::Capability => Some(event.capability.as_str()),
            ScopeDimension::Model => event.model.as_deref(),
            ScopeDimension::Principal => principal_of(event),
            ScopeDimension::Network => network.as_deref(),
        };
        // A dimension without a value remembers nothing (and creates no origin memory).
        let Some(value) = value else { continue };
        let seen = match dimension {
            ScopeDimension::Capability => &mut memory.capabilities,
            ScopeDimension::Model => &mut memory.models,
            ScopeDimension::Principal => &mut origin.get_or_insert_default().principals,
            ScopeDimension::Network => &mut origin.get_or_insert_default().networks,
        };
        drift(seen, dimension.as_str(), value, input.learning, event.time, ctx, out);
    }
}

/// True when `key` was not yet reported on `day`: it is then remembered when
/// there is room (the newest two days seen, [`REMEMBERED`] keys a day), so a
/// key past the cap is reported again at each occurrence (same uid).
fn first_today<K: PartialEq>(memory: &mut Vec<(Day, K)>, day: Day, key: K) -> bool {
    if memory.iter().any(|(d, k)| *d == day && *k == key) {
        return false;
    }
    let newest = memory.iter().map(|(d, _)| *d).max().unwrap_or(day).max(day);
    super::keep_recent_days(memory, newest);
    if day >= newest - 1 && memory.iter().filter(|(d, _)| *d == day).count() < REMEMBERED {
        super::reserve_lean(memory);
        memory.push((day, key));
    }
    true
}

fn violation<O: Outputs + ?Sized>(memory: &mut ScopeMemory, event: &UsageEvent, day: Day, violated: Vec<&'static str>, ctx: &Ctx<'_>, out: &mut O) {
    let model = event.model.clone().unwrap_or_default();
    if !first_today(&mut memory.violations, day, (event.capability.clone(), model.clone())) {
        return;
    }
    let dedupe = vec![event.capability.to_string(), model.to_string(), day_label(day)];
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
