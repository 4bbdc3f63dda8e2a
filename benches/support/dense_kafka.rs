//! The dense part of benches/kafka_throughput.rs: the dense workload on a
//! 4-partition usage topic, a windowing rdkafka consumer as the baseline,
//! the release binary `bursar run` end to end, its changelog's largest
//! record value, and event-to-finding latency at 20k events/s.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bursar::config::Config;
use bursar::gen::{entitlements, usage, GenSpec, Shape};
use bursar::runtime::kafka;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::windows::{fields, Windows};
use crate::{assign_all, config_text, finding_latency, read_to_end, reader, WAIT};

const PARTITIONS: i32 = 4;
/// Records larger than this do not fit the default `max_value_bytes`, nor comfortably a Kafka record.
const BIG_VALUE: usize = 64 * 1024;

/// How a `bursar run` process ended its main phase.
enum Outcome {
    /// Every usage partition committed to its end after this many seconds.
    Committed(f64),
    /// The process exited first.
    Exited { after: f64, status: ExitStatus, stderr_tail: String },
    /// Neither within [`WAIT`].
    TimedOut { after: f64, committed: i64 },
}

/// The group's committed offset on each usage partition (0 where none).
fn committed(group: &BaseConsumer, cfg: &Config) -> Vec<i64> {
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition(&cfg.topics.usage, p);
    }
    let mut out = vec![0; PARTITIONS as usize];
    if let Ok(t) = group.committed_offsets(tpl, Duration::from_secs(5)) {
        for e in t.elements() {
            if let Offset::Offset(o) = e.offset() {
                out[e.partition() as usize] = o;
            }
        }
    }
    out
}

/// The high watermark of every partition of `topic`.
fn ends(c: &BaseConsumer, topic: &str) -> Vec<i64> {
    (0..PARTITIONS).map(|p| c.fetch_watermarks(topic, p, Duration::from_secs(10)).map(|w| w.1).unwrap_or(0)).collect()
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n    ")
}

/// Waits until the group has committed `to` on every partition, the child exits, or [`WAIT`] passes.
fn wait_committed(child: &mut Child, group: &BaseConsumer, cfg: &Config, to: &[i64], start: Instant, stderr: &Path) -> Outcome {
    loop {
        let done = committed(group, cfg);
        if done.iter().zip(to).all(|(d, t)| d >= t) {
            return Outcome::Committed(start.elapsed().as_secs_f64());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Outcome::Exited { after: start.elapsed().as_secs_f64(), status, stderr_tail: tail(stderr, 6) };
        }
        if start.elapsed() > WAIT {
            return Outcome::TimedOut { after: start.elapsed().as_secs_f64(), committed: done.iter().sum() };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asks the child to stop (SIGTERM by its pid), then kills it if it has not exited within 20 s.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(9464)
}

/// The release binary, built first when missing.
fn bursar_binary() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/bursar");
    if !bin.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--bin", "bursar"])
            .current_dir(&root)
            .status();
        assert!(status.is_ok_and(|s| s.success()), "cargo build --release failed");
    }
    bin
}

/// (d): one consumer, serde_json decode and two tumbling windows per key (a window engine per partition).
fn windowing_consumer(bootstrap: &str, cfg: &Config, n: u64) -> (f64, u64, u64) {
    let c = reader(bootstrap);
    assign_all(&c, &cfg.topics.usage, PARTITIONS);
    let mut engines: Vec<Windows> = (0..PARTITIONS).map(|_| Windows::new()).collect();
    let t = Instant::now();
    let mut read = 0u64;
    while read < n && t.elapsed() < WAIT {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            read += 1;
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(m.payload().unwrap_or_default()) {
                if let Some((credential, time, micros)) = fields(&v) {
                    engines[m.partition() as usize].event(credential, time, micros);
                }
            }
        }
    }
    (t.elapsed().as_secs_f64(), read, engines.iter().map(|e| e.closed).sum())
}

