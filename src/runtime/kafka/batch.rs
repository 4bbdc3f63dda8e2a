//! One batch of the live processor (SPEC §5): its records through the engine,
//! then, under `at_least_once`, outputs acknowledged, then the changelog
//! acknowledged, then the input offsets committed; under `exactly_once`, the
//! outputs, the changelog and the input offsets in one Kafka transaction.
//!
//! Offsets committed are the consumer's positions: past the last record of
//! the batch and past any transaction marker after it, so a usage topic
//! written by a transactional producer ends with no lag.
//!
//! A failed transaction that is not fatal (librdkafka's abortable errors: an
//! output the broker refused, a group generation fenced by a rebalance, a
//! timeout) is aborted and the batch's partitions are rewound: dropped from the
//! engine, restored from the changelog (the last committed state) when their
//! records come again, and the consumer seeks back to the committed offsets.
//! The same records then give the same outputs. After `MAX_ABORTS` aborts in a
//! row the processor stops; a fatal error (another instance with the same
//! `transactional.id` fenced this one) stops it at once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::message::OwnedMessage;
use rdkafka::producer::Producer;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::changelog;
use super::output::{flush, send_output};
use super::run::Processor;
use super::{headers_of, positions, KafkaError};
use crate::pipeline::{process_record, InputRecord};

/// Aborted transactions in a row before the processor gives up.
const MAX_ABORTS: u32 = 5;

/// Longest wait for a transaction call (librdkafka's own retries happen within).
const TXN_TIMEOUT: Duration = Duration::from_secs(60);

/// Consumed records with the instant each was consumed (for the latency metric).
pub(super) type Batch = Vec<(OwnedMessage, Instant)>;

impl Processor {
    /// Processes and commits one batch (which may be empty: then only
    /// positions that moved past transaction markers are committed).
    pub(super) fn process_batch(&mut self, batch: Batch) -> Result<(), KafkaError> {
        let partitions: BTreeSet<i32> = batch.iter().map(|(m, _)| m.partition()).collect();
        let new: Vec<i32> = partitions.iter().copied().filter(|p| !self.restored.contains(p)).collect();
        if !new.is_empty() {
            let n = self.changelog.restore(&mut self.engine, &new)?;
            tracing::info!(partitions = ?new, records = n, "State restored from the changelog.");
            self.restored.extend(new);
        }
        let offsets = self.offsets_to_commit(&batch);
        if batch.is_empty() && offsets.is_empty() {
            return Ok(());
        }
        if self.exactly_once {
            if let Err(e) = self.transact(&batch, &partitions, &offsets) {
                return self.abort(e, &batch, &partitions);
            }
            self.aborts = 0;
            self.committed.extend(offsets);
        } else {
            self.produce_and_ack(&batch, &partitions)?;
            match self.consumer.commit(&self.offset_list(&offsets)?, CommitMode::Sync) {
                Ok(()) => self.committed.extend(offsets),
                // Not fatal: the next owner resumes from the last commit and the changelog skips what it includes.
                Err(e) => tracing::warn!(error = %e, "Offset commit failed."),
            }
        }
        for (_, consumed) in &batch {
            self.metrics.observe_latency(consumed.elapsed().as_micros() as u64);
        }
        self.metrics.observe_engine(self.engine.stats(), self.engine.credentials_in_state());
        Ok(())
    }

