//! Broker outages under load (docs/operations.md "Broker outages"): the
//! test starts a broker of its own (tests/broker/kafka.sh with
//! BURSAR_KAFKA_INSTANCE, so the shared broker of the other tests is never
//! touched), runs `bursar run` over a workload, kills the broker with -9
//! mid-stream, restarts it on the same port and data after the outage,
//! produces the rest of the workload, and checks that the processor rode
//! the outage out (never exited, logged its start and end) and that its
//! outputs equal the file replay: at-least-once equal after dropping
//! byte-identical re-sends, exactly-once exactly (read_committed).
//!
//! To keep the suite short: 5 s under both guarantees, 30 s under
//! at-least-once, 90 s under exactly-once, one after the other on the one
//! broker (about 6 minutes in all).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bursar::emit;
use bursar::engine::output::Output;
use common::*;

const CAUGHT_UP: Duration = Duration::from_secs(300);

/// The test's own broker: started at creation, stopped (data deleted) when dropped.
struct OwnBroker {
    name: String,
    bootstrap: String,
}

impl OwnBroker {
    fn start(name: &str) -> OwnBroker {
        let out = script(name, "start");
        let bootstrap = out.lines().find_map(|l| l.strip_prefix("BOOTSTRAP=")).expect("kafka.sh start prints BOOTSTRAP=").to_string();
        OwnBroker { name: name.to_string(), bootstrap }
    }

    fn kill(&self) {
        script(&self.name, "kill");
    }

    fn restart(&self) {
        script(&self.name, "restart");
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = Command::new(broker_script()).arg("stop").env("BURSAR_KAFKA_INSTANCE", &self.name).status();
    }
}

fn broker_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broker/kafka.sh")
}

/// Runs `kafka.sh <command>` for the named instance; its stdout.
fn script(name: &str, command: &str) -> String {
    let out = Command::new(broker_script()).arg(command).env("BURSAR_KAFKA_INSTANCE", name).stderr(Stdio::inherit()).output().unwrap();
    assert!(out.status.success(), "kafka.sh {command} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `bursar run` as instance "a", its log in `log`, and its metrics port.
fn spawn_a(s: &Setup, log: &Path) -> (Child, u16) {
    // Small batches: every batch is a commit, so the kill finds input left.
    let port = free_port();
    let text = std::fs::read_to_string(&s.path).unwrap().replace("127.0.0.1:0", &format!("127.0.0.1:{port}")).replace("batch_size = 500", "batch_size = 100");
    let path = s.dir.path().join("a.toml");
    std::fs::write(&path, format!("instance_id = \"a\"\n{text}")).unwrap();
    (spawn_logged(&[], &path, log), port)
}

/// The value of an unlabelled metric in `text` (Prometheus exposition).
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

fn findings_by_key(outputs: &[Output]) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut m: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
    for o in outputs {
        if let Output::Finding(f) = o {
            m.entry(f.credential.as_bytes().to_vec()).or_default().push(emit::finding_json(f).into_bytes());
        }
    }
    m
}

fn last_balances(outputs: &[Output]) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut m = BTreeMap::new();
    for o in outputs {
        if let Output::Balance(b) = o {
            m.insert(b.credential.as_bytes().to_vec(), vec![emit::balance_json(b).into_bytes()]);
        }
    }
    m
}

/// Each key's records with byte-identical re-sends dropped (a re-send
/// repeats a run of records already sent, so only the first of each value counts).
fn deduped(groups: BTreeMap<Vec<u8>, Vec<Vec<u8>>>) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    groups
        .into_iter()
        .map(|(k, values)| {
            let mut seen = BTreeSet::new();
            (k, values.into_iter().filter(|v| seen.insert(v.clone())).collect())
        })
        .collect()
}

