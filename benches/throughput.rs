//! Engine throughput and state size (`cargo bench --bench throughput`).
//!
//! One thread, one run: a seeded workload is generated into memory first,
//! then timed through (a) bare serde_json baselines, (b) the real pipeline
//! (`pipeline::process_record` + encoding every output), and the live heap
//! is measured with a counting global allocator to get (d) state bytes per
//! credential, for a normal and a million-credential workload.
//!
//! Scale with BURSAR_BENCH_EVENTS (default 2,000,000),
//! BURSAR_BENCH_CREDENTIALS (20,000), BURSAR_BENCH_BIG_CREDENTIALS
//! (1,000,000; 0 skips the big run) and BURSAR_BENCH_DAYS (span of event
//! time, 120: fewer days make denser windows and fewer outputs per event). Targets: >= 1,000,000 events/s for (b),
//! <= 2 KiB of state per credential.

use std::alloc::{GlobalAlloc, Layout};
use std::borrow::Cow;
use std::hint::black_box;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bursar::config::EngineConfig;
use bursar::decode::decode_usage;
use bursar::decode::entitlement::{decode_entitlement_line, read_entitlements};
use bursar::engine::output::Output;
use bursar::engine::Engine;
use bursar::gen::{self, GenSpec};
use bursar::pipeline::{process_record, InputRecord};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The binary's allocator (mimalloc) wrapped to track the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// The usage fields as a typical hand-written serde decoder would read them.
#[derive(Deserialize)]
#[allow(dead_code)]
struct UsageFields<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    credential: Cow<'a, str>,
    #[serde(borrow)]
    capability: Cow<'a, str>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    credits: &'a RawValue,
    #[serde(default)]
    tokens_in: Option<i64>,
    #[serde(default)]
    tokens_out: Option<i64>,
    #[serde(borrow, default)]
    principal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    src_ip: Option<Cow<'a, str>>,
}

#[derive(Default, Debug)]
struct Counts {
    findings: u64,
    windows: u64,
    balances: u64,
    rejected: u64,
    bytes_out: u64,
}

impl Counts {
    fn add(&mut self, o: &Output, encoded: usize) {
        match o {
            Output::Finding(_) => self.findings += 1,
            Output::Window(_) => self.windows += 1,
            Output::Balance(_) => self.balances += 1,
            Output::Rejected(_) => self.rejected += 1,
        }
        self.bytes_out += encoded as u64;
    }
}

/// Serialises one output into `buf` with the real encoders (`bursar::emit`).
fn encode(o: &Output, buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(bursar::emit::encode(o).as_bytes());
}

