//! `bursar run`: the live processor (SPEC §5). One consumer-group member per
//! instance; batches of records go through the engine, then:
//!
//! - `at_least_once`: outputs produced and acknowledged, then the changelog
//!   (dirty credentials, then the partition record) acknowledged, then the
//!   input offsets committed. A crash anywhere re-sends byte-identical outputs
//!   at worst; restored state skips records it already includes.
//! - `exactly_once`: outputs, changelog and input offsets in one Kafka
//!   transaction (KIP-447 group metadata); readers use read_committed.
//!
//! Rebalances: records are buffered while a batch fills and processed after,
//! so a revoked partition's buffered records are dropped unprocessed (the new
//! owner starts from the committed offset with the changelog's state). A newly
//! assigned partition is restored from the changelog before its first record.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::producer::Producer;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Message};

use super::batch::Batch;
use super::changelog::{check_co_partitioned, ChangelogReader};
use super::entitlements::EntitlementFollower;
use super::output::{Delivery, OutputProducer, OutputTopics};
use super::KafkaError;
use crate::config::{Config, Guarantee, KafkaConfig};
use crate::engine::Engine;
use crate::telemetry::Metrics;

/// Partitions assigned and revoked since the loop last looked.
pub(super) struct Tracker {
    assigned: Mutex<BTreeSet<i32>>,
    revoked: Mutex<BTreeSet<i32>>,
    revoke_seen: AtomicBool,
    /// Where the consumer lag from librdkafka's statistics goes.
    metrics: Arc<Metrics>,
    topic: String,
}

impl ClientContext for Tracker {
    /// librdkafka's statistics (`statistics.interval.ms`): the lag of each
    /// assigned usage partition (end, or last stable offset, minus committed).
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else { return };
        for (p, s) in &topic.partitions {
            if *p >= 0 && s.consumer_lag >= 0 {
                self.metrics.observe_lag(*p, s.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for Tracker {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            if let Ok(mut r) = self.revoked.lock() {
                r.extend(tpl.elements().iter().map(|e| e.partition()));
            }
            self.revoke_seen.store(true, Ordering::SeqCst);
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            if let Ok(mut a) = self.assigned.lock() {
                a.extend(tpl.elements().iter().map(|e| e.partition()));
            }
            tracing::info!(partitions = ?tpl.elements().iter().map(|e| e.partition()).collect::<Vec<_>>(), "Partitions assigned.");
        }
    }
}

/// The processor's clients and state.
pub(super) struct Processor {
    pub(super) config: Config,
    pub(super) engine: Engine,
    pub(super) consumer: BaseConsumer<Tracker>,
    pub(super) producer: OutputProducer,
    pub(super) delivery: Delivery,
    pub(super) follower: EntitlementFollower,
    pub(super) changelog: ChangelogReader,
    pub(super) topics: OutputTopics,
    /// Partitions whose state is in the engine (restored from the changelog).
    pub(super) restored: BTreeSet<i32>,
    /// The last offset committed per restored partition (to commit positions
    /// that moved past transaction markers only).
    pub(super) committed: BTreeMap<i32, i64>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) exactly_once: bool,
    /// Transactions aborted in a row (exactly_once); reset by a commit.
    pub(super) aborts: u32,
}

/// Runs until `shutdown` is set (SIGTERM/SIGINT): finishes the batch, flushes, commits.
pub fn run(config: Config, shutdown: Arc<AtomicBool>, metrics: Arc<Metrics>) -> Result<(), KafkaError> {
    let runtime = config.runtime()?;
    let mut p = Processor::new(config, metrics)?;
    let (batch_size, linger) = (runtime.batch_size, runtime.batch_linger);
    while !shutdown.load(Ordering::SeqCst) {
        p.follower.follow(&mut p.engine)?;
        let batch = p.fill(batch_size, linger, &shutdown);
        p.handle_revocations();
        let batch: Batch = batch.into_iter().filter(|(m, _)| !p.consumer.context().revoked_contains(m.partition())).collect();
        p.consumer.context().clear_revoked();
        p.process_batch(batch)?;
    }
    tracing::info!("Shutting down: last batch committed.");
    Ok(())
}

/// The producer of outputs and changelog (`KafkaConfig::output_producer`).
/// Fails with a clear message when the broker refuses transactions.
fn output_producer(kafka: &KafkaConfig) -> Result<(OutputProducer, Delivery), KafkaError> {
    let delivery = Delivery::default();
    let producer: OutputProducer = kafka.output_producer().create_with_context(delivery.clone()).map_err(KafkaError::client("creating the producer"))?;
    if kafka.guarantee == Guarantee::ExactlyOnce {
        producer.init_transactions(Duration::from_secs(60)).map_err(|e| match e.rdkafka_error_code() {
            Some(RDKafkaErrorCode::OperationTimedOut | RDKafkaErrorCode::AllBrokersDown | RDKafkaErrorCode::BrokerTransportFailure) => {
                KafkaError::Client { context: "initialising transactions".into(), source: e }
            }
            _ => KafkaError::NoTransactions(e.to_string()),
        })?;
    }
    Ok((producer, delivery))
}

impl Tracker {
    fn revoked_contains(&self, partition: i32) -> bool {
        self.revoked.lock().map(|r| r.contains(&partition)).unwrap_or(false)
    }

