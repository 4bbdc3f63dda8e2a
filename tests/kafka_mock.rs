//! Error paths no real broker produces on demand, on librdkafka's mock
//! cluster: retriable produce errors lose nothing; a produce error that does
//! not go away stops the processor before it commits any offset.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bursar::config::Config;
use bursar::emit;
use bursar::engine::output::Output;
use bursar::runtime::kafka;
use bursar::telemetry::Metrics;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};

fn setup(mock: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>, name: &str) -> Config {
    for t in ["usage", "ents", "findings", "windows", "balances", "rejected", "changelog"] {
        mock.create_topic(&format!("{name}.{t}"), 1, 1).unwrap();
    }
    Config::parse(&format!(
        "group_id = \"{name}\"\ninstance_id = \"m\"\nbatch_size = 200\nbatch_linger = \"20ms\"\n\
         [topics]\nusage = \"{name}.usage\"\nentitlements = \"{name}.ents\"\nfindings = \"{name}.findings\"\nwindows = \"{name}.windows\"\n\
         balances = \"{name}.balances\"\nrejected = \"{name}.rejected\"\nchangelog = \"{name}.changelog\"\npartitions = 1\n\
         [kafka]\n\"bootstrap.servers\" = \"{}\"\n\"message.timeout.ms\" = 10000\n",
        mock.bootstrap_servers()
    ))
    .unwrap()
}

fn committed(config: &Config) -> i64 {
    let c: BaseConsumer = ClientConfig::new().set("bootstrap.servers", config.bootstrap_servers().unwrap()).set("group.id", &config.group_id).create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&config.topics.usage, 0);
    c.committed_offsets(tpl, Duration::from_secs(5))
        .ok()
        .and_then(|t| t.elements().first().map(|e| if let Offset::Offset(o) = e.offset() { o } else { 0 }))
        .unwrap_or(0)
}

/// Runs the processor in this process until `done` holds or `timeout` passes, then stops it.
fn run_until(config: &Config, timeout: Duration, done: impl Fn() -> bool) -> Result<(), kafka::KafkaError> {
    let shutdown = Arc::new(AtomicBool::new(false));
    let (c, s) = (config.clone(), shutdown.clone());
    let handle = std::thread::spawn(move || kafka::run(c, s, Arc::new(Metrics::new())));
    let deadline = Instant::now() + timeout;
    while !handle.is_finished() && !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    shutdown.store(true, Ordering::SeqCst);
    handle.join().expect("the processor thread panicked")
}

#[test]
fn retriable_produce_errors_lose_no_output() {
    let mock = MockCluster::new(1).unwrap();
    let config = setup(&mock, "retry");
    let (ents, usage) = common::workload(2_000, 50, 3);
    common::produce(&config, &ents, &usage);
    mock.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION; 4]);
    let result = run_until(&config, Duration::from_secs(90), || committed(&config) >= usage.len() as i64);
    assert!(result.is_ok(), "the processor stopped: {result:?}");
    assert_eq!(committed(&config), usage.len() as i64, "not every record was committed");
    let reference = common::reference(&config.engine().unwrap(), 1, &ents.join("\n"), &usage);
    let expected: BTreeSet<Vec<u8>> = reference.iter().filter_map(|o| if let Output::Finding(f) = o { Some(emit::finding_json(f).into_bytes()) } else { None }).collect();
    let got: BTreeSet<Vec<u8>> = common::consume_all(&config.bootstrap_servers().unwrap(), &config.topics.findings, false, common::READ_LIMIT).into_iter().filter_map(|r| r.value).collect();
    assert!(!expected.is_empty());
    assert!(got == expected, "{} findings expected, {} received", expected.len(), got.len());
}

#[test]
fn a_produce_error_that_persists_stops_the_processor_before_any_commit() {
    let mock = MockCluster::new(1).unwrap();
    let config = setup(&mock, "fatal");
    let (ents, usage) = common::workload(500, 20, 4);
    common::produce(&config, &ents, &usage);
    mock.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 1000]);
    let result = run_until(&config, Duration::from_secs(60), || false);
    mock.clear_request_errors(RDKafkaApiKey::Produce);
    let err = result.expect_err("undelivered outputs must stop the processor");
    assert!(matches!(err, kafka::KafkaError::Run(kafka::RunError::Undelivered { .. })), "{err}");
    assert_eq!(committed(&config), 0, "offsets were committed although outputs were not acknowledged");
}
