//! The fuzz targets on stable Rust, for a fixed budget (README.md
//! "Fuzzing"): every file of `fuzz/corpus/<target>/`, then seeded mutations
//! of them (bit flips, interesting bytes, JSON and secret tokens, deletions,
//! duplications, splices), each through the same target cargo-fuzz runs
//! (`bursar::fuzz`), which panics on a violated invariant. The run is
//! deterministic: `BURSAR_FUZZ_SEED` (default 1) picks another one and
//! `BURSAR_FUZZ_CASES` scales the budget. A failure prints the input in hex,
//! to be added to the corpus and turned into a regression test.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Tokens worth splicing in: JSON structure, field names, times, numbers,
/// escapes, secret prefixes.
const TOKENS: &[&[u8]] = &[
    b"{", b"}", b"[", b"]", b",", b":", b"\"", b"\\", b"null", b"true", b"1e2", b"-0", b"-0.0000001", b"99999999999999999999",
    b"\"time\":\"2199-12-31T23:59:59Z\"", b"\"time\":\"1999-12-31T23:59:59Z\"", b"\"credits\":\"1.0000005\"", b"\"credential\":\"sk-live-abcdef\"",
    b"\"specversion\":\"1.0\"", b"\"data\":{", b"\"subject\":", b"\\ud800", b"\\u0000", b"AKIAABCDEFGHIJKLMNOP", b"ghp_", b"sk-ant-",
    b"\"scope\":{\"models\":[\"*\"]}", b"\"burst\":[{\"window\":\"60ms\",\"calls\":1}]", b"\"status\":\"revoked\"", b"\"dormancy\":\"1ms\"",
    b"\"credits\":{\"monthly\":\"1000000000\",\"bank_months\":1200}", b"\xc3\xa9", b"\xff", b"\n", b"\0",
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `input` changed by one to eight mutations (`others` for splices).
fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] = [0u8, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'}', b'0', b'9', b'-', b'.', b'e', b' '][rng.below(14)];
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, t.iter().copied());
            }
            3 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            4 if !v.is_empty() => {
                let start = rng.below(v.len());
                let end = (start + 1 + rng.below(64)).min(v.len());
                let chunk = v[start..end].to_vec();
                v.splice(at..at, chunk);
            }
            5 if !others.is_empty() => {
                let o = &others[rng.below(others.len())];
                let start = rng.below(o.len() + 1);
                let end = (start + rng.below(128)).min(o.len());
                v.splice(at..at, o[start..end].iter().copied());
            }
            _ => v.insert(at, rng.next() as u8),
        }
    }
    v
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
    files.sort();
    let corpus: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!corpus.is_empty(), "fuzz/corpus/{target} is empty");
    corpus
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `target` on every corpus entry of `name`, then on `cases` mutations.
fn smoke(name: &str, cases: u64, target: fn(&[u8])) {
    let corpus = corpus(name);
    let cases = cases * env_u64("BURSAR_FUZZ_CASES", 1000) / 1000;
    let seed = env_u64("BURSAR_FUZZ_SEED", 1);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x1000_0000_01B3) ^ name.len() as u64);
    let inputs = corpus.iter().cloned().chain((0..cases).map(|_| {
        let base = &corpus[rng.below(corpus.len())];
        mutate(&mut rng, base, &corpus)
    }));
    for (i, input) in inputs.enumerate() {
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| target(&input))) {
            let why = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
            panic!("{name}: input #{i} (seed {seed}) broke an invariant: {why}\ninput (hex): {hex}");
        }
    }
}

#[test]
fn the_usage_decoder_target_holds_on_its_corpus_and_mutations() {
    smoke("usage_decoder", 20_000, bursar::fuzz::usage_decoder);
}

#[test]
fn the_entitlement_decoder_target_holds_on_its_corpus_and_mutations() {
    smoke("entitlement_decoder", 20_000, bursar::fuzz::entitlement_decoder);
}

#[test]
fn the_engine_path_target_holds_on_its_corpus_and_mutations() {
    smoke("engine_path", 1_500, bursar::fuzz::engine_path);
}

#[test]
fn the_mutator_changes_its_input_and_is_deterministic() {
    let base = br#"{"id":"e1","credits":"1"}"#.to_vec();
    let (mut a, mut b) = (Rng(7), Rng(7));
    let (x, y): (Vec<_>, Vec<_>) = (0..50).map(|_| (mutate(&mut a, &base, &[]), mutate(&mut b, &base, &[]))).unzip();
    assert_eq!(x, y, "the same seed gives the same inputs");
    assert!(x.iter().filter(|m| **m != base).count() > 40, "mutations change the input");
}

/// Every panic a target would report is a panic here too (the harness can fail).
#[test]
#[should_panic(expected = "broke an invariant")]
fn a_target_that_panics_fails_the_smoke_run() {
    smoke("usage_decoder", 0, |data| assert!(data.is_empty(), "not empty"));
}

/// Found by the engine_path target: findings carry the entitlement's owner
/// (`resources[0].owner.name`), which went out unredacted when it was a raw secret.
#[test]
fn an_entitlement_owner_that_is_a_raw_secret_reaches_findings_redacted() {
    let secret = "sk-live-owner0123456789";
    let ents = format!(r#"{{"credential":"key_s","owner":"{secret}","updated_at":"2026-01-01T00:00:00Z","scope":{{"capabilities":["chat"]}}}}"#);
    let usage = r#"{"id":"e1","time":"2026-01-02T10:00:00Z","credential":"key_s","capability":"image","credits":"1"}"#;
    let out = bursar::runtime::replay::replay_text(&bursar::config::EngineConfig::default(), 1, &ents, usage);
    assert!(!out.findings.is_empty(), "the call outside the scope is a finding");
    for f in &out.findings {
        let text = bursar::emit::finding_json(f);
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains(&bursar::decode::secrets::redacted_id(secret)), "the owner is named by its redacted id: {text}");
    }
}
