//! `credential.shared` (docs/semantics.md, "Where and by whom a key is
//! used"): one key used by too many workloads or from too many addresses in
//! a UTC day.
//!
//! For each dimension, `principal` (non-empty principals) and `source_ip`
//! (`src_ip` strings as written, addresses or not), a credential keeps the
//! distinct values of the newest UTC day counted in it: an event counts
//! when it has a value and a limit is in force (the version in force, else
//! the configured default). An event of a later day starts a new set; one of
//! an earlier day is ignored. A value is added unless the set already holds
//! more than the limit; the rule fires once for the (dimension, day) when
//! the set holds more than the limit. So at most limit + 1 values are kept.

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::finding::{Ctx, Outputs};
use super::scope::{principal_of, src_ip_of};
use crate::model::time::{day_label, day_of, Day};
use crate::model::usage::Text;
use crate::model::UsageEvent;

/// Values of the day listed in a finding.
pub const LISTED: usize = 10;

/// The two dimensions, in the order their findings are emitted.
pub const DIMENSIONS: [&str; 2] = ["principal", "source_ip"];

/// The distinct values of one dimension on its newest day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct DaySet {
    day: Day,
    /// In order of first use.
    values: Vec<Text>,
    fired: bool,
}

/// The day sets of both dimensions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedMemory {
    sets: [Option<DaySet>; 2],
}

impl SharedMemory {
    /// The number of values held per dimension (principal, source_ip).
    pub fn held(&self) -> [usize; 2] {
        [0, 1].map(|i| self.sets[i].as_ref().map_or(0, |s| s.values.len()))
    }
}

/// Counts the event in each dimension with a value and a limit (`limits`:
/// `max_principals`, `max_source_ips` in force) and fires when a day's set
/// first holds more than the limit.
/// `memory` is created when an event first counts.
pub fn evaluate<O: Outputs + ?Sized>(memory: &mut Option<Box<SharedMemory>>, limits: [Option<i64>; 2], event: &UsageEvent, ctx: &Ctx<'_>, out: &mut O) {
    let values = [principal_of(event), src_ip_of(event)];
    for (i, dimension) in DIMENSIONS.into_iter().enumerate() {
        let (Some(value), Some(limit)) = (values[i], limits[i]) else { continue };
        let day = day_of(event.time);
        let slot = &mut memory.get_or_insert_default().sets[i];
        match slot.as_ref().map(|s| s.day) {
            Some(newest) if newest > day => continue,
            Some(newest) if newest == day => {}
            _ => *slot = Some(DaySet { day, values: Vec::new(), fired: false }),
        }
        let Some(set) = slot.as_mut() else { continue };
        let count = set.values.len() as i64;
        if count <= limit && !set.values.iter().any(|v| v == value) {
            super::reserve_lean(&mut set.values);
            set.values.push(Text::from(value));
        }
        let count = set.values.len() as i64;
        if count > limit && !set.fired {
            set.fired = true;
            let listed = set.values.iter().take(LISTED).cloned().collect();
            let f = Figures::CredentialShared { dimension, day, limit, count, values: listed };
            ctx.emit(out, vec![dimension.to_string(), day_label(day)], event.time, f);
        }
    }
}
