//! Decoding time per line, reference decoder against the fast path, over
//! JSON Lines files: `cargo run --release --example decode_timing -- FILE...`.
//! Each file is read into memory first; every non-blank line is decoded by
//! each path in turn (`key_hint` + `decode_usage_reference`, as file replay
//! did, against `decode_usage_keyed`), best of three rounds.

use std::time::Instant;

use bursar::decode::{decode_usage_keyed, decode_usage_reference, fast_path_accepts, key_hint, records};

const MAX: usize = 65_536;

// The allocator of the `bursar` binary, so figures match `bursar replay`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn best_of<F: FnMut() -> usize>(lines: &[&[u8]], mut f: F) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..3 {
        let start = Instant::now();
        n = f();
        best = best.min(start.elapsed().as_nanos() as f64 / lines.len() as f64);
    }
    (best, n)
}

fn main() -> std::io::Result<()> {
    for path in std::env::args().skip(1) {
        let text = std::fs::read(&path)?;
        let lines: Vec<&[u8]> = records(&text).map(|(_, line)| line).collect();
        let fast = lines.iter().filter(|l| fast_path_accepts(l, &[], MAX)).count();
        let (old, ok_old) = best_of(&lines, || {
            lines.iter().filter(|l| key_hint(l).map(|k| k.len()).is_some() | decode_usage_reference(l, &[], MAX).is_ok()).count()
        });
        let (old_decode, _) = best_of(&lines, || lines.iter().filter(|l| decode_usage_reference(l, &[], MAX).is_ok()).count());
        let (new, ok_new) = best_of(&lines, || {
            lines.iter().filter(|l| { let d = decode_usage_keyed(l, &[], MAX); d.key_hint.is_some() | d.event.is_ok() }).count()
        });
        let (new_hint, _) = best_of(&lines, || lines.iter().filter(|l| key_hint(l).is_some()).count());
        assert_eq!(ok_old, ok_new);
        println!("{path}: {} lines, fast path accepts {:.2}%", lines.len(), 100.0 * fast as f64 / lines.len() as f64);
        println!("  old  key_hint + decode_usage_reference  {old:7.1} ns/line (decode alone {old_decode:.1})");
        println!("  new  decode_usage_keyed                  {new:7.1} ns/line");
        println!("  new  key_hint alone                      {new_hint:7.1} ns/line");
    }
    Ok(())
}
