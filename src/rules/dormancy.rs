//! `dormant.reactivated` and `dormant.idle` (README.md, Rules; docs/semantics.md, "Rules").
//! The idle timers themselves live in the partition's timer index
//! (`engine::partition`), O(log n) per credential.

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::finding::{Ctx, Outputs};
use crate::model::UsageEvent;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Time of the first event processed (processing order): starts learning.
    pub first_seen: Option<i64>,
    /// Max event time processed.
    pub last_activity: Option<i64>,
    /// Pending idle timer: (due, last_activity it belongs to, dormancy).
    pub idle_due: Option<(i64, i64, i64)>,
    /// Dedupe key (last activity) of the last `dormant.reactivated`.
    pub reactivated_at: Option<i64>,
}

/// Fires `dormant.reactivated` when the gap since the last activity (or, for a
/// first event, the version's `valid_from`) is at least `dormancy`.
pub fn reactivated<O: Outputs + ?Sized>(activity: &mut Activity, valid_from: Option<i64>, dormancy: i64, event: &UsageEvent, ctx: &Ctx<'_>, out: &mut O) {
    let last = match activity.last_activity {
        Some(t) => t,
        None => match valid_from {
            Some(v) => v,
            None => return,
        },
    };
    let gap = event.time.saturating_sub(last);
    if gap < dormancy || activity.reactivated_at == Some(last) {
        return;
    }
    activity.reactivated_at = Some(last);
    ctx.emit(out, vec![last.to_string()], event.time, Figures::DormantReactivated { last_activity: last, gap_ms: gap, dormancy_ms: dormancy });
}

/// Records the event as activity. Returns the new idle timer `(due, last, dormancy)`
/// when the last activity moved (the caller re-indexes it). `dormancy` is that of
/// the version in force at the event, which becomes the last activity.
pub fn record(activity: &mut Activity, event_time: i64, dormancy: i64) -> Option<(i64, i64, i64)> {
    if activity.first_seen.is_none() {
        activity.first_seen = Some(event_time);
    }
    if activity.last_activity.is_some_and(|last| last >= event_time) {
        return None;
    }
    activity.last_activity = Some(event_time);
    let timer = (event_time.saturating_add(dormancy), event_time, dormancy);
    activity.idle_due = Some(timer);
    Some(timer)
}

/// Fires `dormant.idle` for a due timer (time = the due instant).
pub fn idle<O: Outputs + ?Sized>(activity: &mut Activity, ctx: &Ctx<'_>, out: &mut O) {
    let Some((due, last, dormancy)) = activity.idle_due.take() else { return };
    ctx.emit(out, vec![last.to_string()], due, Figures::DormantIdle { last_activity: last, due, dormancy_ms: dormancy });
}
