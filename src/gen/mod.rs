//! `bursar gen`: a seeded synthetic workload with injected anomalies.
//!
//! Pure and deterministic: the same [`GenSpec`] always yields the same lines,
//! on every platform (the RNG is a fixed xoshiro256**, not a crate default),
//! and no clock is read. Each credential's role is a pure function of
//! (seed, index), so the entitlements and the usage stream agree without
//! sharing state, and a million credentials cost no memory.
//!
//! Usage lines stream in roughly increasing event time, with jitter inside
//! the default 30 s lateness, a few late events, duplicates, structured
//! CloudEvents, burst episodes and (with `bad_lines`) malformed lines of
//! every rejection kind. With `anomalies`, credentials are cast to trigger
//! every rule (README.md, Rules): see [`profile::Kind`].
//!
//! Two shapes ([`Shape`]): `sparse` (the default, many keys each used every
//! few hours over months) and `dense` (a few hundred keys over hours, call
//! rates drawn from a Pareto distribution, so a few keys call several times
//! a second): see [`dense`].

mod dense;
mod entitlements;
mod event;
mod profile;
mod usage;
mod write;

pub use usage::UsageLines;

/// The traffic pattern of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// Many keys, each used every few hours over `days` (the original generator).
    #[default]
    Sparse,
    /// Few keys over `hours`, Pareto-distributed call rates: busy keys,
    /// windows with many events, burst rules breached by some busy keys.
    Dense,
}

impl Shape {
    /// The number of credentials when none is given: 1,000 sparse, 500 dense.
    pub const fn default_credentials(self) -> u64 {
        match self {
            Shape::Sparse => 1_000,
            Shape::Dense => 500,
        }
    }
}

/// 2026-01-01T00:00:00Z in epoch milliseconds.
pub const DEFAULT_START_MS: i64 = 1_767_225_600_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of usage lines (including duplicates and malformed lines).
    pub events: u64,
    /// Number of distinct credentials.
    pub credentials: u64,
    /// Event time of the first line, epoch ms (default 2026-01-01T00:00:00Z).
    pub start_ms: i64,
    /// Span of event time in days, for [`Shape::Sparse`] (default 120).
    pub days: u32,
    /// Span of event time in hours, for [`Shape::Dense`] (default 6).
    pub hours: u32,
    /// The traffic pattern (default [`Shape::Sparse`]).
    pub shape: Shape,
    /// Cast credentials to trigger every rule (default true).
    pub anomalies: bool,
    /// Mix in malformed lines of every rejection kind (default true).
    pub bad_lines: bool,
}

impl Default for GenSpec {
    fn default() -> GenSpec {
        GenSpec {
            seed: 1,
            events: 100_000,
            credentials: 1_000,
            start_ms: DEFAULT_START_MS,
            days: 120,
            hours: 6,
            shape: Shape::Sparse,
            anomalies: true,
            bad_lines: true,
        }
    }
}

/// A whole workload: the entitlements file and the usage stream.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Entitlement JSON lines, in the order they must be read.
    pub entitlements: Vec<String>,
    /// The usage lines, streamed.
    pub usage: UsageLines,
}

/// The entitlements and the usage stream of `spec`.
pub fn workload(spec: &GenSpec) -> Workload {
    Workload { entitlements: entitlements(spec), usage: usage(spec) }
}

/// Entitlement JSON lines (README.md, Inputs): one or more versions per
/// managed credential, tombstones, none for unmanaged credentials.
pub fn entitlements(spec: &GenSpec) -> Vec<String> {
    entitlements_iter(spec).collect()
}

/// [`entitlements`] as a stream, for workloads too large to hold.
pub fn entitlements_iter(spec: &GenSpec) -> impl Iterator<Item = String> {
    let spec = *spec;
    let dense = (spec.shape == Shape::Dense).then(|| dense::Keys::new(&spec));
    (0..spec.credentials).flat_map(move |idx| match &dense {
        Some(keys) => keys.entitlement_lines(&spec, idx),
        None => entitlements::lines_for(&spec, &profile::Profile::new(&spec, idx)),
    })
}

/// Usage JSON lines in roughly increasing event time, exactly `spec.events` of them.
pub fn usage(spec: &GenSpec) -> UsageLines {
    UsageLines::new(spec)
}

#[cfg(test)]
mod tests;
