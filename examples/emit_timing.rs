//! Encoding cost per output record: the String functions of `bursar::emit`
//! against `encode_into` into one reused buffer. Not a benchmark with
//! assertions; it prints ns per record by type.
//!
//! cargo run --release --example emit_timing -- [USAGE.jsonl] [ENTITLEMENTS.jsonl] [LINES]
//! (defaults: /tmp/w/sparse.jsonl, /tmp/w/sparse-ents.jsonl, 200000)

use std::hint::black_box;
use std::time::Instant;

use bursar::config::EngineConfig;
use bursar::emit;
use bursar::runtime::replay::replay_text;

/// The binary's allocator, so allocation costs what it costs in `bursar`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Best-of-`ROUNDS` time per item of `f` over `items`, in ns.
fn time_per<T>(items: &[T], mut f: impl FnMut(&T)) -> f64 {
    const ROUNDS: usize = 5;
    let mut best = f64::INFINITY;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for item in items {
            f(item);
        }
        best = best.min(t.elapsed().as_nanos() as f64 / items.len().max(1) as f64);
    }
    best
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage_path = args.first().map_or("/tmp/w/sparse.jsonl", String::as_str);
    let ents_path = args.get(1).map_or("/tmp/w/sparse-ents.jsonl", String::as_str);
    let lines: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let usage: String = std::fs::read_to_string(usage_path)?.lines().take(lines).flat_map(|l| [l, "\n"]).collect();
    let ents = std::fs::read_to_string(ents_path)?;
    let out = replay_text(&EngineConfig::default(), 1, &ents, &usage);
    println!(
        "{lines} events: {} findings, {} windows, {} balances, {} rejected",
        out.findings.len(),
        out.windows.len(),
        out.balances.len(),
        out.rejected.len()
    );
    println!("{:<10} {:>12} {:>12} {:>8}", "record", "String ns", "into ns", "speedup");
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let row = |name: &str, old: f64, new: f64| println!("{name:<10} {old:>12.1} {new:>12.1} {:>7.2}x", old / new);
    macro_rules! measure {
        ($name:expr, $items:expr, $string:path, $into:path) => {{
            let old = time_per($items, |r| drop(black_box($string(black_box(r)))));
            let new = time_per($items, |r| {
                buf.clear();
                $into(black_box(r), &mut buf);
                black_box(&buf);
            });
            row($name, old, new);
        }};
    }
    measure!("finding", &out.findings, emit::finding_json, emit::write_finding);
    measure!("window", &out.windows, emit::window_json, emit::write_window);
    measure!("balance", &out.balances, emit::balance_json, emit::write_balance);
    measure!("rejected", &out.rejected, emit::rejected_json, emit::write_rejected);
    Ok(())
}
