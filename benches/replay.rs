//! `bursar replay` against its baselines, side by side in one run
//! (`cargo bench --bench replay`).
//!
//! Two workloads are generated with the library (`bursar::gen`) into a temp
//! dir: sparse (20,000 keys over 120 days) and dense (500 keys, Pareto call
//! rates, 6 hours), BURSAR_BENCH_EVENTS lines each (default 1,000,000). For
//! each, on the same file:
//! (a) baseline: `serde_json::from_slice::<Value>` of every line, read line
//!     by line with a reused buffer, one thread;
//! (b) baseline: (a) plus two tumbling windows (1m, 1h) per credential in a
//!     minimal engine (open windows per credential, calls and credits sums,
//!     closed when the file's watermark, max time - 30 s, passes their end);
//! (c) the release binary `target/release/bursar replay` (or BURSAR_BENCH_BIN), whole process,
//!     all four outputs written to files in BURSAR_BENCH_OUT (default a fresh
//!     directory under /dev/shm, else a temp dir), 1 and 4 partitions (and
//!     with the default `--threads` (the machine's cores), and once on one thread),
//!     with the CPU time the process used (every thread, user + system);
//! (d) floor: writing as many bytes as (c) wrote, in 1 MiB blocks, to one
//!     fresh file in the same directory, one thread: the kernel's copy of the
//!     output alone, which no encoding can avoid.
//! (e) the replay's stages on one thread, in this process, with the
//!     library's own code on the same file (mapped, as `replay` reads it):
//!     decoding alone; the sequential replay (`replay --threads 1`'s path:
//!     decoding and the engine, one partition, without the pipeline's
//!     prefetching) with its outputs dropped; and the same with every output
//!     encoded, the fastest of two rounds (the three in turn in each).
//!     Their differences are each stage's cost.
//! Then the budget: a target's ratio allows (a)'s time divided by it of
//! wall time, so at most that times the cores of CPU time; (c)'s CPU time
//! above it means no schedule of the same work can meet the target.
//! Each line's ratio is to (a) of the same workload in the same run, since
//! the machine is shared and absolute figures are noisy.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bursar::gen::{entitlements_iter, usage, GenSpec, Shape};
use bursar::model::time;
use serde_json::Value;

#[path = "support/windows.rs"]
mod windows;
use windows::{fields, Windows};

/// The allocator of the `bursar` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;


fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn thousands(v: f64) -> String {
    let s = format!("{v:.0}");
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 && c != '-' {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A generated workload on disk.
struct Files {
    name: &'static str,
    describe: String,
    usage: PathBuf,
    entitlements: PathBuf,
    usage_bytes: u64,
    lines: u64,
}

fn write_workload(dir: &Path, name: &'static str, spec: &GenSpec, describe: String) -> std::io::Result<Files> {
    let usage_path = dir.join(format!("{name}.usage.jsonl"));
    let ents_path = dir.join(format!("{name}.entitlements.jsonl"));
    let mut ents = BufWriter::new(File::create(&ents_path)?);
    for line in entitlements_iter(spec) {
        ents.write_all(line.as_bytes())?;
        ents.write_all(b"\n")?;
    }
    ents.flush()?;
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&usage_path)?);
    let (mut bytes, mut lines) = (0u64, 0u64);
    for line in usage(spec) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        bytes += line.len() as u64 + 1;
        lines += 1;
    }
    out.flush()?;
    Ok(Files { name, describe, usage: usage_path, entitlements: ents_path, usage_bytes: bytes, lines })
}

/// Calls every line of `path` (newline stripped) with a reused buffer.
fn each_line(path: &Path, mut f: impl FnMut(&[u8])) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        f(line);
    }
}

/// (a): decode every line to a `serde_json::Value`.
fn bare_decode(path: &Path) -> std::io::Result<(f64, u64)> {
    let t = Instant::now();
    let mut ok = 0u64;
    each_line(path, |line| {
        if let Ok(v) = serde_json::from_slice::<Value>(line) {
            ok += 1;
            black_box(&v);
        }
    })?;
    Ok((t.elapsed().as_secs_f64(), ok))
}

