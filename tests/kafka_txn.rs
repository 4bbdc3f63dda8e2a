//! Transactions around the live processor, on a real Apache Kafka broker
//! (scripts/test.sh starts one): usage and entitlements written by a
//! transactional producer (markers, aborted records), and an `exactly_once`
//! processor whose transactions the broker refuses for a while.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bursar::config::Config;
use bursar::decode::key_hint;
use bursar::emit;
use bursar::engine::output::Output;
use bursar::engine::Engine;
use bursar::pipeline::{process_record, InputRecord};
use bursar::runtime::kafka::{self, ReplayFrom, ReplayTopicArgs};
use bursar::sink::{JsonLines, Stream};
use bursar::telemetry::Metrics;
use common::*;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

const CAUGHT_UP: Duration = Duration::from_secs(240);

/// Produces `lines` in transactions of `per_txn` records; every `abort_every`-th
/// transaction is aborted after its records were written. Returns the lines committed.
fn produce_transactionally(bootstrap: &str, topic: &str, lines: &[(Option<String>, Option<String>)], per_txn: usize, abort_every: usize) -> usize {
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("transactional.id", format!("{topic}-writer"))
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    p.init_transactions(Duration::from_secs(30)).unwrap();
    let mut committed = 0;
    for (i, chunk) in lines.chunks(per_txn).enumerate() {
        p.begin_transaction().unwrap();
        for (key, value) in chunk {
            let mut r: BaseRecord<'_, str, str> = BaseRecord::to(topic);
            if let Some(k) = key {
                r = r.key(k.as_str());
            } else {
                r = r.partition(0);
            }
            if let Some(v) = value {
                r = r.payload(v.as_str());
            }
            while let Err((_, back)) = p.send(r) {
                p.poll(Duration::from_millis(10));
                r = back;
            }
        }
        p.flush(Duration::from_secs(30)).unwrap();
        if abort_every > 0 && i % abort_every == abort_every - 1 {
            p.abort_transaction(Duration::from_secs(30)).unwrap();
        } else {
            p.commit_transaction(Duration::from_secs(30)).unwrap();
            committed += chunk.len();
        }
    }
    committed
}

/// The engine over the records a read_committed reader sees on the usage
/// topic (their real partitions and offsets), without end of input.
fn reference_from_topic(config: &Config) -> Vec<Output> {
    let mut engine = Engine::new(config.engine().unwrap());
    for r in consume_all(&config.bootstrap_servers().unwrap(), &config.topics.entitlements, true, READ_LIMIT) {
        if let Ok(e) = bursar::decode::entitlement::decode_entitlement_kafka(r.key.as_deref(), r.value.as_deref()) {
            engine.apply_entitlement(e);
        }
    }
    let mut out = Vec::new();
    for r in consume_all(&config.bootstrap_servers().unwrap(), &config.topics.usage, true, READ_LIMIT) {
        let headers: Vec<(&str, Option<&[u8]>)> = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        let record = InputRecord { partition: r.partition, offset: r.offset, line: None, key: r.key.as_deref(), value: r.value.as_deref(), headers: &headers, timestamp: None };
        process_record(&mut engine, &record, &mut out);
    }
    out
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

/// Runs the processor in this process until `done` holds (or `timeout`), then stops it gracefully.
fn run_in_process(config: &Config, metrics: Arc<Metrics>, timeout: Duration, mut step: impl FnMut(&Metrics) -> bool) -> Result<(), kafka::KafkaError> {
    let shutdown = Arc::new(AtomicBool::new(false));
    let (c, s, m) = (config.clone(), shutdown.clone(), metrics.clone());
    let handle = std::thread::spawn(move || kafka::run(c, s, m));
    let deadline = Instant::now() + timeout;
    while !handle.is_finished() && !step(&metrics) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    shutdown.store(true, Ordering::SeqCst);
    handle.join().expect("the processor thread panicked")
}

#[test]
fn usage_written_in_transactions_is_processed_to_its_end_without_the_aborted_records() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(5_000, 100, 23);
    let s = Setup::new(&b, "txn-input", 3, "");
    let ent_records: Vec<(Option<String>, Option<String>)> = ents
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["credential"].as_str().map(str::to_string), Some(l.clone()))
        })
        .collect();
    produce_transactionally(&b, &s.config.topics.entitlements, &ent_records, 40, 0);
    let usage_records: Vec<(Option<String>, Option<String>)> = usage.iter().map(|l| (key_hint(l.as_bytes()), Some(l.clone()))).collect();
    let committed = produce_transactionally(&b, &s.config.topics.usage, &usage_records, 250, 4);
    assert!(committed < usage.len(), "some transactions should be aborted");

    let metrics = Arc::new(Metrics::new());
    let result = run_in_process(&s.config, metrics, CAUGHT_UP, |_| s.wait_caught_up(Duration::ZERO));
    assert!(result.is_ok(), "the processor stopped: {result:?}");
    assert!(s.wait_caught_up(Duration::ZERO), "committed offsets must reach the end, past the last transaction marker");

    let reference = reference_from_topic(&s.config);
    let expected = findings_by_key(&reference);
    assert!(expected.values().map(Vec::len).sum::<usize>() > 20, "the workload should produce findings");
    let live = consume_all(&b, &s.config.topics.findings, false, READ_LIMIT);
    assert_same_groups(&by_key(&live), &expected, "live findings differ from the engine over the committed records");

    let file = s.dir.path().join("replayed.jsonl");
    let args = ReplayTopicArgs {
        topic: s.config.topics.usage.clone(),
        from: ReplayFrom::Earliest,
        until: None,
        topics: Default::default(),
        files: vec![(Stream::Findings, Box::new(JsonLines::new("replayed findings", Box::new(std::fs::File::create(&file).unwrap()))))],
        force_live: false,
        progress: false,
    };
    let summary = kafka::replay_topic(&s.config, args).expect("replay --topic must end at the last transaction marker");
    assert_eq!(summary.records, committed as u64);
    let mut replayed: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
    for line in std::fs::read_to_string(&file).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = v["unmapped"]["bursar"]["credential"].as_str().unwrap_or_default().as_bytes().to_vec();
        replayed.entry(key).or_default().push(line.as_bytes().to_vec());
    }
    assert_same_groups(&replayed, &expected, "replay --topic differs from the engine over the committed records");
}

