//! Shared helpers of the broker tests: the broker from BURSAR_TEST_BOOTSTRAP
//! (scripts/test.sh starts Apache Kafka and sets it), per-test topics, a
//! plain consumer, the `bursar` binary, and reference outputs from the engine.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bursar::config::{Config, EngineConfig};
use bursar::decode::key_hint;
use bursar::pipeline::partitioner::partition_for;
use bursar::engine::output::Output;
use bursar::engine::Engine;
use bursar::pipeline::{process_record, InputRecord};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};

/// The broker's bootstrap address, or None (the test then skips, saying so).
pub fn bootstrap() -> Option<String> {
    match std::env::var("BURSAR_TEST_BOOTSTRAP") {
        Ok(b) if !b.is_empty() => Some(b),
        _ => {
            // In CI a missing broker is a failure, never a silent skip.
            assert!(std::env::var_os("CI").is_none(), "CI runs need a broker: run scripts/test.sh");
            eprintln!("skipping: no broker (run scripts/test.sh, or set BURSAR_TEST_BOOTSTRAP)");
            None
        }
    }
}

/// A test's own topics, group and config file.
pub struct Setup {
    pub name: String,
    pub bootstrap: String,
    pub config: Config,
    pub path: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Setup {
    /// Writes a bursar.toml with topics `<name>.<kind>` and creates them.
    pub fn new(bootstrap: &str, test: &str, partitions: i32, extra: &str) -> Setup {
        let s = Setup::write(bootstrap, test, partitions, extra);
        let status = Command::new(env!("CARGO_BIN_EXE_bursar")).args(["topics", "create", "--config"]).arg(&s.path).stdout(Stdio::null()).status().unwrap();
        assert!(status.success(), "bursar topics create failed");
        s
    }

    /// Writes a bursar.toml with topics `<name>.<kind>`, creating none.
    pub fn write(bootstrap: &str, test: &str, partitions: i32, extra: &str) -> Setup {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() % 10_000_000;
        let name = format!("{test}-{}-{stamp}", std::process::id());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bursar.toml");
        let text = format!(
            "group_id = \"{name}\"\nmetrics_addr = \"127.0.0.1:0\"\nbatch_size = 500\nbatch_linger = \"50ms\"\n{extra}\n\
             [topics]\nusage = \"{name}.usage\"\nentitlements = \"{name}.ents\"\nfindings = \"{name}.findings\"\n\
             windows = \"{name}.windows\"\nbalances = \"{name}.balances\"\nrejected = \"{name}.rejected\"\n\
             changelog = \"{name}.changelog\"\npartitions = {partitions}\n\
             [kafka]\n\"bootstrap.servers\" = \"{bootstrap}\"\n"
        );
        std::fs::write(&path, text).unwrap();
        let config = Config::load(&path).unwrap();
        Setup { name, bootstrap: bootstrap.to_string(), config, path, dir }
    }

    /// Starts `bursar run` with this config (metrics on a free port).
    pub fn spawn(&self, instance: &str) -> Child {
        let port = free_port();
        let text = std::fs::read_to_string(&self.path).unwrap().replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
        let path = self.dir.path().join(format!("{instance}.toml"));
        std::fs::write(&path, format!("instance_id = \"{instance}\"\n{text}")).unwrap();
        Command::new(env!("CARGO_BIN_EXE_bursar"))
            .args(["run", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// The group's committed offsets summed over the usage partitions (asked
    /// again while the coordinator is busy, e.g. after a member was killed).
    pub fn committed(&self) -> i64 {
        let consumer = self.group_reader();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut tpl = TopicPartitionList::new();
            for p in 0..self.config.topics.partitions {
                tpl.add_partition(&self.config.topics.usage, p);
            }
            match consumer.committed_offsets(tpl, Duration::from_secs(5)) {
                Ok(c) => return c.elements().iter().map(|e| if let Offset::Offset(o) = e.offset() { o } else { 0 }).sum(),
                Err(e) if Instant::now() >= deadline => panic!("reading the group's committed offsets: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Waits until the group has committed past `offsets` (the sum of [`Setup::committed`]).
    pub fn wait_committed_past(&self, offsets: i64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.committed() <= offsets {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// A client of the processor's group that only reads its committed offsets.
    /// read_uncommitted: a read_committed client asks for stable offsets, which
    /// a killed exactly_once instance's open transaction holds back until it
    /// is aborted; committed offsets are what these tests want.
    fn group_reader(&self) -> BaseConsumer {
        ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", &self.config.group_id)
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_uncommitted")
            .create()
            .unwrap()
    }

    /// Waits until the group has committed offsets at the end of every usage partition.
    pub fn wait_caught_up(&self, timeout: Duration) -> bool {
        let consumer = self.group_reader();
        let topic = &self.config.topics.usage;
        let deadline = Instant::now() + timeout;
        loop {
            let mut tpl = TopicPartitionList::new();
            for p in 0..self.config.topics.partitions {
                tpl.add_partition(topic, p);
            }
            if let Ok(committed) = consumer.committed_offsets(tpl, Duration::from_secs(5)) {
                let done = committed.elements().iter().all(|e| {
                    let (_, high) = consumer.fetch_watermarks(topic, e.partition(), Duration::from_secs(5)).unwrap_or((0, i64::MAX));
                    matches!(e.offset(), Offset::Offset(o) if o >= high)
                });
                if done {
                    return true;
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// `replay --topic` of all of `topic` into nothing yet: name the outputs with `..replay_args(topic)`.
pub fn replay_args(topic: &str) -> bursar::runtime::kafka::ReplayTopicArgs {
    bursar::runtime::kafka::ReplayTopicArgs {
        topic: topic.to_string(),
        from: bursar::runtime::kafka::ReplayFrom::Earliest,
        until: None,
        topics: Default::default(),
        files: Vec::new(),
        force_live: false,
        progress: false,
    }
}

fn admin(bootstrap: &str) -> (AdminClient<DefaultClientContext>, tokio::runtime::Runtime) {
    let admin = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    (admin, tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap())
}

/// Creates `topic` with `partitions` and topic `configs` (such as `cleanup.policy`).
pub fn create_topic(bootstrap: &str, topic: &str, partitions: i32, configs: &[(&str, &str)]) {
    let (admin, rt) = admin(bootstrap);
    let new = configs.iter().fold(NewTopic::new(topic, partitions, TopicReplication::Fixed(1)), |t, (k, v)| t.set(k, v));
    let results = rt.block_on(admin.create_topics([&new], &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))))).unwrap();
    assert!(results.iter().all(Result::is_ok), "creating {topic}: {results:?}");
}

/// Sets one topic config of `topic`.
pub fn set_topic_config(bootstrap: &str, topic: &str, key: &str, value: &str) {
    let (admin, rt) = admin(bootstrap);
    let change = AlterConfig::new(ResourceSpecifier::Topic(topic)).set(key, value);
    let results = rt.block_on(admin.alter_configs([&change], &AdminOptions::new().request_timeout(Some(Duration::from_secs(10))))).unwrap();
    assert!(results.iter().all(Result::is_ok), "altering {topic}: {results:?}");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sends SIGTERM (graceful) and waits.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// kill -9.
pub fn crash(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// In their order; None for a header with a null value.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Longest wait of [`consume_all`] for a topic's end.
pub const READ_LIMIT: Duration = Duration::from_secs(60);

/// Every record of `topic` (all partitions, from the start) up to its end:
/// reads until each partition's position reaches its high watermark, or
/// `limit` passes. A read_committed reader gets there only when no
/// transaction is open on the topic (a killed producer's open transaction is
/// aborted by the broker after its `transaction.timeout.ms`), so it sees
/// every committed record.
pub fn consume_all(bootstrap: &str, topic: &str, read_committed: bool, limit: Duration) -> Vec<Record> {
    let reader = |isolation: &str| -> BaseConsumer {
        ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "bursar-test-reader")
            .set("enable.auto.commit", "false")
            .set("fetch.queue.backoff.ms", "5")
            .set("isolation.level", isolation)
            .create()
            .unwrap()
    };
    let consumer = reader(if read_committed { "read_committed" } else { "read_uncommitted" });
    // High watermarks from a read_uncommitted client: they include open transactions.
    let marks = reader("read_uncommitted");
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    let partitions: Vec<i32> = md.topics()[0].partitions().iter().map(|p| p.id()).collect();
    let mut tpl = TopicPartitionList::new();
    for &p in &partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let at_end = || {
        let positions = consumer.position().unwrap();
        partitions.iter().all(|&p| {
            let (low, high) = marks.fetch_watermarks(topic, p, Duration::from_secs(10)).unwrap();
            let pos = positions.find_partition(topic, p).and_then(|e| if let Offset::Offset(o) = e.offset() { Some(o) } else { None });
            high <= low || pos.is_some_and(|o| o >= high)
        })
    };
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let headers = m.headers().map(|h| h.iter().map(|x| (x.key.to_string(), x.value.map(<[u8]>::to_vec))).collect()).unwrap_or_default();
                out.push(Record { partition: m.partition(), offset: m.offset(), key: m.key().map(<[u8]>::to_vec), value: m.payload().map(<[u8]>::to_vec), headers });
            }
            _ => {
                if at_end() {
                    break;
                }
            }
        }
    }
    if !at_end() {
        let positions = consumer.position().unwrap();
        let state: Vec<String> = partitions
            .iter()
            .map(|&p| format!("{p}: at {:?} of {:?}", positions.find_partition(topic, p).map(|e| e.offset()), marks.fetch_watermarks(topic, p, Duration::from_secs(10)).ok()))
            .collect();
        eprintln!("consume_all: {topic} not read to its end in {limit:?} ({})", state.join(", "));
    }
    out.sort_by_key(|r| (r.partition, r.offset));
    out
}

/// The engine over `usage` lines split like the topic (murmur2 of the raw key),
/// without end of input (as the live processor never ends it).
pub fn reference(config: &EngineConfig, partitions: i32, entitlements: &str, usage: &[String]) -> Vec<Output> {
    let mut engine = Engine::new(config.clone());
    bursar::runtime::replay::load_entitlements(&mut engine, entitlements);
    let mut offsets = BTreeMap::new();
    let mut out = Vec::new();
    for line in usage {
        let key = key_hint(line.as_bytes());
        let p = partition_for(key.as_deref().map(str::as_bytes), partitions);
        let o = offsets.entry(p).or_insert(0i64);
        let r = InputRecord { partition: p, offset: *o, line: None, key: key.as_deref().map(str::as_bytes), value: Some(line.as_bytes()), headers: &[], timestamp: None };
        *o += 1;
        process_record(&mut engine, &r, &mut out);
    }
    out
}

/// The JSON values of `records`, grouped by key, each group in topic order.
pub fn by_key(records: &[Record]) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut m: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
    for r in records {
        m.entry(r.key.clone().unwrap_or_default()).or_default().push(r.value.clone().unwrap_or_default());
    }
    m
}

/// Produces the workload: entitlements, then usage.
pub fn produce(config: &Config, entitlements: &[String], usage: &[String]) {
    bursar::runtime::kafka::produce_entitlements(config, &config.topics.entitlements, entitlements.iter().cloned()).unwrap();
    bursar::runtime::kafka::produce_lines(config, &config.topics.usage, usage.iter().cloned()).unwrap();
}

/// A small seeded workload with every kind of anomaly and some bad lines.
pub fn workload(events: u64, credentials: u64, seed: u64) -> (Vec<String>, Vec<String>) {
    let spec = bursar::gen::GenSpec { seed, events, credentials, days: 40, ..Default::default() };
    (bursar::gen::entitlements(&spec), bursar::gen::usage(&spec).collect())
}

/// Fails with a short, readable account of the first difference between two keyed groups.
pub fn assert_same_groups(got: &BTreeMap<Vec<u8>, Vec<Vec<u8>>>, expected: &BTreeMap<Vec<u8>, Vec<Vec<u8>>>, what: &str) {
    let keys: std::collections::BTreeSet<&Vec<u8>> = got.keys().chain(expected.keys()).collect();
    let mut problems = Vec::new();
    for k in keys {
        let (g, e) = (got.get(k).cloned().unwrap_or_default(), expected.get(k).cloned().unwrap_or_default());
        if g != e {
            let i = g.iter().zip(&e).position(|(a, b)| a != b).unwrap_or(g.len().min(e.len()));
            let (gv, ev) = (g.get(i).cloned().unwrap_or_default(), e.get(i).cloned().unwrap_or_default());
            let at = gv.iter().zip(&ev).position(|(a, b)| a != b).unwrap_or(gv.len().min(ev.len())).saturating_sub(80);
            let text = |b: &[u8]| String::from_utf8_lossy(b.get(at.min(b.len())..).unwrap_or_default()).chars().take(400).collect::<String>();
            problems.push(format!(
                "key {}: got {} records, expected {}; first difference at #{i}:\n  got      {}\n  expected {}",
                String::from_utf8_lossy(k),
                g.len(),
                e.len(),
                g.get(i).map(|v| text(v)).unwrap_or_default(),
                e.get(i).map(|v| text(v)).unwrap_or_default()
            ));
        }
    }
    assert!(problems.is_empty(), "{what}: {} keys differ; first: {}", problems.len(), problems.first().cloned().unwrap_or_default());
}

/// A dense workload: `credentials` keys with Pareto call rates over `hours`
/// (a few keys make several calls a second), CloudEvents, duplicates, bad lines.
pub fn dense_workload(events: u64, credentials: u64, hours: u32, seed: u64) -> (Vec<String>, Vec<String>) {
    let spec = bursar::gen::GenSpec { seed, events, credentials, hours, shape: bursar::gen::Shape::Dense, ..Default::default() };
    (bursar::gen::entitlements(&spec), bursar::gen::usage(&spec).collect())
}

/// Config lines that switch on every rule of docs/semantics.md, "Where and
/// by whom a key is used": drift in all four dimensions (principal and
/// network limits come from the generated entitlements).
pub const ORIGIN_RULES: &str = "drift_dimensions = [\"capability\", \"model\", \"principal\", \"network\"]";

/// Asserts that `outputs` hold findings of the principal, network and shared-key
/// rules, and drift in the principal and network dimensions.
pub fn assert_origin_rules_fire(outputs: &[Output]) {
    let mut seen = std::collections::BTreeSet::new();
    for o in outputs {
        if let Output::Finding(f) = o {
            seen.insert(match &f.figures {
                bursar::rules::Figures::ScopeDrift { dimension, .. } => format!("scope.drift/{dimension}"),
                _ => f.rule.as_str().to_string(),
            });
        }
    }
    for want in ["scope.principal", "scope.network", "credential.shared", "scope.drift/principal", "scope.drift/network"] {
        assert!(seen.contains(want), "the workload never fires {want}: {seen:?}");
    }
}

/// Starts `bursar run <extra> --config <config>` with its log (RUST_LOG=info) in `log`.
pub fn spawn_logged(extra: &[&str], config: &std::path::Path, log: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bursar"))
        .arg("run")
        .args(extra)
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// A plain HTTP/1.0 GET of the metrics server; the body, or None while nothing listens.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    (head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200")).then(|| body.to_string())
}

/// `bursar run` of the setup's config as instance `instance`, its metrics on a
/// free port, waited on until it caught up with the usage topic.
pub fn run_with_metrics(s: &Setup, instance: &str) -> (Child, u16) {
    let port = free_port();
    let text = std::fs::read_to_string(&s.path).unwrap().replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    let path = s.dir.path().join(format!("{instance}.toml"));
    std::fs::write(&path, format!("instance_id = \"{instance}\"\n{text}")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_bursar")).args(["run", "--config"]).arg(&path).env("RUST_LOG", "warn").stdout(Stdio::null()).spawn().unwrap();
    assert!(s.wait_caught_up(Duration::from_secs(120)), "the processor did not catch up");
    (child, port)
}

/// Metrics of a caught-up run once librdkafka reported the lag (statistics
/// every 5 s), or after 20 s whatever they are.
pub fn metrics_with_lag(port: u16, lag_sample: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = http_get(port, "/metrics").unwrap_or_default();
        if m.contains(lag_sample) || Instant::now() > deadline {
            return m;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
