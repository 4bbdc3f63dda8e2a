//! Tumbling windows per credential (docs/semantics.md, "Order of outputs"; README.md, Outputs): aggregates of calls,
//! credits, tokens, calls per capability and distinct models.

use serde::{Deserialize, Serialize};

use super::output::{CapabilityCounts, Output, WindowRecord};
use crate::model::usage::Text;
use crate::model::UsageEvent;

/// An open (not yet emitted) window of one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenWindow {
    /// Index into the configured window sizes.
    pub size: u8,
    pub start: i64,
    pub end: i64,
    pub calls: u64,
    pub credits: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Sorted by capability.
    pub capabilities: CapabilityCounts,
    /// Distinct models, sorted.
    pub models: smallvec::SmallVec<[Text; 2]>,
}

impl OpenWindow {
    fn new(size: u8, start: i64, end: i64) -> OpenWindow {
        OpenWindow { size, start, end, calls: 0, credits: 0, tokens_in: 0, tokens_out: 0, capabilities: CapabilityCounts::new(), models: smallvec::SmallVec::new() }
    }

    fn add(&mut self, e: &UsageEvent) {
        self.calls += 1;
        self.credits = self.credits.saturating_add(e.credits);
        self.tokens_in = self.tokens_in.saturating_add(e.tokens_in);
        self.tokens_out = self.tokens_out.saturating_add(e.tokens_out);
        match self.capabilities.binary_search_by(|(c, _)| c.as_str().cmp(&e.capability)) {
            Ok(i) => self.capabilities[i].1 += 1,
            Err(i) => self.capabilities.insert(i, (e.capability.clone(), 1)),
        }
        if let Some(model) = &e.model {
            if let Err(i) = self.models.binary_search_by(|m| m.as_str().cmp(model)) {
                self.models.insert(i, model.clone());
            }
        }
    }

    pub fn record(mut self, credential: &Text, size_ms: i64) -> WindowRecord {
        self.take_record(credential, size_ms)
    }

    /// The record of this window, its capabilities moved out (the window is
    /// being dropped): no copy of the window itself.
    fn take_record(&mut self, credential: &Text, size_ms: i64) -> WindowRecord {
        WindowRecord {
            credential: credential.clone(),
            size_ms,
            start: self.start,
            end: self.end,
            calls: self.calls,
            credits: self.credits,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            distinct_models: self.models.len() as u64,
            capabilities: std::mem::take(&mut self.capabilities),
        }
    }
}

/// Empty window vectors of credentials whose windows all closed, kept by
/// the partition for the next credential that opens one: on sparse traffic
/// nearly every event opens windows after its last ones closed, and this
/// saves an allocation and a free each time. Bounded; memory only.
#[derive(Debug, Default)]
pub struct WindowPool(Vec<Vec<OpenWindow>>);

/// Vectors the pool keeps at most: more than the credentials whose hourly
/// windows close together on the sparse workload (about 350), so the burst
/// of vectors an hour boundary frees serves the next hour's events. At most
/// about 200 KB per partition (two windows' room each).
const POOL: usize = 512;

impl WindowPool {
    fn take(&mut self, sizes: usize) -> Vec<OpenWindow> {
        self.0.pop().unwrap_or_else(|| Vec::with_capacity(sizes))
    }

    /// Takes `windows`' vector (leaving none), emptied, when there is room.
    fn give(&mut self, windows: &mut Vec<OpenWindow>) {
        let mut emptied = std::mem::take(windows);
        if self.0.len() < POOL {
            emptied.clear();
            self.0.push(emptied);
        }
    }
}

/// Adds `event` to each of its windows still open under `watermark`.
/// Calls `opened(end)` for every window it creates. Returns true when the
/// event is late (at least one of its windows has closed).
pub fn add(windows: &mut Vec<OpenWindow>, pool: &mut WindowPool, sizes: &[i64], watermark: Option<i64>, event: &UsageEvent, mut opened: impl FnMut(i64)) -> bool {
    let mut late = false;
    for (i, &size) in sizes.iter().enumerate() {
        let start = event.time.div_euclid(size) * size;
        let end = start + size;
        if watermark.is_some_and(|wm| wm >= end) {
            late = true;
            continue;
        }
        let idx = match windows.iter().position(|w| w.size as usize == i && w.start == start) {
            Some(idx) => idx,
            None => {
                if windows.capacity() == 0 {
                    // Room for one window of each size: no growth on the common path.
                    *windows = pool.take(sizes.len());
                }
                windows.push(OpenWindow::new(i as u8, start, end));
                opened(end);
                windows.len() - 1
            }
        };
        windows[idx].add(event);
    }
    late
}

/// Appends the records of the windows ending at `end` to `out`, in
/// configuration order (`sizes`: the configured sizes in ms), and removes
/// those windows. Returns true when one of them has the size index `smallest`.
pub fn close_ending(windows: &mut Vec<OpenWindow>, pool: &mut WindowPool, end: i64, credential: &Text, sizes: &[i64], smallest: usize, out: &mut Vec<Output>) -> bool {
    let mut any_smallest = false;
    let mut closed = 0;
    // One window per size ends at `end` at most (same size and end: same window).
    for (i, &size_ms) in sizes.iter().enumerate() {
        if let Some(w) = windows.iter_mut().find(|w| w.size as usize == i && w.end == end) {
            out.push(Output::Window(w.take_record(credential, size_ms)));
            any_smallest |= i == smallest;
            closed += 1;
        }
    }
    if closed == windows.len() {
        // Most credentials sit between windows most of the time: hold no slack.
        pool.give(windows);
    } else if closed > 0 {
        windows.retain(|w| w.end != end);
    }
    any_smallest
}