/// The dense workload through the broker; prints its own table.
pub fn dense(bootstrap: &str) {
    let events: u64 = std::env::var("BURSAR_BENCH_KAFKA_DENSE_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(500_000);
    let name = format!("bench-{}-dense", std::process::id());
    let text = config_text(bootstrap, &name, &format!("metrics_addr = \"127.0.0.1:{}\"", free_port()));
    let cfg = Config::parse(&text).expect("bench config");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(kafka::create_topics(&cfg)).expect("topics");
    let spec = GenSpec { seed: 5, events, credentials: 500, hours: 6, shape: Shape::Dense, ..GenSpec::default() };
    kafka::produce_entitlements(&cfg, &cfg.topics.entitlements, entitlements(&spec).into_iter()).expect("entitlements");
    let t = Instant::now();
    let n = kafka::produce_lines(&cfg, &cfg.topics.usage, usage(&spec)).expect("usage");
    println!();
    println!("dense workload: {n} usage records, {} keys, Pareto rates over {} hours, 4 partitions, produced in {:.2} s", spec.credentials, spec.hours, t.elapsed().as_secs_f64());

    let (base, read, closed) = windowing_consumer(bootstrap, &cfg, n);
    let probe = reader(bootstrap);
    let usage_end = ends(&probe, &cfg.topics.usage);

    let dir = tempfile::tempdir().expect("temp dir");
    let cfg_path = dir.path().join("bursar.toml");
    std::fs::File::create(&cfg_path).and_then(|mut f| f.write_all(text.as_bytes())).expect("config file");
    let stderr_path = dir.path().join("stderr.log");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let group = rdkafka::config::ClientConfig::new().set("bootstrap.servers", bootstrap).set("group.id", &cfg.group_id).create::<BaseConsumer>().expect("consumer");
    let start = Instant::now();
    let mut child = Command::new(bursar_binary())
        .arg("run")
        .arg("--config")
        .arg(&cfg_path)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn bursar run");
    let outcome = wait_committed(&mut child, &group, &cfg, &usage_end, start, &stderr_path);

    // Event-to-finding latency, only while the processor is still up.
    let mut latency = None;
    if matches!(outcome, Outcome::Committed(_)) {
        let findings_before = ends(&probe, &cfg.topics.findings);
        let live = GenSpec { seed: 6, events: 60_000, hours: 1, start_ms: spec.start_ms + 6 * 3_600_000, ..spec };
        let lines: Vec<String> = usage(&live).collect();
        crate::live::produce_at_rate(bootstrap, &cfg.topics.usage, &lines, 20_000);
        let live_end = ends(&probe, &cfg.topics.usage);
        latency = Some(match wait_committed(&mut child, &group, &cfg, &live_end, Instant::now(), &stderr_path) {
            Outcome::Committed(_) => Ok(finding_latency(bootstrap, &cfg, &usage_end, &findings_before)),
            Outcome::Exited { status, stderr_tail, .. } => Err(format!("bursar run exited ({status}) during the live phase:\n    {stderr_tail}")),
            Outcome::TimedOut { committed, .. } => Err(format!("timed out with {committed} records committed")),
        });
    }
    stop(&mut child);

    // The changelog, read to its end after the run.
    let (mut records, mut max_value, mut over) = (0u64, 0usize, 0u64);
    let complete = read_to_end(bootstrap, &cfg.topics.changelog, &[0; PARTITIONS as usize], |m| {
        let len = m.payload_len();
        records += 1;
        max_value = max_value.max(len);
        over += u64::from(len > BIG_VALUE);
    });

    println!();
    println!("{:<60} {:>12} {:>10}", "dense workload through Apache Kafka on loopback, one run", "records/s", "seconds");
    let note = if read < n { format!("  TIMED OUT at {read} of {n}") } else { String::new() };
    println!("{:<60} {:>12.0} {:>10.2}{note}", "(d) rdkafka consumer + serde_json + 1m/1h windows per key", read as f64 / base, base);
    println!("    {closed} windows closed by the watermark");
    match &outcome {
        Outcome::Committed(total) => {
            println!("{:<60} {:>12.0} {:>10.2}", "(e) bursar run (release binary), spawn to last commit", n as f64 / total, total);
            println!("{:<60} {:>12.2}", "(e)/(d) ratio", base / total);
        }
        Outcome::Exited { after, status, stderr_tail } => {
            println!("(e) bursar run EXITED after {after:.1} s ({status}) before committing every record; stderr tail:\n    {stderr_tail}");
            println!("{:<60} {:>12}", "(e)/(d) ratio", "n/a");
        }
        Outcome::TimedOut { after, committed } => {
            println!("(e) bursar run TIMED OUT after {after:.0} s with {committed} of {n} records committed");
            println!("{:<60} {:>12}", "(e)/(d) ratio", "n/a");
        }
    }
    println!(
        "changelog{}: {records} records, largest value {max_value} bytes, {over} over 64 KiB",
        if complete { "" } else { " (NOT read to its end within the wait)" }
    );
    match latency {
        Some(Ok(h)) => println!(
            "event-to-finding latency, dense usage live at 20k events/s ({} findings): p50 {} ms, p99 {} ms, p99.9 {} ms",
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999)
        ),
        Some(Err(e)) => println!("event-to-finding latency: not measured: {e}"),
        None => println!("event-to-finding latency: not measured (bursar run did not finish the workload)"),
    }
}
