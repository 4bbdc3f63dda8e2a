//! The entitlements topic as a global table: every instance reads all its
//! partitions to their end before processing usage, then keeps following it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::{list_offsets, positions, KafkaError};
use crate::config::Config;
use crate::decode::entitlement::decode_entitlement_kafka;
use crate::engine::Engine;

/// The partitions of `topic`, from the broker's metadata; a clear error when it does not exist.
pub(crate) fn partitions_of<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str) -> Result<Vec<i32>, KafkaError> {
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(30)).map_err(KafkaError::client(format!("reading metadata of {topic}")))?;
    let t = md.topics().iter().find(|t| t.name() == topic).ok_or_else(|| KafkaError::MissingTopic(topic.to_string()))?;
    if t.error().is_some() || t.partitions().is_empty() {
        return Err(KafkaError::MissingTopic(topic.to_string()));
    }
    Ok(t.partitions().iter().map(|p| p.id()).collect())
}

pub(crate) struct EntitlementFollower {
    consumer: BaseConsumer,
    topic: String,
    /// Records applied and skipped as invalid.
    pub applied: u64,
    pub skipped: u64,
}

impl EntitlementFollower {
    /// Assigns every partition of the entitlements topic from the beginning.
    pub fn new(config: &Config, read_committed: bool) -> Result<EntitlementFollower, KafkaError> {
        let consumer: BaseConsumer = config.kafka_client()?.reader(read_committed).create().map_err(KafkaError::client("creating the entitlements consumer"))?;
        let topic = config.topics.entitlements.clone();
        let mut tpl = TopicPartitionList::new();
        for p in partitions_of(&consumer, &topic)? {
            tpl.add_partition_offset(&topic, p, Offset::Beginning).map_err(KafkaError::client("assigning entitlements"))?;
        }
        consumer.assign(&tpl).map_err(KafkaError::client("assigning entitlements"))?;
        Ok(EntitlementFollower { consumer, topic, applied: 0, skipped: 0 })
    }

    /// Reads every partition up to the end it had when this call started.
    pub fn catch_up(&mut self, engine: &mut Engine) -> Result<(), KafkaError> {
        let partitions = partitions_of(&self.consumer, &self.topic)?;
        let ends = list_offsets(&self.consumer, &self.topic, &partitions, Offset::End)?;
        let mut next: BTreeMap<i32, i64> = ends.keys().map(|p| (*p, 0)).collect();
        let deadline = Instant::now() + Duration::from_secs(600);
        while next.iter().any(|(p, n)| *n < ends[p]) {
            if Instant::now() > deadline {
                return Err(KafkaError::Other(format!("timed out reading {} to its end", self.topic)));
            }
            match self.consumer.poll(Duration::from_millis(200)) {
                Some(m) => {
                    let m = m.map_err(KafkaError::client("reading entitlements"))?;
                    next.insert(m.partition(), m.offset() + 1);
                    let (ok, skip) = apply(engine, m.key(), m.payload(), m.partition(), m.offset());
                    self.applied += ok;
                    self.skipped += skip;
                }
                // Nothing delivered: a transaction marker or aborted records may end the partition.
                None => {
                    for (p, position) in positions(&self.consumer) {
                        if let Some(n) = next.get_mut(&p) {
                            *n = (*n).max(position);
                        }
                    }
                }
            }
        }
        tracing::info!(records = self.applied, skipped = self.skipped, "Entitlements table loaded.");
        Ok(())
    }

    /// Applies whatever new entitlement records have arrived, without waiting.
    pub fn follow(&mut self, engine: &mut Engine) -> Result<(), KafkaError> {
        while let Some(m) = self.consumer.poll(Duration::ZERO) {
            let m = m.map_err(KafkaError::client("reading entitlements"))?;
            let (ok, skip) = apply(engine, m.key(), m.payload(), m.partition(), m.offset());
            self.applied += ok;
            self.skipped += skip;
        }
        Ok(())
    }
}

/// Applies one entitlements record; returns (applied, skipped) counts.
fn apply(engine: &mut Engine, key: Option<&[u8]>, value: Option<&[u8]>, partition: i32, offset: i64) -> (u64, u64) {
    match decode_entitlement_kafka(key, value) {
        Ok(record) => {
            engine.apply_entitlement(record);
            (1, 0)
        }
        Err(e) => {
            tracing::warn!(partition, offset, reason = %e, "Entitlement record skipped.");
            (0, 1)
        }
    }
}