fn rate(n: u64, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

fn fmt_rate(r: f64) -> String {
    let s = format!("{:.0}", r);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn record(i: usize, line: &str) -> InputRecord<'_> {
    InputRecord { partition: 0, offset: i as i64, line: None, key: None, value: Some(line.as_bytes()), headers: &[], timestamp: None }
}

struct StateSize {
    credentials: usize,
    entitlement_bytes: usize,
    managed: usize,
    state_bytes: usize,
    events_per_sec: f64,
}

impl StateSize {
    fn per_credential(&self) -> f64 {
        self.state_bytes as f64 / self.credentials.max(1) as f64
    }
}

/// The main run: workload in memory, baselines, then the pipeline.
fn main_run(events: u64, credentials: u64, days: u32) -> (f64, StateSize) {
    let spec = GenSpec { seed: 42, events, credentials, days, ..GenSpec::default() };
    println!("workload: {events} usage lines over {credentials} credentials, seed {}, {} days", spec.seed, spec.days);
    let t = Instant::now();
    let ents = gen::entitlements(&spec).join("\n");
    let lines: Vec<String> = gen::usage(&spec).collect();
    let gen_secs = t.elapsed().as_secs_f64();
    let bytes: usize = lines.iter().map(String::len).sum();
    println!("generated in {gen_secs:.2} s ({} lines/s), {:.1} MB of usage JSON", fmt_rate(rate(events, gen_secs)), bytes as f64 / 1e6);
    let n = lines.len() as u64;

    let t = Instant::now();
    let mut ok = 0u64;
    for line in &lines {
        ok += u64::from(black_box(serde_json::from_str::<serde_json::Value>(line)).is_ok());
    }
    let value_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut typed = 0u64;
    for line in &lines {
        typed += u64::from(black_box(serde_json::from_str::<UsageFields<'_>>(line)).is_ok());
    }
    let struct_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut decoded = 0u64;
    for line in &lines {
        decoded += u64::from(black_box(decode_usage(line.as_bytes(), &[], 65_536)).is_ok());
    }
    let decode_secs = t.elapsed().as_secs_f64();

    let mut out: Vec<Output> = Vec::with_capacity(64);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let before_engine = live();
    let mut engine = Engine::new(EngineConfig::default());
    let (records, skipped) = read_entitlements(&ents);
    assert!(skipped.is_empty(), "generated entitlements must decode: {:?}", skipped.first());
    for r in records {
        engine.apply_entitlement(r);
    }
    let after_ents = live();
    let mut counts = Counts::default();
    let t = Instant::now();
    for (i, line) in lines.iter().enumerate() {
        process_record(&mut engine, &record(i, line), &mut out);
        for o in out.drain(..) {
            encode(&o, &mut buf);
            counts.add(&o, buf.len());
        }
    }
    let process_secs = t.elapsed().as_secs_f64();
    let after_process = live();
    print_breakdown(&engine);
    let t = Instant::now();
    engine.finish(&mut out);
    for o in out.drain(..) {
        encode(&o, &mut buf);
        counts.add(&o, buf.len());
    }
    let finish_secs = t.elapsed().as_secs_f64();
    let bursar_rate = rate(n, process_secs + finish_secs);
    let stats = engine.stats().clone();
    let size = StateSize {
        credentials: engine.credentials_in_state(),
        entitlement_bytes: after_ents - before_engine,
        managed: engine.entitlements().credentials(),
        state_bytes: after_process.saturating_sub(after_ents),
        events_per_sec: bursar_rate,
    };
    drop(engine);

    // The same pipeline with outputs dropped unencoded: the engine's own cost.
    let mut engine = Engine::new(EngineConfig::default());
    for r in read_entitlements(&ents).0 {
        engine.apply_entitlement(r);
    }
    let t = Instant::now();
    for (i, line) in lines.iter().enumerate() {
        process_record(&mut engine, &record(i, line), &mut out);
        out.clear();
    }
    engine.finish(&mut out);
    out.clear();
    let no_encode_secs = t.elapsed().as_secs_f64();
    drop(engine);

    println!();
    println!("{:<58} {:>14} {:>12}", "(a)/(b) throughput, one thread", "events/s", "seconds");
    println!("{:<58} {:>14} {:>12.3}", format!("(a1) serde_json::Value ({ok} parsed)"), fmt_rate(rate(n, value_secs)), value_secs);
    println!("{:<58} {:>14} {:>12.3}", format!("(a2) serde_json -> usage struct ({typed} parsed)"), fmt_rate(rate(n, struct_secs)), struct_secs);
    println!("{:<58} {:>14} {:>12.3}", "(b)  bursar process_record + encode", fmt_rate(bursar_rate), process_secs + finish_secs);
    println!("{:<58} {:>14} {:>12.3}", "     of which end of input (finish)", "", finish_secs);
    println!("{:<58} {:>14} {:>12.3}", format!("(b1) decode_usage only ({decoded} accepted)"), fmt_rate(rate(n, decode_secs)), decode_secs);
    println!("{:<58} {:>14} {:>12.3}", "(b2) process_record, outputs dropped unencoded", fmt_rate(rate(n, no_encode_secs)), no_encode_secs);
    println!("{:<58} {:>14.2}", "(c)  ratio (b)/(a1)", bursar_rate / rate(n, value_secs));
    println!("{:<58} {:>14.2}", "     ratio (b)/(a2)", bursar_rate / rate(n, struct_secs));
    println!(
        "     outputs: {} findings, {} windows, {} balances, {} rejected, {:.1} MB encoded",
        counts.findings,
        counts.windows,
        counts.balances,
        counts.rejected,
        counts.bytes_out as f64 / 1e6
    );
    println!("     engine stats: {} events, {} duplicates, {} late, rejected {:?}", stats.events, stats.duplicates, stats.late_events, stats.rejected);
    drop(lines);
    (bursar_rate, size)
}

/// The big run: entitlements and usage streamed from the generator (not held).
fn big_run(events: u64, credentials: u64, days: u32) -> StateSize {
    let spec = GenSpec { seed: 43, events, credentials, days, ..GenSpec::default() };
    let mut out: Vec<Output> = Vec::with_capacity(64);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let before_engine = live();
    let mut engine = Engine::new(EngineConfig::default());
    for line in gen::entitlements_iter(&spec) {
        if let Ok(r) = decode_entitlement_line(line.as_bytes()) {
            engine.apply_entitlement(r);
        }
    }
    let after_ents = live();
    let t = Instant::now();
    for (i, line) in gen::usage(&spec).enumerate() {
        process_record(&mut engine, &record(i, &line), &mut out);
        for o in out.drain(..) {
            encode(&o, &mut buf);
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let after_process = live();
    StateSize {
        credentials: engine.credentials_in_state(),
        entitlement_bytes: after_ents - before_engine,
        managed: engine.entitlements().credentials(),
        state_bytes: after_process.saturating_sub(after_ents),
        events_per_sec: rate(events, secs),
    }
}

/// Where the state goes: averages over the credentials of partition 0.
fn print_breakdown(engine: &Engine) {
    let Some(part) = engine.partition_state(0) else { return };
    let n = part.len().max(1) as f64;
    let entry = std::mem::size_of::<bursar::engine::partition::Cred>();
    let (mut ids, mut windows, mut models, mut grants, mut ledgers) = (0usize, 0usize, 0usize, 0usize, 0usize);
    for (_, c) in part.credentials() {
        ids += c.dedupe.len();
        windows += c.windows.len();
        models += c.windows.iter().map(|w| w.models.len() + w.capabilities.len()).sum::<usize>();
        if let Some(l) = &c.ledger {
            ledgers += 1;
            grants += l.grants.len();
        }
    }
    println!(
        "     state breakdown: credential slab {} x {entry} B = {:.0} B/cred; per cred: {:.1} remembered ids, {:.2} open windows ({:.2} capability/model strings), {:.2} ledgers with {:.2} grants",
        part.len(),
        (part.len() * entry) as f64 / n,
        ids as f64 / n,
        windows as f64 / n,
        models as f64 / n,
        ledgers as f64 / n,
        grants as f64 / n
    );
    // Heap bytes per component, measured by cloning it (a clone keeps a hash
    // map's bucket count but trims Vec/VecDeque capacity: a lower bound).
    let heap = |f: &dyn Fn(&bursar::engine::credential::CredState) -> Box<dyn std::any::Any>| {
        let before = live();
        let copies: Vec<Box<dyn std::any::Any>> = part.credentials().map(|(_, c)| f(c)).collect();
        let bytes = live().saturating_sub(before) - copies.capacity() * std::mem::size_of::<Box<dyn std::any::Any>>();
        drop(copies);
        bytes as f64 / n
    };
    println!(
        "     heap per cred (clone, lower bound, incl. the boxed inline part): dedupe {:.0} B, windows {:.0} B, burst {:.0} B, ledger {:.0} B, scope {:.0} B, lifecycle {:.0} B",
        heap(&|c| Box::new(c.dedupe.clone())),
        heap(&|c| Box::new(c.windows.clone())),
        heap(&|c| Box::new(c.burst.clone())),
        heap(&|c| Box::new(c.ledger.clone())),
        heap(&|c| Box::new(c.scope.clone())),
        heap(&|c| Box::new(c.lifecycle.clone())),
    );
}

fn print_size(label: &str, s: &StateSize) {
    println!(
        "{label:<34} {:>12} {:>14.1} {:>12} {:>16.1}",
        s.credentials,
        s.per_credential(),
        s.state_bytes / 1024,
        s.entitlement_bytes as f64 / s.managed.max(1) as f64
    );
}

/// (e) The changelog of `credentials` credentials (one event each, live
/// mode): its records and bytes, and the time to restore a partition from them.
fn restore_run(credentials: u64) {
    let spec = GenSpec { seed: 9, events: credentials, credentials, days: 30, ..GenSpec::default() };
    let mut engine = Engine::new(EngineConfig::default()).with_changelog();
    let (records, _) = read_entitlements(&gen::entitlements(&spec).join("\n"));
    for r in records {
        engine.apply_entitlement(r);
    }
    let mut out = Vec::new();
    for (i, line) in gen::usage(&spec).enumerate() {
        process_record(&mut engine, &record(i, &line), &mut out);
        out.clear();
    }
    let log: Vec<(Vec<u8>, Option<Vec<u8>>)> = engine.changelog_snapshot(0).into_iter().map(|r| (r.key, r.value)).collect();
    let bytes: usize = log.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len)).sum();
    let largest = log.iter().filter_map(|(_, v)| v.as_ref().map(Vec::len)).max().unwrap_or(0);
    let in_state = engine.credentials_in_state();
    drop(engine);
    let mut fresh = Engine::new(EngineConfig::default()).with_changelog();
    let t = Instant::now();
    let restored = fresh.restore_partition(0, log.clone()).expect("restore");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "(e) changelog of {in_state} credentials: {} records, {:.1} MB ({:.0} B per credential, largest value {largest} B); restored in {secs:.2} s ({} credentials/s)",
        log.len(),
        bytes as f64 / 1e6,
        bytes as f64 / in_state.max(1) as f64,
        fmt_rate(rate(restored as u64, secs))
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let events = env_u64("BURSAR_BENCH_EVENTS", 2_000_000);
    let credentials = env_u64("BURSAR_BENCH_CREDENTIALS", 20_000);
    let big = env_u64("BURSAR_BENCH_BIG_CREDENTIALS", 1_000_000);
    let days = u32::try_from(env_u64("BURSAR_BENCH_DAYS", 120)).unwrap_or(120).max(1);
    let restore = env_u64("BURSAR_BENCH_RESTORE_CREDENTIALS", 1_000_000);
    if restore > 0 {
        restore_run(restore);
        println!();
    }
    let (bursar_rate, small) = main_run(events, credentials, days);
    let big_size = (big > 0).then(|| {
        println!();
        println!("big workload: {events} usage lines over {big} credentials (streamed from the generator)...");
        big_run(events, big, days)
    });
    println!();
    println!("{:<34} {:>12} {:>14} {:>12} {:>16}", "(d) state size", "credentials", "bytes/cred", "state KiB", "ent. bytes/cred");
    print_size(&format!("{credentials} credentials"), &small);
    if let Some(b) = &big_size {
        print_size(&format!("{big} credentials"), b);
        println!("{:<34} {:>12}", "    big run events/s (incl. generation)", fmt_rate(b.events_per_sec));
    }
    println!(
        "    inline sizes: CredState {} B, OpenWindow {} B, BurstState {} B, Ledger {} B",
        std::mem::size_of::<bursar::engine::credential::CredState>(),
        std::mem::size_of::<bursar::engine::windows::OpenWindow>(),
        std::mem::size_of::<bursar::rules::burst::BurstState>(),
        std::mem::size_of::<bursar::rules::ledger::Ledger>()
    );
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("target >= 1,000,000 events/s for (b): {} ({})", verdict(bursar_rate >= 1e6), fmt_rate(small.events_per_sec));
    let worst = big_size.as_ref().map_or(small.per_credential(), |b| b.per_credential().max(small.per_credential()));
    println!("target <= 2048 state bytes/credential: {} (worst {worst:.0})", verdict(worst <= 2048.0));
}