/// (b): decode plus two tumbling windows per credential.
fn decode_and_window(path: &Path) -> std::io::Result<(f64, Windows)> {
    let t = Instant::now();
    let mut w = Windows::new();
    each_line(path, |line| {
        if let Ok(v) = serde_json::from_slice::<Value>(line) {
            if let Some((credential, t, micros)) = fields(&v) {
                w.event(credential, t, micros);
            }
        }
    })?;
    Ok((t.elapsed().as_secs_f64(), w))
}

/// The release binary, built first when missing; BURSAR_BENCH_BIN names
/// another (an older build, to compare two in turn on the same files).
fn bursar_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("BURSAR_BENCH_BIN") {
        return PathBuf::from(bin);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/bursar");
    if !bin.exists() {
        eprintln!("replay bench: building {} first.", bin.display());
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--bin", "bursar"])
            .current_dir(&root)
            .status();
        assert!(status.is_ok_and(|s| s.success()), "cargo build --release failed");
    }
    bin
}

/// CPU seconds (user + system) so far of `who`: `libc::RUSAGE_SELF`, or
/// `libc::RUSAGE_CHILDREN` (the waited-for child processes).
fn cpu_of(who: libc::c_int) -> f64 {
    // SAFETY: getrusage writes only into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

fn children_cpu() -> f64 {
    cpu_of(libc::RUSAGE_CHILDREN)
}

fn self_cpu() -> f64 {
    cpu_of(libc::RUSAGE_SELF)
}

/// Outcome of one `bursar replay` process.
struct Run {
    secs: f64,
    /// CPU seconds it used, every thread (user + system).
    cpu: f64,
    out_bytes: u64,
    failure: Option<String>,
}

/// (c): `bursar replay` from spawn to exit, the four outputs written to `out`.
fn replay(bin: &Path, files: &Files, out: &Path, extra: &[&str]) -> Run {
    let names = ["findings", "windows", "balances", "rejected"];
    let mut cmd = Command::new(bin);
    cmd.arg("replay").arg("--input").arg(&files.usage).arg("--entitlements").arg(&files.entitlements).args(extra);
    for n in names {
        cmd.arg(format!("--{n}")).arg(out.join(format!("{}.{n}.jsonl", files.name)));
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let cpu_before = children_cpu();
    let t = Instant::now();
    let result = cmd.output();
    let secs = t.elapsed().as_secs_f64();
    let cpu = children_cpu() - cpu_before;
    let mut out_bytes = 0;
    for n in names {
        let p = out.join(format!("{}.{n}.jsonl", files.name));
        out_bytes += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        let _ = std::fs::remove_file(&p);
    }
    let failure = match result {
        Ok(o) if o.status.success() => None,
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let tail: Vec<&str> = err.lines().rev().take(5).collect();
            Some(format!("{}: {}", o.status, tail.into_iter().rev().collect::<Vec<_>>().join(" | ")))
        }
        Err(e) => Some(format!("spawn failed: {e}")),
    };
    Run { secs, cpu, out_bytes, failure }
}

/// (d): `bytes` written in 1 MiB blocks to a fresh file in `out`; seconds
/// and the CPU seconds of this process that the writing used.
fn write_floor(out: &Path, bytes: u64) -> std::io::Result<(f64, f64)> {
    let path = out.join("floor.bin");
    let block = vec![b'x'; 1 << 20];
    let cpu_before = self_cpu();
    let t = Instant::now();
    let mut f = File::create(&path)?;
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n])?;
        left -= n as u64;
    }
    drop(f);
    let secs = t.elapsed().as_secs_f64();
    let cpu = self_cpu() - cpu_before;
    std::fs::remove_file(&path)?;
    Ok((secs, cpu))
}