/// One outage of `outage` under `guarantee`, on `broker`.
fn outage_under_load(broker: &OwnBroker, guarantee: &str, outage: Duration, seed: u64) {
    let b = &broker.bootstrap;
    let label = format!("{guarantee}-{}s", outage.as_secs());
    let extra = format!("guarantee = \"{guarantee}\"\nbroker_outage = \"5m\"");
    let s = Setup::new(b, &format!("outage-{label}"), 2, &extra);
    let (ents, usage) = workload(30_000, 200, seed);
    let (first, rest) = usage.split_at(usage.len() / 2);
    produce(&s.config, &ents, first);
    let log = s.dir.path().join("run.log");
    let (mut child, port) = spawn_a(&s, &log);
    assert!(s.wait_committed_past(500, CAUGHT_UP), "{label}: the processor made no progress");

    let at_kill = s.committed();
    broker.kill();
    let killed = Instant::now();
    std::thread::sleep(outage);
    broker.restart();
    let down = killed.elapsed();
    assert!(child.try_wait().unwrap().is_none(), "{label}: bursar run exited during a {down:?} outage; log:\n{}", tail(&log));
    assert!(at_kill < first.len() as i64, "{label}: the first half was done before the broker was killed: the test proves nothing");
    bursar::runtime::kafka::produce_lines(&s.config, &s.config.topics.usage, rest.iter().cloned()).unwrap();
    assert!(s.wait_caught_up(CAUGHT_UP), "{label}: the processor did not catch up after the outage; log:\n{}", tail(&log));
    let metrics = http_get(port, "/metrics").unwrap_or_default();
    assert!(metric(&metrics, "bursar_broker_outages_total").is_some_and(|n| n >= 1.0), "{label}: the outage is counted:\n{metrics}");
    assert_eq!(metric(&metrics, "bursar_broker_unreachable"), Some(0.0), "{label}: the outage is over");
    terminate(&mut child);
    let status = child.wait().unwrap();
    assert!(status.success(), "{label}: bursar run ended with {status}; log:\n{}", tail(&log));

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Broker unreachable: retrying."), "{label}: no line at the outage's start:\n{}", tail(&log));
    assert!(text.contains("Broker reachable again: processing resumed."), "{label}: no line at the outage's end:\n{}", tail(&log));
    let lines = text.lines().filter(|l| l.contains(" WARN ") || l.contains(" ERROR ")).count();
    let bound = 30 + 3 * down.as_secs() as usize;
    assert!(lines <= bound, "{label}: {lines} warnings in a {down:?} outage (at most {bound} expected: rate-limited):\n{}", tail(&log));

    let reference = reference(&s.config.engine().unwrap(), 2, &ents.join("\n"), &usage);
    let findings = by_key(&consume_all(b, &s.config.topics.findings, true, READ_LIMIT));
    let balances: BTreeMap<Vec<u8>, Vec<Vec<u8>>> =
        by_key(&consume_all(b, &s.config.topics.balances, true, READ_LIMIT)).into_iter().map(|(k, v)| (k, v.last().cloned().into_iter().collect())).collect();
    assert!(!findings_by_key(&reference).is_empty(), "the workload should produce findings");
    match guarantee {
        "exactly_once" => assert_same_groups(&findings, &findings_by_key(&reference), &format!("{label}: findings under read_committed")),
        _ => assert_same_groups(&deduped(findings), &findings_by_key(&reference), &format!("{label}: findings without byte-identical re-sends")),
    }
    assert_same_groups(&balances, &last_balances(&reference), &format!("{label}: final balances"));
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn broker_restarts_of_5_30_and_90_s_under_load_lose_and_duplicate_nothing() {
    if bootstrap().is_none() {
        return;
    }
    let broker = OwnBroker::start(&format!("outage-{}", std::process::id()));
    outage_under_load(&broker, "at_least_once", Duration::from_secs(5), 31);
    outage_under_load(&broker, "exactly_once", Duration::from_secs(5), 32);
    outage_under_load(&broker, "at_least_once", Duration::from_secs(30), 33);
    outage_under_load(&broker, "exactly_once", Duration::from_secs(90), 34);
}
