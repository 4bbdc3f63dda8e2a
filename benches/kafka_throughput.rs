//! Through a real broker on loopback, in one run (`cargo bench --bench kafka_throughput`;
//! needs BURSAR_TEST_BOOTSTRAP, e.g. from `tests/broker/kafka.sh start`):
//! (1) a bare rdkafka consumer reading the workload; (2) bursar processing it end
//! to end (consumed, processed, outputs and changelog acknowledged, offsets
//! committed); their ratio; (3) event-to-finding latency while usage is
//! produced live at a steady rate. BURSAR_BENCH_KAFKA_EVENTS (default 300000).
//!
//! Then the dense workload (`bursar gen --shape dense`: 500 keys, Pareto call
//! rates, 6 hours; BURSAR_BENCH_KAFKA_DENSE_EVENTS, default 500000) on a
//! 4-partition usage topic of its own: (d) one rdkafka consumer that decodes
//! each value with serde_json and keeps two tumbling windows per key, timed
//! from start to its last record; (e) the release binary `bursar run`, timed
//! from spawn to its last commit (committed offsets at the end of every
//! partition); their ratio; the largest changelog record value (the
//! changelog read to its end after the run); event-to-finding latency with
//! dense usage produced live at 20k events/s. A `bursar run` that exits (for
//! example on `MessageSizeTooLarge` producing to the changelog) is reported
//! with its exit status and stderr tail; every wait is bounded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bursar::config::Config;
use bursar::gen::{entitlements, usage, GenSpec};
use bursar::runtime::kafka;
use bursar::telemetry::Metrics;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

#[path = "support/windows.rs"]
#[allow(dead_code)]
mod windows;
#[path = "support/live.rs"]
mod live;
#[path = "support/dense_kafka.rs"]
mod dense_kafka;

/// Longest wait for any one phase; a phase that takes longer is reported as timed out.
const WAIT: Duration = Duration::from_secs(180);

/// The allocator of the `bursar` binary, so the in-process run measures the same thing.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn config(bootstrap: &str, name: &str) -> Config {
    Config::parse(&config_text(bootstrap, name, "")).expect("bench config")
}

/// The bench's bursar.toml: topics named after `name`, 4 partitions; `top` goes before the tables.
fn config_text(bootstrap: &str, name: &str, top: &str) -> String {
    let extra = std::env::var("BURSAR_BENCH_KAFKA_CONFIG").unwrap_or_default();
    format!(
        "group_id = \"{name}\"\ninstance_id = \"bench\"\n{top}\n{extra}\n[topics]\nusage = \"{name}.usage\"\nentitlements = \"{name}.ents\"\nfindings = \"{name}.findings\"\n\
         windows = \"{name}.windows\"\nbalances = \"{name}.balances\"\nrejected = \"{name}.rejected\"\nchangelog = \"{name}.changelog\"\npartitions = 4\n\
         [kafka]\n\"bootstrap.servers\" = \"{bootstrap}\"\n"
    )
}

pub(crate) fn reader(bootstrap: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench-reader")
        .set("enable.auto.commit", "false")
        .set("fetch.queue.backoff.ms", "5")
        .create()
        .expect("consumer")
}

pub(crate) fn assign_all(c: &BaseConsumer, topic: &str, partitions: i32) {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    c.assign(&tpl).unwrap();
}

/// A consumer of the processor's group that only reads its committed offsets.
fn group_reader(bootstrap: &str, cfg: &Config) -> BaseConsumer {
    ClientConfig::new().set("bootstrap.servers", bootstrap).set("group.id", &cfg.group_id).create().expect("consumer")
}

/// Sum of the group's committed offsets over the usage partitions.
fn committed(reader: &BaseConsumer, cfg: &Config) -> i64 {
    let mut tpl = TopicPartitionList::new();
    for p in 0..cfg.topics.partitions {
        tpl.add_partition(&cfg.topics.usage, p);
    }
    reader
        .committed_offsets(tpl, Duration::from_secs(5))
        .map(|t| t.elements().iter().map(|e| if let Offset::Offset(o) = e.offset() { o } else { 0 }).sum())
        .unwrap_or(0)
}

