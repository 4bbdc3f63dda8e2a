//! The live processor's state, in one place: its clients, the engine, which
//! partitions it holds, what it last committed, and how it commits
//! (docs/semantics.md "Live processing").
//!
//! A batch: partitions seen for the first time are restored from the
//! changelog, the records go through the engine (under at_least_once while
//! the batch fills, `processor/fill.rs`), the outputs and the changelog are
//! sent, and the guarantee's [`Commit`] makes them durable with the input
//! offsets. Offsets committed are the consumer's positions: past the batch's
//! last record and past any transaction marker after it, so a usage topic
//! written by a transactional producer ends with no lag.
//!
//! Rebalances end the batch: a revoked partition's records are dropped from
//! it and its state with them (the new owner starts from the committed
//! offset with the changelog's state; see `fill.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::changelog::{self, ChangelogReader};
use super::commit::{self, Commit, Committed};
use super::entitlements::EntitlementFollower;
use super::error::{KafkaError, RunError, SetupError};
use super::metadata::{check_co_partitioned, positions};
use super::outage::{transient_code, PROBE_TIMEOUT};
use super::producer::OutputProducer;
use super::rebalance::Tracker;
use super::topic_sink::TopicSink;
use super::headers_of;
use crate::config::{Config, Guarantee, Topics};
use crate::engine::output::Output;
use crate::engine::Engine;
use crate::pipeline::{apply_record, decode_records, event_lead, InputRecord};
use crate::sink::Sinks;
use crate::telemetry::{BatchCommitted, ConsumerError, InternalEvent, Metrics, PartitionRevoked, PartitionsRestored, ProcessingStarted, Readiness, RecordRejected};

mod fill;
pub(super) use fill::Batch;

/// The processor: one consumer-group member.
pub(super) struct Processor {
    topics: Topics,
    engine: Engine,
    consumer: BaseConsumer<Tracker>,
    producer: Arc<OutputProducer>,
    /// The four output streams, each to its topic through `producer`.
    outputs: Sinks,
    commit: Box<dyn Commit>,
    follower: EntitlementFollower,
    changelog: ChangelogReader,
    /// Partitions whose state is in the engine (restored from the changelog).
    restored: BTreeSet<i32>,
    /// The last offset committed per restored partition (to commit positions
    /// that moved past transaction markers only).
    committed: BTreeMap<i32, i64>,
    /// Assigned partitions not restored yet (restored with the next batch).
    pending: BTreeSet<i32>,
    /// The last error of a broker outage the consumer reported since the run loop looked.
    broker_error: Option<String>,
    /// When the last batch stopped filling: the next batch's linger counts from it.
    closed: Option<Instant>,
    /// Whether records go through the engine as the batch fills
    /// (at_least_once) or once it is complete (exactly_once: `fill.rs`).
    streaming: bool,
    ready: Arc<Readiness>,
    metrics: Arc<Metrics>,
}

impl Processor {
    /// Connects, checks the topics, loads the entitlements table and subscribes.
    pub(super) fn new(config: &Config, metrics: Arc<Metrics>, ready: Arc<Readiness>) -> Result<Processor, KafkaError> {
        ready.set(false);
        let kafka = config.kafka_client()?;
        let topics = config.topics.clone();
        let mut engine = Engine::new(config.engine()?).with_changelog();
        // Static membership (KIP-345): a restarted instance takes its partitions
        // back at once instead of waiting out a rebalance.
        let consumer: BaseConsumer<Tracker> =
            kafka.processor_consumer().create_with_context(Tracker::new(&topics.usage, metrics.clone())).map_err(SetupError::client("creating the usage consumer"))?;
        // Fail at once with a clear message when the usage topic is missing
        // (subscribing would wait) or the changelog is not co-partitioned with it.
        check_co_partitioned(&consumer, &topics)?;
        let producer = Arc::new(OutputProducer::for_outputs(&kafka)?);
        let mut follower = EntitlementFollower::new(&kafka, &topics.entitlements, true, metrics.clone())?;
        follower.catch_up(&mut engine)?;
        consumer.subscribe(&[topics.usage.as_str()]).map_err(SetupError::client("subscribing to the usage topic"))?;
        ProcessingStarted { guarantee: kafka.guarantee, group: &kafka.group_id, topic: &topics.usage }.emit(&metrics);
        let changelog = ChangelogReader::new(&kafka, &topics.changelog)?;
        Ok(Processor {
            outputs: TopicSink::live(&producer, &topics),
            commit: commit::for_guarantee(kafka.guarantee, metrics.clone()),
            topics,
            engine,
            consumer,
            producer,
            follower,
            changelog,
            restored: BTreeSet::new(),
            committed: BTreeMap::new(),
            pending: BTreeSet::new(),
            broker_error: None,
            closed: None,
            streaming: kafka.guarantee == Guarantee::AtLeastOnce,
            ready,
            metrics,
        })
    }

