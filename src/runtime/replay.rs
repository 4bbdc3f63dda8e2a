//! Embedded mode: the engine over JSON Lines (`bursar replay --input`, see
//! docs/semantics.md for partitions and lines). The same pipeline as the live processor.

use std::sync::{Arc, Mutex};

use crate::config::EngineConfig;
use crate::decode::entitlement::{read_entitlement_file, FileEntitlements};
use crate::decode::entitlement_keys::UnknownKey;
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
    load(engine, text.as_ref(), 1, false).skipped
}

/// What loading an entitlements file found besides its records.
#[derive(Debug, Default)]
pub struct EntitlementLoad {
    /// Skipped lines: (line number, reason).
    pub skipped: Vec<(u64, String)>,
    /// Unknown keys of the lines, with their line numbers (docs/semantics.md, "Bad input").
    pub unknown: Vec<(u64, UnknownKey)>,
}

/// Loads an entitlements file into `engine`: its lines decoded (and checked
/// for unknown keys) on up to `threads` threads, one run of whole lines
/// each, then applied in line order, so the store is the same whatever the
/// count. A file of 25k entitlements takes about 460M instructions to decode
/// (18k a line), all of it before the first usage record can be processed.
pub fn load_entitlement_file(engine: &mut Engine, text: &[u8], threads: usize) -> EntitlementLoad {
    load(engine, text, threads, true)
}

/// [`load_entitlement_file`]; `unknown_keys` false leaves `unknown` empty
/// (callers that only need the records skip that pass).
fn load(engine: &mut Engine, text: &[u8], threads: usize, unknown_keys: bool) -> EntitlementLoad {
    let chunks = line_chunks(text, threads.max(1));
    let decode = |(first_line, chunk): (u64, &[u8])| {
        let FileEntitlements { records, skipped, unknown } = read_entitlement_file(chunk, unknown_keys);
        let renumber = |line: u64| line + first_line - 1;
        let skipped: Vec<(u64, String)> = skipped.into_iter().map(|(l, e)| (renumber(l), e.to_string())).collect();
        (records, skipped, unknown.into_iter().map(|(l, k)| (renumber(l), k)).collect::<Vec<_>>())
    };
    let decoded: Vec<_> = if chunks.len() == 1 {
        chunks.into_iter().map(decode).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks.into_iter().map(|c| scope.spawn(move || decode(c))).collect();
            // A panicking decoder is a bug; its panic goes on to the caller.
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        })
    };
    let mut load = EntitlementLoad::default();
    for (records, skipped, unknown) in decoded {
        for record in records {
            engine.apply_entitlement(record);
        }
        load.skipped.extend(skipped);
        load.unknown.extend(unknown);
    }
    load
}

/// `text` cut at line ends into at most `n` runs of whole lines of about
/// equal size, each with the number of its first line.
fn line_chunks(text: &[u8], n: usize) -> Vec<(u64, &[u8])> {
    let mut chunks = Vec::with_capacity(n);
    let (mut start, mut first_line) = (0usize, 1u64);
    for i in 1..=n {
        let target = if i == n { text.len() } else { (text.len() * i / n).max(start) };
        let end = match text[target..].iter().position(|&b| b == b'\n') {
            Some(nl) if i < n => target + nl + 1,
            _ => text.len(),
        };
        if end > start || chunks.is_empty() {
            chunks.push((first_line, &text[start..end]));
            first_line += text[start..end].iter().filter(|&&b| b == b'\n').count() as u64;
            start = end;
        }
        if start == text.len() {
            break;
        }
    }
    chunks
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

    #[test]
    fn line_chunks_cut_at_line_ends_and_number_their_first_lines() {
        let text = b"a\nbb\n\nccc\ndddd";
        for n in 1..8 {
            let chunks = line_chunks(text, n);
            assert!(chunks.len() <= n.max(1));
            assert_eq!(chunks.iter().flat_map(|(_, c)| c.iter().copied()).collect::<Vec<u8>>(), text.to_vec(), "n = {n}");
            for (first, chunk) in &chunks {
                let before = text[..(chunk.as_ptr() as usize - text.as_ptr() as usize)].iter().filter(|&&b| b == b'\n').count() as u64;
                assert_eq!(*first, before + 1, "n = {n}");
                assert!(chunk.is_empty() || std::ptr::eq(chunk.last().unwrap(), text.last().unwrap()) || chunk.ends_with(b"\n"));
            }
        }
        assert_eq!(line_chunks(b"", 4), vec![(1, &b""[..])]);
    }

    #[test]
    fn an_entitlement_file_loads_the_same_on_any_number_of_threads() {
        let mut lines = Vec::new();
        for i in 0..200 {
            lines.push(match i % 7 {
                0 => "not json".to_string(),
                1 => format!(r#"{{"credential":"k{i}","owner":"o","updated_at":"2026-01-01T00:00:00Z","sope":{{}}}}"#),
                2 => String::new(),
                3 => format!(r#"{{"credential":"k{}","tombstone":true}}"#, i - 2),
                _ => format!(r#"{{"credential":"k{}","owner":"o{i}","updated_at":"2026-01-0{}T00:00:00Z","credits":{{"monthly":"{i}","bank_monts":2}}}}"#, i % 5, 1 + i % 9),
            });
        }
        let text = lines.join("\n");
        let load = |threads| {
            let mut engine = Engine::new(EngineConfig::default());
            let load = load_entitlement_file(&mut engine, text.as_bytes(), threads);
            let mut store: Vec<String> = (0..200).filter_map(|i| engine.entitlements().versions(&format!("k{i}")).map(|v| format!("k{i} {v:?}"))).collect();
            store.sort();
            (load.skipped, load.unknown, store)
        };
        let one = load(1);
        assert!(one.0.iter().any(|(line, _)| *line == 1) && one.1.iter().any(|(line, k)| *line == 2 && k.path == "sope"), "{:?} {:?}", one.0, one.1);
        assert!(!one.2.is_empty());
        for threads in [2, 3, 8] {
            assert_eq!(load(threads), one, "threads = {threads}");
        }
    }
}