fn main() {
    let Ok(bootstrap) = std::env::var("BURSAR_TEST_BOOTSTRAP") else {
        eprintln!("kafka_throughput: set BURSAR_TEST_BOOTSTRAP (tests/broker/kafka.sh start prints it)");
        return;
    };
    if std::env::var_os("RUST_LOG").is_some() {
        bursar::telemetry::init_logging(bursar::config::LogFormat::Human);
    }
    let events: u64 = std::env::var("BURSAR_BENCH_KAFKA_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(300_000);
    let name = format!("bench-{}", std::process::id());
    let cfg = config(&bootstrap, &name);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(kafka::create_topics(&cfg)).expect("topics");
    let spec = GenSpec { seed: 5, events, credentials: 5_000, days: 30, ..Default::default() };
    kafka::produce_entitlements(&cfg, &cfg.topics.entitlements, entitlements(&spec).into_iter()).unwrap();
    let t = Instant::now();
    let n = kafka::produce_lines(&cfg, &cfg.topics.usage, usage(&spec)).unwrap();
    println!("workload: {n} usage records over {} credentials, 4 partitions, produced in {:.2} s", spec.credentials, t.elapsed().as_secs_f64());

    // (1) bare consumer.
    let c = reader(&bootstrap);
    assign_all(&c, &cfg.topics.usage, 4);
    let t = Instant::now();
    let mut read = 0u64;
    while read < n && t.elapsed() < WAIT {
        if let Some(Ok(_)) = c.poll(Duration::from_millis(100)) {
            read += 1;
        }
    }
    let bare = t.elapsed().as_secs_f64();
    if read < n {
        println!("(1) bare consumer TIMED OUT: {read} of {n} records in {bare:.0} s");
    }

    // (2) bursar end to end, in process.
    let shutdown = Arc::new(AtomicBool::new(false));
    let metrics = Arc::new(Metrics::new());
    let (c2, s2, m2) = (cfg.clone(), shutdown.clone(), metrics.clone());
    let group = group_reader(&bootstrap, &cfg);
    tracing::debug!("Starting the processor.");
    let t = Instant::now();
    let handle = std::thread::Builder::new().name("bursar-run".into()).spawn(move || kafka::run(c2, s2, m2)).expect("thread");
    let mut first = None;
    loop {
        let done = committed(&group, &cfg);
        if done > 0 && first.is_none() {
            tracing::debug!("First commit seen.");
            first = Some(t.elapsed().as_secs_f64());
        }
        if done >= n as i64 {
            break;
        }
        if handle.is_finished() || t.elapsed() > WAIT {
            let why = if handle.is_finished() { format!("{:?}", handle.join()) } else { "timed out".into() };
            println!("(2) bursar run STOPPED after {:.1} s with {done} of {n} records committed: {why}", t.elapsed().as_secs_f64());
            shutdown.store(true, Ordering::SeqCst);
            dense_kafka::dense(&bootstrap);
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let total = t.elapsed().as_secs_f64();
    tracing::debug!("Every record committed.");
    let startup = first.unwrap_or(0.0);

    // (3) event-to-finding latency: produce live at a steady rate while it runs.
    let live_spec = GenSpec { seed: 6, events: 60_000, credentials: 5_000, days: 2, start_ms: spec.start_ms + 40 * 86_400_000, ..Default::default() };
    let offsets_before: Vec<i64> = (0..4).map(|p| c.fetch_watermarks(&cfg.topics.findings, p, Duration::from_secs(5)).unwrap().1).collect();
    let lines: Vec<String> = usage(&live_spec).collect();
    live::produce_at_rate(&bootstrap, &cfg.topics.usage, &lines, 20_000);
    let t = Instant::now();
    while committed(&group, &cfg) < n as i64 + lines.len() as i64 && t.elapsed() < WAIT && !handle.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
    }
    shutdown.store(true, Ordering::SeqCst);
    let _ = handle.join();
    let hist = finding_latency(&bootstrap, &cfg, &[0; 4], &offsets_before);

    println!();
    println!("{:<56} {:>12} {:>10}", "through Apache Kafka on loopback, one run", "records/s", "seconds");
    println!("{:<56} {:>12.0} {:>10.2}", "(1) bare rdkafka consumer", n as f64 / bare, bare);
    println!("{:<56} {:>12.0} {:>10.2}", "(2) bursar run, end to end (incl. start-up)", n as f64 / total, total);
    println!("{:<56} {:>12.0} {:>10.2}", "    after its first commit (start-up excluded)", n as f64 / (total - startup).max(1e-9), total - startup);
    println!("{:<56} {:>12.2}", "(2)/(1) ratio, end to end", bare / total);
    println!("{:<56} {:>12.2}", "(2)/(1) ratio, start-up excluded", bare / (total - startup).max(1e-9));
    println!(
        "event-to-finding latency at 20k events/s ({} findings): p50 {} ms, p99 {} ms, p99.9 {} ms",
        hist.len(),
        hist.value_at_quantile(0.5),
        hist.value_at_quantile(0.99),
        hist.value_at_quantile(0.999)
    );
    let q = metrics.latency_quantiles();
    println!("record consumed to outputs acknowledged (processor's histogram): p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms", q[0] * 1e3, q[1] * 1e3, q[2] * 1e3);

    dense_kafka::dense(&bootstrap);
}

/// Reads `topic` from `from[p]` to its end on every partition (or until [`WAIT`]), calling `f` per record.
pub(crate) fn read_to_end(bootstrap: &str, topic: &str, from: &[i64], mut f: impl FnMut(&BorrowedMessage<'_>)) -> bool {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("fetch.queue.backoff.ms", "5")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for (p, o) in from.iter().enumerate() {
        tpl.add_partition_offset(topic, p as i32, Offset::Offset(*o)).unwrap();
    }
    c.assign(&tpl).unwrap();
    let mut at_end = vec![false; from.len()];
    let t = Instant::now();
    while at_end.iter().any(|e| !e) && t.elapsed() < WAIT {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => f(&m),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => at_end[p as usize] = true,
            _ => {}
        }
    }
    at_end.iter().all(|e| *e)
}

/// Delay from each usage record's timestamp to that of the findings it caused,
/// for usage read from `usage_from` and findings from `findings_from`.
pub(crate) fn finding_latency(bootstrap: &str, cfg: &Config, usage_from: &[i64], findings_from: &[i64]) -> hdrhistogram::Histogram<u64> {
    let mut stamps = HashMap::new();
    read_to_end(bootstrap, &cfg.topics.usage, usage_from, |m| {
        stamps.insert((m.partition(), m.offset()), m.timestamp().to_millis().unwrap_or(0));
    });
    let mut hist = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    read_to_end(bootstrap, &cfg.topics.findings, findings_from, |m| {
        let v: serde_json::Value = serde_json::from_slice(m.payload().unwrap_or_default()).unwrap_or_default();
        let src = &v["unmapped"]["bursar"]["source"];
        if let (Some(p), Some(o)) = (src["partition"].as_i64(), src["offset"].as_i64()) {
            if let (Some(produced), Some(found)) = (stamps.get(&(p as i32, o)), m.timestamp().to_millis()) {
                let _ = hist.record((found - produced).max(0) as u64);
            }
        }
    });
    hist
}