    /// The last broker-outage error the consumer reported since the last call.
    pub(super) fn take_broker_error(&mut self) -> Option<String> {
        self.broker_error.take()
    }

    /// Asks the broker for the usage topic's metadata (is it back?).
    pub(super) fn probe(&self) -> Result<(), RunError> {
        self.consumer.fetch_metadata(Some(&self.topics.usage), PROBE_TIMEOUT).map(|_| ()).map_err(RunError::client("probing the broker"))
    }

    /// Applies new entitlement records.
    pub(super) fn follow_entitlements(&mut self) -> Result<(), KafkaError> {
        Ok(self.follower.follow(&mut self.engine)?)
    }

    /// A consumer error: counted and logged; one of a broker outage is
    /// noted for the run loop; a fenced or failed consumer is an error (the
    /// run loop rebuilds the clients).
    fn consumer_error(&mut self, e: &rdkafka::error::KafkaError) -> Result<(), RunError> {
        ConsumerError { error: e }.emit(&self.metrics);
        if let Some((code, reason)) = self.consumer.client().fatal_error() {
            return Err(RunError::Fenced(format!("{code:?}: {reason}")));
        }
        if transient_code(e.rdkafka_error_code()) {
            self.broker_error = Some(e.to_string());
        }
        Ok(())
    }

    /// Forgets revoked partitions (their new owner restores them), and the
    /// state of newly assigned ones (restored before their first record).
    fn handle_revocations(&mut self) {
        for p in self.consumer.context().revoked() {
            if self.restored.remove(&p) {
                PartitionRevoked { partition: p }.emit(&self.metrics);
            }
            self.committed.remove(&p);
            self.pending.remove(&p);
            self.engine.drop_partition(p);
            self.metrics.forget_lag(p);
        }
        for p in self.consumer.context().take_assigned() {
            self.restored.remove(&p);
            self.committed.remove(&p);
            self.pending.insert(p);
        }
    }

    /// Processes the records of one batch that `fill` did not already run
    /// through the engine, and commits the batch (which may be empty: then
    /// only positions that moved past transaction markers are committed).
    /// Partitions assigned since the last batch are restored first, with
    /// or without records, so readiness follows the assignment.
    pub(super) fn process_batch(&mut self, batch: Batch) -> Result<(), KafkaError> {
        let partitions: BTreeSet<i32> = batch.records.iter().map(|m| m.partition()).collect();
        self.restore_new(&partitions)?;
        let offsets = self.offsets_to_commit(&batch);
        if batch.records.is_empty() && offsets.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        match self.try_batch(&batch, &partitions, &offsets) {
            Ok((Committed::Yes, changelog)) => {
                self.committed.extend(offsets);
                self.batch_done(&batch, changelog, started);
            }
            Ok((Committed::No, changelog)) => self.batch_done(&batch, changelog, started),
            Err(e) => {
                self.commit.recover(&self.producer, e)?;
                self.rewind(&batch, &partitions)?;
            }
        }
        Ok(())
    }

    /// Restores the state of `partitions` and of those assigned since the
    /// last batch, where the engine does not hold it yet.
    fn restore_new(&mut self, partitions: &BTreeSet<i32>) -> Result<(), KafkaError> {
        let new: Vec<i32> = partitions.union(&self.pending).copied().filter(|p| !self.restored.contains(p)).collect();
        if !new.is_empty() {
            let records = self.changelog.restore(&mut self.engine, &new)?;
            PartitionsRestored { partitions: &new, records }.emit(&self.metrics);
            self.restored.extend(new);
        }
        self.pending.clear();
        self.ready.set(self.consumer.context().is_assigned());
        Ok(())
    }

    /// Runs the records polled since the last call through the engine and
    /// sends their outputs, while the batch fills (at_least_once only: see
    /// `fill.rs`).
    fn stream(&mut self, batch: &mut Batch) -> Result<(), KafkaError> {
        let fresh = &batch.records[batch.processed..];
        let partitions: BTreeSet<i32> = fresh.iter().map(|m| m.partition()).collect();
        self.restore_new(&partitions)?;
        self.produce_outputs(fresh)?;
        batch.processed = batch.records.len();
        Ok(())
    }

    fn batch_done(&self, batch: &Batch, changelog: usize, started: Instant) {
        BatchCommitted { records: batch.records.len(), changelog, took: started.elapsed(), consumed: &batch.consumed }.emit(&self.metrics);
        self.metrics.observe_engine(self.engine.stats(), self.engine.credentials_in_state());
    }