/// (e): seconds of decoding alone, then of the sequential replay
/// (`pipeline::replay_file` on one thread, one partition) with its outputs
/// dropped, then with each encoded as JSON Lines and discarded; the fastest
/// of two rounds.
fn stages(files: &Files) -> std::io::Result<[f64; 3]> {
    use bursar::pipeline::{decode_line, open_input, replay_file, FileReplay, Lines};
    use bursar::sink::{Sinks, Stream};
    let config = bursar::config::EngineConfig::default();
    let entitlements = std::fs::read(&files.entitlements)?;
    let mut times = [f64::MAX; 3];
    for stage in (0..2).flat_map(|_| 0..3) {
        let mut engine = bursar::engine::Engine::new(config.clone());
        bursar::runtime::replay::load_entitlements(&mut engine, &entitlements);
        let input = open_input(File::open(&files.usage)?);
        let t = Instant::now();
        if stage == 0 {
            let (mut lines, mut buf) = (Lines::new(input), Vec::new());
            while let Some((no, line)) = lines.next(&mut buf)? {
                black_box(decode_line(line, no, 1, config.max_value_bytes));
            }
        } else {
            // A stream without a sink drops its outputs.
            let mut sinks = Sinks::new();
            if stage == 2 {
                for stream in Stream::ALL {
                    sinks.add(stream, Box::new(Discard(Vec::with_capacity(1 << 20))));
                }
            }
            replay_file(engine, FileReplay { partitions: 1, threads: 1 }, input, &mut sinks, |_| {}).map_err(std::io::Error::other)?;
        }
        times[stage] = times[stage].min(t.elapsed().as_secs_f64());
    }
    Ok(times)
}

/// A sink that encodes each output as a JSON Lines line and discards the
/// bytes once it holds 1 MiB: encoding without writing.
struct Discard(Vec<u8>);

