//! Embedded mode: the engine over JSON Lines (`bursar replay --input`, see
//! docs/semantics.md for partitions and lines). The same pipeline as the live processor.

use std::sync::{Arc, Mutex};

use crate::config::EngineConfig;
use crate::decode::entitlement::read_entitlements;
use crate::engine::output::{BalanceRecord, Finding, Output, RejectedRecord, WindowRecord};
use crate::engine::Engine;
use crate::pipeline::{replay_file, FileReplay};
use crate::sink::{Collected, Sinks, Stream};

/// Everything one replay produced, per output stream, in emission order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReplayOutputs {
    pub findings: Vec<Finding>,
    pub windows: Vec<WindowRecord>,
    pub balances: Vec<BalanceRecord>,
    pub rejected: Vec<RejectedRecord>,
    /// Entitlement lines skipped: (line number, reason).
    pub entitlement_errors: Vec<(u64, String)>,
}

impl ReplayOutputs {
    pub fn push(&mut self, output: Output) {
        match output {
            Output::Finding(f) => self.findings.push(*f),
            Output::Window(w) => self.windows.push(w),
            Output::Balance(b) => self.balances.push(b),
            Output::Rejected(r) => self.rejected.push(r),
        }
    }
}

/// Loads an entitlements file's text into the engine, in line order; returns
/// the skipped lines with their reasons.
pub fn load_entitlements(engine: &mut Engine, text: &(impl AsRef<[u8]> + ?Sized)) -> Vec<(u64, String)> {
    let (records, errors) = read_entitlements(text);
    for record in records {
        engine.apply_entitlement(record);
    }
    errors.into_iter().map(|(line, e)| (line, e.to_string())).collect()
}

/// Replays JSON Lines text: entitlements first (in line order), then usage
/// records split into `partitions` with Kafka's default partitioner, on one thread.
pub fn replay_text(config: &EngineConfig, partitions: i32, entitlements: &str, usage: &str) -> ReplayOutputs {
    replay_text_threads(config, partitions, 1, entitlements, usage)
}

/// [`replay_text`] on `threads` threads (the outputs are the same whatever the count).
pub fn replay_text_threads(config: &EngineConfig, partitions: i32, threads: usize, entitlements: &str, usage: &str) -> ReplayOutputs {
    let mut engine = Engine::new(config.clone());
    let mut outputs = ReplayOutputs { entitlement_errors: load_entitlements(&mut engine, entitlements), ..Default::default() };
    let collected = Arc::new(Mutex::new(Collected::default()));
    let mut sinks = Sinks::new();
    for stream in Stream::ALL {
        sinks.set(stream, Box::new(collected.clone()));
    }
    let result = replay_file(engine, FileReplay { partitions, threads }, usage.as_bytes(), &mut sinks, |_| {});
    debug_assert!(result.is_ok(), "reading from memory cannot fail");
    drop(sinks);
    let collected = std::mem::take(&mut *collected.lock().unwrap_or_else(|e| e.into_inner()));
    for o in collected.outputs {
        outputs.push(o);
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTS: &str = r#"{"credential":"k1","owner":"o@x","updated_at":"2026-01-01T00:00:00Z","credits":{"monthly":"100"}}"#;

    #[test]
    fn blank_lines_have_no_offset_and_lines_count_physically() {
        let usage = "\n{\"id\":\"a\",\"time\":\"2026-01-01T00:00:00Z\",\"credential\":\"k1\",\"capability\":\"chat\",\"credits\":1}\r\n   \nnot json\n";
        let out = replay_text(&EngineConfig::default(), 1, ENTS, usage);
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].line, Some(4));
        assert_eq!(out.rejected[0].offset, 1);
    }

    #[test]
    fn replay_ends_with_open_windows_and_a_final_balance() {
        let usage = "{\"id\":\"a\",\"time\":\"2026-01-01T00:00:00Z\",\"credential\":\"k1\",\"capability\":\"chat\",\"credits\":1}\n";
        let out = replay_text(&EngineConfig::default(), 1, ENTS, usage);
        assert_eq!(out.windows.len(), 2);
        assert_eq!(out.balances.len(), 1);
        assert_eq!(out.balances[0].remaining, 99_000_000);
    }
}
