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

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{Headers, OwnedMessage};
use rdkafka::producer::Producer;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use super::changelog;
use super::entitlements::EntitlementFollower;
use super::output::{flush, send_output, Delivery, OutputProducer, OutputTopics};
use super::{client_config, KafkaError};
use crate::config::{Config, Guarantee};
use crate::engine::Engine;
use crate::model::time::parse_duration;
use crate::pipeline::{process_record, InputRecord};
use crate::telemetry::Metrics;

/// Partitions assigned and revoked since the loop last looked.
#[derive(Default)]
struct Tracker {
    assigned: Mutex<BTreeSet<i32>>,
    revoked: Mutex<BTreeSet<i32>>,
    revoke_seen: AtomicBool,
}

impl ClientContext for Tracker {}

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
struct Processor {
    config: Config,
    engine: Engine,
    consumer: BaseConsumer<Tracker>,
    producer: OutputProducer,
    delivery: Delivery,
    follower: EntitlementFollower,
    topics: OutputTopics,
    restored: BTreeSet<i32>,
    metrics: Arc<Metrics>,
    exactly_once: bool,
}

/// Runs until `shutdown` is set (SIGTERM/SIGINT): finishes the batch, flushes, commits.
pub fn run(config: Config, shutdown: Arc<AtomicBool>, metrics: Arc<Metrics>) -> Result<(), KafkaError> {
    let mut p = Processor::new(config, metrics)?;
    let batch_size = p.config.batch_size;
    let linger = Duration::from_millis(parse_duration(&p.config.batch_linger).unwrap_or(100).max(1) as u64);
    let mut last_lag = Instant::now();
    while !shutdown.load(Ordering::SeqCst) {
        p.follower.follow(&mut p.engine)?;
        let batch = p.fill(batch_size, linger, &shutdown);
        p.handle_revocations();
        let batch: Vec<(OwnedMessage, Instant)> = batch.into_iter().filter(|(m, _)| !p.consumer.context().revoked_contains(m.partition())).collect();
        p.consumer.context().clear_revoked();
        if !batch.is_empty() {
            p.process_batch(batch)?;
        }
        if last_lag.elapsed() > Duration::from_secs(5) {
            p.observe_lag();
            last_lag = Instant::now();
        }
    }
    tracing::info!("Shutting down: last batch committed.");
    Ok(())
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
        let exactly_once = config.guarantee == Guarantee::ExactlyOnce;
        // Static membership (KIP-345): a restarted instance takes its partitions
        // back at once instead of waiting out a rebalance.
        let member = format!("{}-{}", config.group_id, config.instance_id());
        let mut engine = Engine::new(config.engine()?).with_changelog();
        let consumer: BaseConsumer<Tracker> = client_config(
            &config,
            &[
                ("group.id", config.group_id.as_str()),
                ("group.instance.id", member.as_str()),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("auto.offset.reset", "earliest"),
                ("fetch.queue.backoff.ms", "5"),
                ("isolation.level", "read_committed"),
            ],
        )?
        .create_with_context(Tracker::default())
        .map_err(KafkaError::client("creating the usage consumer"))?;
        let transactional_id = member.clone();
        let mut producer_config = client_config(
            &config,
            &[("enable.idempotence", "true"), ("acks", "all"), ("linger.ms", "5"), ("compression.type", "lz4"), ("message.timeout.ms", "60000"), ("partitioner", "murmur2_random")],
        )?;
        if exactly_once {
            producer_config.set("transactional.id", &transactional_id);
        }
        let delivery = Delivery::default();
        let producer: OutputProducer = producer_config.create_with_context(delivery.clone()).map_err(KafkaError::client("creating the producer"))?;
        if exactly_once {
            producer.init_transactions(Duration::from_secs(60)).map_err(|e| KafkaError::NoTransactions(e.to_string()))?;
        }
        let mut follower = EntitlementFollower::new(&config, true)?;
        follower.catch_up(&mut engine)?;
        // Fail with a clear message when the usage topic is missing (subscribing would wait).
        super::entitlements::partitions_of(&consumer, &config.topics.usage)?;
        consumer.subscribe(&[config.topics.usage.as_str()]).map_err(KafkaError::client("subscribing to the usage topic"))?;
        tracing::info!(guarantee = ?config.guarantee, group = %config.group_id, topic = %config.topics.usage, "Processing usage.");
        let topics = OutputTopics::live(&config.topics);
        Ok(Processor { config, engine, consumer, producer, delivery, follower, topics, restored: BTreeSet::new(), metrics, exactly_once })
    }

    /// Polls records until the batch is full, the linger passed, or a rebalance revoked partitions.
    fn fill(&mut self, batch_size: usize, linger: Duration, shutdown: &AtomicBool) -> Vec<(OwnedMessage, Instant)> {
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
            self.engine.drop_partition(p);
        }
        if let Ok(mut a) = self.consumer.context().assigned.lock() {
            for p in std::mem::take(&mut *a) {
                self.restored.remove(&p);
            }
        }
    }

    fn process_batch(&mut self, batch: Vec<(OwnedMessage, Instant)>) -> Result<(), KafkaError> {
        let partitions: BTreeSet<i32> = batch.iter().map(|(m, _)| m.partition()).collect();
        for &p in &partitions {
            if !self.restored.contains(&p) {
                let n = changelog::restore(&self.config, &mut self.engine, p, self.exactly_once)?;
                tracing::info!(partition = p, records = n, "State restored from the changelog.");
                self.restored.insert(p);
            }
        }
        if self.exactly_once {
            self.producer.begin_transaction().map_err(KafkaError::client("beginning a transaction"))?;
        }
        let mut outputs = Vec::new();
        let mut next_offsets: BTreeMap<i32, i64> = BTreeMap::new();
        for (m, _) in &batch {
            let headers: Vec<(&str, &[u8])> = m.headers().map(|h| h.iter().filter_map(|x| x.value.map(|v| (x.key, v))).collect()).unwrap_or_default();
            let record = InputRecord { partition: m.partition(), offset: m.offset(), line: None, key: m.key(), value: m.payload(), headers: &headers };
            process_record(&mut self.engine, &record, &mut outputs);
            for o in outputs.drain(..) {
                send_output(&self.producer, &self.topics, &o)?;
            }
            next_offsets.insert(m.partition(), m.offset() + 1);
        }
        let touched: Vec<i32> = partitions.iter().copied().collect();
        let mut tpl = TopicPartitionList::new();
        for (p, o) in &next_offsets {
            tpl.add_partition_offset(&self.config.topics.usage, *p, Offset::Offset(*o)).map_err(KafkaError::client("building offsets"))?;
        }
        if self.exactly_once {
            changelog::write(&self.producer, &self.config.topics.changelog, &mut self.engine, &touched)?;
            let group = self.consumer.group_metadata().ok_or_else(|| KafkaError::Other("no consumer group metadata".into()))?;
            self.producer.send_offsets_to_transaction(&tpl, &group, Duration::from_secs(60)).map_err(KafkaError::client("sending offsets to the transaction"))?;
            self.producer.commit_transaction(Duration::from_secs(60)).map_err(KafkaError::client("committing the transaction"))?;
            flush(&self.producer, &self.delivery)?;
        } else {
            flush(&self.producer, &self.delivery)?;
            changelog::write(&self.producer, &self.config.topics.changelog, &mut self.engine, &touched)?;
            flush(&self.producer, &self.delivery)?;
            if let Err(e) = self.consumer.commit(&tpl, CommitMode::Sync) {
                // Not fatal: the next owner resumes from the last commit and the changelog skips what it includes.
                tracing::warn!(error = %e, "Offset commit failed.");
            }
        }
        for (_, consumed) in &batch {
            self.metrics.observe_latency(consumed.elapsed().as_micros() as u64);
        }
        self.metrics.observe_engine(self.engine.stats(), self.engine.credentials_in_state());
        Ok(())
    }

    fn observe_lag(&self) {
        let Ok(position) = self.consumer.position() else { return };
        for e in position.elements() {
            if let (Offset::Offset(pos), Ok((_, high))) = (e.offset(), self.consumer.fetch_watermarks(e.topic(), e.partition(), Duration::from_secs(5))) {
                self.metrics.observe_lag(e.partition(), high - pos);
            }
        }
    }
}
