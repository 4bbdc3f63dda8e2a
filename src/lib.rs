//! bursar: a deterministic stream processor that governs credit-backed AI
//! access keys as entitlements of non-human identities.
//!
//! The shape: a pure engine in the middle (`engine`, `rules`), driven by event
//! time, with decoding (`decode`) and serialisation (`emit`) beside it, and the
//! edges (`runtime`: files, Kafka; `telemetry`: metrics) around it.

pub mod config;
pub mod decode;
pub mod emit;
#[doc(hidden)]
pub mod fuzz;
pub mod engine;
pub mod gen;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod sink;
pub mod rules;
pub mod runtime;
pub mod telemetry;
pub mod validate;
