//! `credential.exposed`, `credential.unmanaged`, `credential.revoked`
//! (README.md, Rules; docs/semantics.md, "Rules"): who may use the key at all.

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::finding::{Ctx, Outputs};
use crate::model::time::{day_label, day_of, Day};
use crate::model::usage::Text;
use crate::model::{Entitlement, Status, UsageEvent};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub exposed_fired: bool,
    /// (day, reason) reported by `credential.revoked` / `credential.unmanaged`
    /// (reason "unmanaged"), for the newest two days of each reason.
    pub reported: Vec<(Day, Text)>,
}

/// Evaluates the three rules in their emission order.
pub fn evaluate<O: Outputs + ?Sized>(state: &mut Lifecycle, version: Option<&Entitlement>, event: &UsageEvent, ctx: &Ctx<'_>, out: &mut O) {
    if event.exposed && !state.exposed_fired {
        state.exposed_fired = true;
        ctx.emit(out, Vec::new(), event.time, Figures::CredentialExposed);
    }
    let day = day_of(event.time);
    let Some(version) = version else {
        if state.once_per_day(day, "unmanaged") {
            ctx.emit(out, vec![day_label(day)], event.time, Figures::CredentialUnmanaged { day });
        }
        return;
    };
    let reason = match version.status {
        Status::Revoked => Some("revoked"),
        Status::Suspended => Some("suspended"),
        Status::Active if version.valid_from.is_some_and(|v| event.time < v) => Some("not_yet_valid"),
        Status::Active if version.valid_until.is_some_and(|v| event.time >= v) => Some("expired"),
        Status::Active => None,
    };
    if let Some(reason) = reason {
        if state.once_per_day(day, reason) {
            let severity = super::Rule::CredentialRevoked.info().severity.graded(reason == "revoked");
            let status = match version.status {
                Status::Active => "active",
                Status::Suspended => "suspended",
                Status::Revoked => "revoked",
            };
            let f = Figures::CredentialRevoked { reason, status };
            ctx.emit_graded(out, vec![reason.to_string(), day_label(day)], event.time, severity, f);
        }
    }
}

impl Lifecycle {
    /// True the first time `reason` is seen on `day` (as far as memory
    /// reaches: each reason remembers its own newest two days).
    fn once_per_day(&mut self, day: Day, reason: &str) -> bool {
        if self.reported.iter().any(|(d, r)| *d == day && r == reason) {
            return false;
        }
        let newest = self.reported.iter().filter(|(_, r)| r == reason).map(|(d, _)| *d).max().map_or(day, |n| n.max(day));
        self.reported.retain(|(d, r)| r != reason || *d >= newest - 1);
        if day >= newest - 1 {
            super::reserve_lean(&mut self.reported);
            self.reported.push((day, Text::from(reason)));
        }
        true
    }
}