    /// Next offset per partition: past the batch's records, and past
    /// transaction markers on partitions whose state this instance holds.
    fn offsets_to_commit(&self, batch: &Batch) -> BTreeMap<i32, i64> {
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        for (m, _) in batch {
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

    fn offset_list(&self, offsets: &BTreeMap<i32, i64>) -> Result<TopicPartitionList, KafkaError> {
        let mut tpl = TopicPartitionList::new();
        for (p, o) in offsets {
            tpl.add_partition_offset(&self.config.topics.usage, *p, Offset::Offset(*o)).map_err(KafkaError::client("building offsets"))?;
        }
        Ok(tpl)
    }

    /// Runs the batch's records through the engine and sends every output.
    fn produce_outputs(&mut self, batch: &Batch) -> Result<(), KafkaError> {
        let mut outputs = Vec::new();
        for (m, _) in batch {
            let headers = headers_of(m);
            let record = InputRecord { partition: m.partition(), offset: m.offset(), line: None, key: m.key(), value: m.payload(), headers: &headers };
            process_record(&mut self.engine, &record, &mut outputs);
            for o in outputs.drain(..) {
                send_output(&self.producer, &self.topics, &o)?;
            }
        }
        Ok(())
    }

    /// `at_least_once`: outputs acknowledged, then the changelog acknowledged.
    fn produce_and_ack(&mut self, batch: &Batch, partitions: &BTreeSet<i32>) -> Result<(), KafkaError> {
        let t0 = Instant::now();
        self.produce_outputs(batch)?;
        let t1 = Instant::now();
        flush(&self.producer, &self.delivery)?;
        let t2 = Instant::now();
        let touched: Vec<i32> = partitions.iter().copied().collect();
        let n = changelog::write(&self.producer, &self.config.topics.changelog, &mut self.engine, &touched)?;
        let t3 = Instant::now();
        flush(&self.producer, &self.delivery)?;
        tracing::debug!(
            records = batch.len(),
            changelog = n,
            process_ms = (t1 - t0).as_millis() as u64,
            outputs_ack_ms = (t2 - t1).as_millis() as u64,
            changelog_ms = (t3 - t2).as_millis() as u64,
            changelog_ack_ms = t3.elapsed().as_millis() as u64,
            "Batch acknowledged."
        );
        Ok(())
    }

    /// `exactly_once`: outputs, changelog and offsets in one transaction.
    fn transact(&mut self, batch: &Batch, partitions: &BTreeSet<i32>, offsets: &BTreeMap<i32, i64>) -> Result<(), KafkaError> {
        self.producer.begin_transaction().map_err(KafkaError::client("beginning a transaction"))?;
        self.produce_outputs(batch)?;
        let touched: Vec<i32> = partitions.iter().copied().collect();
        changelog::write(&self.producer, &self.config.topics.changelog, &mut self.engine, &touched)?;
        let group = self.consumer.group_metadata().ok_or_else(|| KafkaError::Other("no consumer group metadata".into()))?;
        self.producer.send_offsets_to_transaction(&self.offset_list(offsets)?, &group, TXN_TIMEOUT).map_err(KafkaError::client("sending offsets to the transaction"))?;
        // Every record acknowledged first: a refused one fails the batch at once.
        flush(&self.producer, &self.delivery)?;
        self.producer.commit_transaction(TXN_TIMEOUT).map_err(KafkaError::client("committing the transaction"))
    }

    /// Aborts the open transaction and rewinds the batch's partitions to the
    /// last committed state; stops on a fatal error or too many aborts in a row.
    fn abort(&mut self, error: KafkaError, batch: &Batch, partitions: &BTreeSet<i32>) -> Result<(), KafkaError> {
        if let Some((code, reason)) = self.producer.client().fatal_error() {
            return Err(KafkaError::Fatal(format!("{code:?}: {reason}")));
        }
        self.aborts += 1;
        if self.aborts > MAX_ABORTS {
            tracing::error!(aborts = MAX_ABORTS, "Transactions failed repeatedly: stopping.");
            return Err(error);
        }
        tracing::warn!(error = %error, attempt = self.aborts, "Transaction aborted: rewinding to the last committed state.");
        self.abort_transaction()?;
        self.delivery.reset();
        self.metrics.observe_abort();
        self.rewind(batch, partitions)?;
        std::thread::sleep(Duration::from_millis(250 << self.aborts.min(6)));
        Ok(())
    }

    /// Aborts the open transaction. The purged outputs' delivery reports wait
    /// in the producer's event queue, which only this thread serves: so abort
    /// with a short timeout, serve the queue, and try again.
    fn abort_transaction(&self) -> Result<(), KafkaError> {
        let deadline = Instant::now() + TXN_TIMEOUT;
        loop {
            match self.producer.abort_transaction(Duration::from_millis(200)) {
                Ok(()) => return Ok(()),
                // Timed out (retriable, "retry call to resume"): serve delivery reports, call again.
                Err(RdKafkaError::Transaction(e)) if (e.is_retriable() || e.code() == RDKafkaErrorCode::OperationTimedOut) && Instant::now() < deadline => {
                    self.producer.poll(Duration::from_millis(100))
                }
                Err(e) => return Err(KafkaError::Client { context: "aborting a transaction".into(), source: e }),
            }
        }
    }

    /// Drops `partitions` from the engine (restored again before their next
    /// record) and seeks the consumer back to their committed offsets (or, when
    /// none was ever committed, to the batch's first record of the partition).
    fn rewind(&mut self, batch: &Batch, partitions: &BTreeSet<i32>) -> Result<(), KafkaError> {
        let topic = self.config.topics.usage.clone();
        let mut first: BTreeMap<i32, i64> = BTreeMap::new();
        for (m, _) in batch {
            first.entry(m.partition()).or_insert(m.offset());
        }
        let mut query = TopicPartitionList::new();
        for &p in partitions {
            query.add_partition(&topic, p);
        }
        let committed = self.consumer.committed_offsets(query, Duration::from_secs(30)).map_err(KafkaError::client("reading committed offsets"))?;
        let mut seek = TopicPartitionList::new();
        for e in committed.elements() {
            let offset = match e.offset() {
                Offset::Offset(o) => o,
                _ => first.get(&e.partition()).copied().unwrap_or(0),
            };
            seek.add_partition_offset(&topic, e.partition(), Offset::Offset(offset)).map_err(KafkaError::client("building offsets"))?;
        }
        for &p in partitions {
            self.engine.drop_partition(p);
            self.restored.remove(&p);
        }
        let sought = self.consumer.seek_partitions(seek, Duration::from_secs(30)).map_err(KafkaError::client("seeking back to the committed offsets"))?;
        for e in sought.elements() {
            e.error().map_err(KafkaError::client(format!("seeking partition {} back", e.partition())))?;
        }
        Ok(())
    }
}