    fn clear_revoked(&self) {
        if let Ok(mut r) = self.revoked.lock() {
            r.clear();
        }
    }
}

impl Processor {
    fn new(config: Config, metrics: Arc<Metrics>) -> Result<Processor, KafkaError> {
        let kafka = config.kafka_client()?;
        let exactly_once = kafka.guarantee == Guarantee::ExactlyOnce;
        let mut engine = Engine::new(config.engine()?).with_changelog();
        // Static membership (KIP-345): a restarted instance takes its partitions
        // back at once instead of waiting out a rebalance.
        let consumer: BaseConsumer<Tracker> = kafka.processor_consumer().create_with_context(Tracker {
            assigned: Mutex::default(),
            revoked: Mutex::default(),
            revoke_seen: AtomicBool::new(false),
            metrics: metrics.clone(),
            topic: config.topics.usage.clone(),
        })
        .map_err(KafkaError::client("creating the usage consumer"))?;
        // Fail at once with a clear message when the usage topic is missing
        // (subscribing would wait) or the changelog is not co-partitioned with it.
        check_co_partitioned(&consumer, &config)?;
        let (producer, delivery) = output_producer(&kafka)?;
        tracing::debug!("Reading the entitlements table.");
        let mut follower = EntitlementFollower::new(&config, true)?;
        follower.catch_up(&mut engine)?;
        consumer.subscribe(&[config.topics.usage.as_str()]).map_err(KafkaError::client("subscribing to the usage topic"))?;
        tracing::info!(guarantee = config.guarantee.as_str(), group = %config.group_id, topic = %config.topics.usage, "Processing usage.");
        let topics = OutputTopics::live(&config.topics);
        let changelog = ChangelogReader::new(&config)?;
        Ok(Processor { config, engine, consumer, producer, delivery, follower, changelog, topics, restored: BTreeSet::new(), committed: BTreeMap::new(), metrics, exactly_once, aborts: 0 })
    }

    /// Polls records until the batch is full, the linger passed, or a rebalance revoked partitions.
    fn fill(&mut self, batch_size: usize, linger: Duration, shutdown: &AtomicBool) -> Batch {
        let mut batch = Vec::new();
        let deadline = Instant::now() + linger;
        while batch.len() < batch_size && !shutdown.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match self.consumer.poll(deadline - now) {
                Some(Ok(m)) => batch.push((m.detach(), Instant::now())),
                Some(Err(e)) => tracing::warn!(error = %e, "Consumer error."),
                None => {}
            }
            if self.consumer.context().revoke_seen.swap(false, Ordering::SeqCst) {
                break;
            }
        }
        batch
    }

    /// Forgets revoked partitions (their new owner restores them).
    fn handle_revocations(&mut self) {
        let revoked: Vec<i32> = self.consumer.context().revoked.lock().map(|r| r.iter().copied().collect()).unwrap_or_default();
        for p in revoked {
            if self.restored.remove(&p) {
                tracing::info!(partition = p, "Partition revoked.");
            }
            self.committed.remove(&p);
            self.engine.drop_partition(p);
            self.metrics.forget_lag(p);
        }
        if let Ok(mut a) = self.consumer.context().assigned.lock() {
            for p in std::mem::take(&mut *a) {
                self.restored.remove(&p);
                self.committed.remove(&p);
            }
        }
    }
}
