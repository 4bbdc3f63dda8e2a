//! Decoding time per line, reference decoder against the fast path, over
//! JSON Lines files: `cargo run --release --example decode_timing -- FILE...`.
//! Each file is read into memory first; every non-blank line is decoded by
//! each path in turn, best of three rounds (wall time: on a busy machine,
//! compare figures of one run only).

use std::time::Instant;

use bursar::decode::{decode_usage, decode_usage_keyed, decode_usage_reference, fast_path_accepts, key_hint, key_hint_reference, json_lines};

const MAX: usize = 65_536;

// The allocator of the `bursar` binary, so figures match `bursar replay`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Best time per line over three rounds of `f` on every line; `f` returns
/// something to count so the work is not optimised away.
fn ns_per_line(lines: &[&[u8]], f: impl Fn(&[u8]) -> bool) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..3 {
        let start = Instant::now();
        count = lines.iter().filter(|l| f(l)).count();
        best = best.min(start.elapsed().as_nanos() as f64 / lines.len() as f64);
    }
    (best, count)
}

/// A way of decoding a line; true when it accepts it.
type Decoder = dyn Fn(&[u8]) -> bool;

fn main() -> std::io::Result<()> {
    for path in std::env::args().skip(1) {
        let text = std::fs::read(&path)?;
        let lines: Vec<&[u8]> = json_lines(&text).map(|(_, line)| line).collect();
        let fast = lines.iter().filter(|l| fast_path_accepts(l, &[], MAX)).count();
        println!("{path}: {} lines, the fast path decides {:.2}%", lines.len(), 100.0 * fast as f64 / lines.len() as f64);
        let rows: [(&str, &Decoder); 6] = [
            ("old   key_hint_reference + decode_usage_reference", &|l| key_hint_reference(l).is_some() ^ decode_usage_reference(l, &[], MAX).is_ok()),
            ("new   key_hint + decode_usage (replay as it is)", &|l| key_hint(l).is_some() ^ decode_usage(l, &[], MAX).is_ok()),
            ("new   decode_usage_keyed (one pass)", &|l| {
                let d = decode_usage_keyed(l, &[], MAX);
                d.key_hint.is_some() ^ d.event.is_ok()
            }),
            ("old   decode_usage_reference alone", &|l| decode_usage_reference(l, &[], MAX).is_ok()),
            ("new   decode_usage alone", &|l| decode_usage(l, &[], MAX).is_ok()),
            ("old   key_hint_reference alone", &|l| key_hint_reference(l).is_some()),
        ];
        let mut counts = Vec::new();
        for (name, f) in rows {
            let (ns, count) = ns_per_line(&lines, f);
            counts.push(count);
            println!("  {name:52} {ns:7.1} ns/line");
        }
        let (ns, _) = ns_per_line(&lines, |l| key_hint(l).is_some());
        println!("  {:52} {ns:7.1} ns/line", "new   key_hint alone");
        assert!(counts[0] == counts[1] && counts[1] == counts[2] && counts[3] == counts[4], "the paths disagree: {counts:?}");
    }
    Ok(())
}