impl bursar::sink::Sink for Discard {
    fn write(&mut self, output: &bursar::engine::output::Output) -> Result<(), bursar::sink::SinkError> {
        bursar::emit::encode_into(output, &mut self.0);
        self.0.push(b'\n');
        if self.0.len() >= 1 << 20 {
            black_box(&self.0);
            self.0.clear();
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), bursar::sink::SinkError> {
        Ok(())
    }
}

/// Where the outputs go, and how that was chosen.
fn out_dir(tmp: &Path) -> (PathBuf, &'static str) {
    if let Ok(dir) = std::env::var("BURSAR_BENCH_OUT") {
        return (PathBuf::from(dir), "BURSAR_BENCH_OUT");
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        let dir = shm.join(format!("bursar-bench-replay-{}", std::process::id()));
        if std::fs::create_dir_all(&dir).is_ok() {
            return (dir, "a fresh directory under /dev/shm, tmpfs");
        }
    }
    (tmp.join("out"), "a temp dir (no /dev/shm)")
}

struct Row {
    workload: &'static str,
    what: String,
    secs: f64,
    lines: u64,
    base: f64,
    target: Option<f64>,
    note: String,
}

fn print_row(r: &Row) {
    let ratio = r.base / r.secs.max(1e-9);
    let target = match r.target {
        Some(t) => format!(">= {t:.2}x {}", if ratio >= t { "met" } else { "NOT met" }),
        None => String::new(),
    };
    println!(
        "{:<7} {:<44} {:>12} {:>8.2} {:>7.2}x  {:<16} {}",
        r.workload,
        r.what,
        thousands(r.lines as f64 / r.secs.max(1e-9)),
        r.secs,
        ratio,
        target,
        r.note
    );
}

fn main() -> std::io::Result<()> {
    let events = env_u64("BURSAR_BENCH_EVENTS", 1_000_000);
    let tmp = tempfile::tempdir()?;
    let (out, out_why) = out_dir(tmp.path());
    std::fs::create_dir_all(&out)?;
    let bin = bursar_binary();
    let help = Command::new(&bin).args(["replay", "--help"]).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let has_threads = help.contains("--threads");

    let sparse = GenSpec { seed: 1, events, credentials: 20_000, days: 120, ..GenSpec::default() };
    let dense = GenSpec { seed: 1, events, credentials: 500, hours: 6, shape: Shape::Dense, ..GenSpec::default() };
    let t = Instant::now();
    let workloads = [
        write_workload(tmp.path(), "sparse", &sparse, format!("{} keys over {} days", sparse.credentials, sparse.days))?,
        write_workload(tmp.path(), "dense", &dense, format!("{} keys, Pareto rates, over {} hours", dense.credentials, dense.hours))?,
    ];
    let gen_secs = t.elapsed().as_secs_f64();

    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    println!("replay bench, {}", time::format_rfc3339(now_ms));
    println!("cores: {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!("binary: {}{}", bin.display(), if has_threads { " (replay lists --threads)" } else { " (replay has no --threads)" });
    println!("outputs: {} ({out_why})", out.display());
    for w in &workloads {
        println!("workload {:<6}: {} lines, {:.1} MB, {} (generated with bursar::gen, {:.1} s for both)", w.name, w.lines, w.usage_bytes as f64 / 1e6, w.describe, gen_secs);
    }
    println!();
    println!("{:<7} {:<44} {:>12} {:>8} {:>8}  {:<16}", "shape", "measure (one run each)", "events/s", "seconds", "vs (a)", "target");

    for w in &workloads {
        // Warm the page cache so (a) does not pay for the first read.
        each_line(&w.usage, |l| {
            black_box(l);
        })?;
        let (base, decoded) = bare_decode(&w.usage)?;
        let row = |what: &str, secs: f64, target: Option<f64>, note: String| Row { workload: w.name, what: what.to_string(), secs, lines: w.lines, base, target, note };
        print_row(&row("(a) serde_json::Value decode, 1 thread", base, None, format!("{decoded} lines parsed")));
        let (secs, win) = decode_and_window(&w.usage)?;
        print_row(&row(
            "(b) decode + 1m/1h tumbling windows, 1 thread",
            secs,
            None,
            format!("{} credentials, {} windows closed, {} late window updates", win.ids.len(), win.closed, win.late),
        ));
        black_box(win.calls_closed);
        // The target lines run with the default --threads (the machine's cores);
        // one more line pins a single thread, for comparison.
        let mut runs: Vec<(String, Vec<&str>, Option<f64>)> = vec![
            ("(c) bursar replay --partitions 1".to_string(), vec!["--partitions", "1"], Some(0.65)),
            ("(c) bursar replay --partitions 4".to_string(), vec!["--partitions", "4"], (w.name == "sparse").then_some(0.9)),
        ];
        if has_threads {
            runs.push(("(c) bursar replay --partitions 1 --threads 1".into(), vec!["--partitions", "1", "--threads", "1"], None));
        }
        let mut out_bytes = 0;
        // CPU seconds of the runs with a target: 1 partition, then 4.
        let mut used = Vec::new();
        for (what, args, target) in runs {
            let r = replay(&bin, w, &out, &args);
            out_bytes = out_bytes.max(r.out_bytes);
            if let Some(t) = target {
                used.push((args[1], t, r.cpu));
            }
            let note = match &r.failure {
                None => format!("{:.1} MB out; {:.2} CPU s ({:.2} cores busy)", r.out_bytes as f64 / 1e6, r.cpu, r.cpu / r.secs.max(1e-9)),
                Some(f) => format!("FAILED {f}"),
            };
            print_row(&row(&what, r.secs, target, note));
        }
        let (secs, cpu) = write_floor(&out, out_bytes)?;
        print_row(&row("(d) floor: write (c)'s bytes to one file", secs, None, format!("{:.1} MB in 1 MiB blocks; {cpu:.2} CPU s", out_bytes as f64 / 1e6)));
        let [decode, engine, encode] = stages(w)?;
        print_row(&row("(e) stages, 1 thread: decode", decode, None, String::new()));
        print_row(&row("(e) stages, 1 thread: decode + engine", engine, None, format!("the engine alone {:.2} s", engine - decode)));
        print_row(&row("(e) stages, 1 thread: decode + engine + encode", encode, None, format!("encoding alone {:.2} s", encode - engine)));
        // No schedule can beat the CPU time divided by the cores.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let budget: Vec<String> = used
            .iter()
            .map(|(partitions, target, cpu)| format!("at {target:.2}x, {:.2} s of wall = {:.2} core-s against {cpu:.2} CPU s used at {partitions} partition(s)", base / target, base / target * cores))
            .collect();
        println!("{:<7} budget on {cores} cores: {}; (e)'s stages and (d) need {:.2} core-s", w.name, budget.join("; "), encode + cpu);
    }
    if std::env::var_os("BURSAR_BENCH_OUT").is_none() {
        let _ = std::fs::remove_dir_all(&out);
    }
    Ok(())
}