    /// Every step of a batch after the restore: outputs, changelog, commit.
    /// Returns whether the offsets were committed and the changelog records sent.
    fn try_batch(&mut self, batch: &Batch, partitions: &BTreeSet<i32>, offsets: &BTreeMap<i32, i64>) -> Result<(Committed, usize), KafkaError> {
        let tpl = self.offset_list(offsets)?;
        self.commit.begin(&self.producer)?;
        self.produce_outputs(&batch.records[batch.processed..])?;
        self.commit.outputs_sent(&self.producer)?;
        let touched: Vec<i32> = partitions.iter().copied().collect();
        let changelog = changelog::write(&self.producer, &self.topics.changelog, &mut self.engine, &touched)?;
        Ok((self.commit.commit_batch(&self.producer, &self.consumer, &tpl)?, changelog))
    }

    /// Runs `records` through the engine and writes every output.
    fn produce_outputs(&mut self, records: &[OwnedMessage]) -> Result<(), KafkaError> {
        let mut outputs = Vec::new();
        let headers: Vec<_> = records.iter().map(headers_of).collect();
        let records: Vec<InputRecord<'_>> = records
            .iter()
            .zip(&headers)
            .map(|(m, h)| InputRecord { partition: m.partition(), offset: m.offset(), line: None, key: m.key(), value: m.payload(), headers: h, timestamp: m.timestamp().to_millis() })
            .collect();
        let decoded = decode_records(&records, self.engine.config());
        for (r, d) in records.iter().zip(decoded) {
            apply_record(&mut self.engine, r.partition, r.offset, d, &mut outputs);
            for o in outputs.drain(..) {
                if let Output::Rejected(r) = &o {
                    RecordRejected { kind: r.kind, partition: r.partition, offset: r.offset, ahead: event_lead::rejected_ahead(r) }.emit(&self.metrics);
                }
                self.outputs.write(&o)?;
            }
        }
        Ok(())
    }

    /// Next offset per partition: past the batch's records, and past
    /// transaction markers on partitions whose state this instance holds.
    fn offsets_to_commit(&self, batch: &Batch) -> BTreeMap<i32, i64> {
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        for m in &batch.records {
            next.insert(m.partition(), m.offset() + 1);
        }
        for (p, position) in positions(&self.consumer) {
            if let Some(n) = next.get_mut(&p) {
                *n = (*n).max(position);
            } else if self.restored.contains(&p) && self.committed.get(&p).is_some_and(|c| position > *c) {
                next.insert(p, position);
            }
        }
        next
    }

    fn offset_list(&self, offsets: &BTreeMap<i32, i64>) -> Result<TopicPartitionList, RunError> {
        let mut tpl = TopicPartitionList::new();
        for (p, o) in offsets {
            tpl.add_partition_offset(&self.topics.usage, *p, Offset::Offset(*o)).map_err(RunError::client("building offsets"))?;
        }
        Ok(tpl)
    }

    /// Drops `partitions` from the engine (restored again before their next
    /// record) and seeks the consumer back to their committed offsets (or, when
    /// none was ever committed, to the batch's first record of the partition).
    fn rewind(&mut self, batch: &Batch, partitions: &BTreeSet<i32>) -> Result<(), RunError> {
        let topic = self.topics.usage.clone();
        let mut first: BTreeMap<i32, i64> = BTreeMap::new();
        for m in &batch.records {
            first.entry(m.partition()).or_insert(m.offset());
        }
        let mut query = TopicPartitionList::new();
        for &p in partitions {
            query.add_partition(&topic, p);
        }
        let committed = self.consumer.committed_offsets(query, Duration::from_secs(30)).map_err(RunError::client("reading committed offsets"))?;
        let mut seek = TopicPartitionList::new();
        for e in committed.elements() {
            let offset = match e.offset() {
                Offset::Offset(o) => o,
                _ => first.get(&e.partition()).copied().unwrap_or(0),
            };
            seek.add_partition_offset(&topic, e.partition(), Offset::Offset(offset)).map_err(RunError::client("building offsets"))?;
        }
        for &p in partitions {
            self.engine.drop_partition(p);
            self.restored.remove(&p);
        }
        let sought = self.consumer.seek_partitions(seek, Duration::from_secs(30)).map_err(RunError::client("seeking back to the committed offsets"))?;
        for e in sought.elements() {
            e.error().map_err(RunError::client(format!("seeking partition {} back", e.partition())))?;
        }
        Ok(())
    }
}