#[test]
fn exactly_once_aborts_refused_transactions_rewinds_and_still_delivers_each_finding_once() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(8_000, 150, 29);
    let s = Setup::new(&b, "txn-abort", 2, "guarantee = \"exactly_once\"");
    produce(&s.config, &ents, &usage);
    // Every batch of findings is now too large for the topic (transaction
    // markers, about 80 bytes, still fit): each transaction fails.
    set_topic_config(&b, &s.config.topics.findings, "max.message.bytes", "200");
    let metrics = Arc::new(Metrics::new());
    let aborted = |m: &Metrics| m.render().lines().any(|l| l.starts_with("bursar_transactions_aborted_total ") && !l.ends_with(" 0"));
    let mut restored = false;
    let result = run_in_process(&s.config, metrics.clone(), CAUGHT_UP, |m| {
        if !restored && aborted(m) {
            set_topic_config(&b, &s.config.topics.findings, "max.message.bytes", "1048588");
            restored = true;
        }
        restored && s.wait_caught_up(Duration::ZERO)
    });
    assert!(restored, "no transaction was aborted: the test proves nothing");
    assert!(result.is_ok(), "the processor stopped instead of rewinding: {result:?}");
    assert!(s.wait_caught_up(Duration::ZERO), "the processor did not catch up");

    let reference = reference(&s.config.engine().unwrap(), 2, &ents.join("\n"), &usage);
    let live = consume_all(&b, &s.config.topics.findings, true, READ_LIMIT);
    assert_same_groups(&by_key(&live), &findings_by_key(&reference), "a read_committed reader must see each finding once, in order");
}

#[test]
fn exactly_once_with_two_instances_one_killed_mid_stream_still_delivers_each_finding_once() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(40_000, 300, 31);
    let s = Setup::new(&b, "txn-scale", 4, &format!("guarantee = \"exactly_once\"\n{ORIGIN_RULES}"));
    // A dead member's partitions move after 6 s; its open transaction is aborted after 10 s.
    let text = std::fs::read_to_string(&s.path).unwrap() + "\"session.timeout.ms\" = 6000\n\"heartbeat.interval.ms\" = 1000\n\"transaction.timeout.ms\" = 10000\n";
    std::fs::write(&s.path, text).unwrap();
    produce(&s.config, &ents, &usage);
    let mut a = s.spawn("a");
    let mut second = s.spawn("b");
    std::thread::sleep(Duration::from_millis(2_000));
    crash(&mut a);
    assert!(!s.wait_caught_up(Duration::ZERO), "the instance was killed after the input ended: the test proves nothing");
    assert!(s.wait_caught_up(CAUGHT_UP), "the surviving instance did not take over");
    terminate(&mut second);
    let reference = reference(&s.config.engine().unwrap(), 4, &ents.join("\n"), &usage);
    assert_origin_rules_fire(&reference);
    let live = consume_all(&b, &s.config.topics.findings, true, READ_LIMIT);
    assert_same_groups(&by_key(&live), &findings_by_key(&reference), "a read_committed reader must see each finding once, in order");
}
