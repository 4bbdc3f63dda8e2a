//! Embedded mode: the engine over JSON Lines (SPEC §6 `bursar replay --input`,
//! §7.2 partitions, §7.7 lines). The same pipeline as the live processor.

use std::io::{BufRead, Write};

use crate::config::EngineConfig;
use crate::decode::entitlement::read_entitlements;
use crate::decode::{is_blank, key_hint, partitioner::partition_for};
use crate::emit;
use crate::engine::output::{BalanceRecord, Finding, Output, RejectedRecord, WindowRecord};
use crate::engine::Engine;
use crate::pipeline::{process_record, InputRecord};

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

/// Counts of one replay.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    pub records: u64,
    pub bytes: u64,
    pub findings: u64,
    pub windows: u64,
    pub balances: u64,
    pub rejected: u64,
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

/// Feeds JSON Lines usage records to `engine`, split into `partitions` with
/// Kafka's default partitioner, in file order; then ends the input
/// (`Engine::finish`). Every output goes to `sink` in emission order.
pub fn replay_reader<R: BufRead>(
    engine: &mut Engine,
    partitions: i32,
    mut reader: R,
    mut sink: impl FnMut(Output) -> std::io::Result<()>,
    mut progress: impl FnMut(u64),
) -> std::io::Result<ReplaySummary> {
    let partitions = partitions.max(1);
    let mut offsets = vec![0i64; partitions as usize];
    let mut summary = ReplaySummary::default();
    let mut buf = Vec::with_capacity(1024);
    let mut out = Vec::with_capacity(16);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        summary.bytes += n as u64;
        let mut line: &[u8] = &buf;
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest;
        }
        if let Some(rest) = line.strip_suffix(b"\r") {
            line = rest;
        }
        if is_blank(line) {
            continue;
        }
        let key = key_hint(line);
        let partition = if partitions == 1 { 0 } else { partition_for(key.as_deref().map(str::as_bytes), partitions) };
        let offset = offsets[partition as usize];
        offsets[partition as usize] += 1;
        let record = InputRecord { partition, offset, line: Some(line_no), key: key.as_deref().map(str::as_bytes), value: Some(line), headers: &[] };
        process_record(engine, &record, &mut out);
        summary.records += 1;
        for o in out.drain(..) {
            count(&mut summary, &o);
            sink(o)?;
        }
        if line_no % 4096 == 0 {
            progress(summary.bytes);
        }
    }
    engine.finish(&mut out);
    for o in out.drain(..) {
        count(&mut summary, &o);
        sink(o)?;
    }
    progress(summary.bytes);
    Ok(summary)
}

fn count(summary: &mut ReplaySummary, o: &Output) {
    match o {
        Output::Finding(_) => summary.findings += 1,
        Output::Window(_) => summary.windows += 1,
        Output::Balance(_) => summary.balances += 1,
        Output::Rejected(_) => summary.rejected += 1,
    }
}

/// Replays JSON Lines text: entitlements first (in line order), then usage
/// records split into `partitions` with Kafka's default partitioner.
pub fn replay_text(config: &EngineConfig, partitions: i32, entitlements: &str, usage: &str) -> ReplayOutputs {
    let mut engine = Engine::new(config.clone());
    let mut outputs = ReplayOutputs { entitlement_errors: load_entitlements(&mut engine, entitlements), ..Default::default() };
    let result = replay_reader(&mut engine, partitions, usage.as_bytes(), |o| {
        outputs.push(o);
        Ok(())
    }, |_| {});
    debug_assert!(result.is_ok(), "reading from memory cannot fail");
    outputs
}

/// JSON Lines writers for the four output streams; a stream without a writer is dropped.
#[derive(Default)]
pub struct FileSinks {
    pub findings: Option<Box<dyn Write>>,
    pub windows: Option<Box<dyn Write>>,
    pub balances: Option<Box<dyn Write>>,
    pub rejected: Option<Box<dyn Write>>,
}

impl FileSinks {
    /// Writes one output as a JSON line to its stream.
    pub fn write(&mut self, output: &Output) -> std::io::Result<()> {
        let (writer, line) = match output {
            Output::Finding(f) => (&mut self.findings, emit::finding_json(f)),
            Output::Window(w) => (&mut self.windows, emit::window_json(w)),
            Output::Balance(b) => (&mut self.balances, emit::balance_json(b)),
            Output::Rejected(r) => (&mut self.rejected, emit::rejected_json(r)),
        };
        if let Some(w) = writer.as_mut() {
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        for w in [&mut self.findings, &mut self.windows, &mut self.balances, &mut self.rejected].into_iter().flatten() {
            w.flush()?;
        }
        Ok(())
    }
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
