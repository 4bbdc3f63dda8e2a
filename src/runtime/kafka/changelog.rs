//! Per-credential state in a compacted changelog topic, co-partitioned with
//! the usage topic: written after a batch's outputs are acknowledged (or in
//! the same transaction), read back when a partition is assigned.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::entitlements::partitions_of;
use super::output::{send, OutputProducer};
use super::{positions, watermarks, KafkaError};
use crate::config::Config;
use crate::engine::Engine;

/// Longest wait for a restore to make progress.
const RESTORE_STALL: Duration = Duration::from_secs(600);

/// Reads partitions of the changelog back into the engine: one consumer for
/// the processor's life, assigned the partitions being restored.
pub(crate) struct ChangelogReader {
    consumer: BaseConsumer,
    topic: String,
}

impl ChangelogReader {
    /// The changelog is read `read_committed` whatever the guarantee, so state
    /// written in an aborted transaction (of an `exactly_once` run) is never restored.
    pub fn new(config: &Config) -> Result<ChangelogReader, KafkaError> {
        let consumer = config.kafka_client()?.reader(true).create().map_err(KafkaError::client("creating the changelog reader"))?;
        Ok(ChangelogReader { consumer, topic: config.topics.changelog.clone() })
    }

    /// Replaces the engine's state of each of `partitions` with the changelog's
    /// (every record up to the end each partition has now). Returns the records read.
    pub fn restore(&self, engine: &mut Engine, partitions: &[i32]) -> Result<u64, KafkaError> {
        let topic = &self.topic;
        let mut ends = std::collections::BTreeMap::new();
        let mut records: std::collections::BTreeMap<i32, Vec<(Vec<u8>, Option<Vec<u8>>)>> = std::collections::BTreeMap::new();
        let mut tpl = TopicPartitionList::new();
        for (p, (low, high)) in watermarks(&self.consumer, topic, partitions)? {
            records.insert(p, Vec::new());
            if high > low {
                ends.insert(p, high);
                tpl.add_partition_offset(topic, p, Offset::Beginning).map_err(KafkaError::client("assigning the changelog"))?;
            }
        }
        let mut read = 0u64;
        if !ends.is_empty() {
            self.consumer.assign(&tpl).map_err(KafkaError::client("assigning the changelog"))?;
            let mut progress = Instant::now();
            while !ends.is_empty() {
                let Some(m) = self.consumer.poll(Duration::from_millis(100)) else {
                    // The end may be a transaction marker, never delivered; an open
                    // transaction of a crashed instance holds reading back until the
                    // broker aborts it (transaction.timeout.ms).
                    let at = positions(&self.consumer);
                    ends.retain(|p, high| at.get(p).is_none_or(|pos| pos < high));
                    if progress.elapsed() > RESTORE_STALL {
                        return Err(KafkaError::Other(format!("timed out restoring partitions {:?} from {topic}", ends.keys().collect::<Vec<_>>())));
                    }
                    continue;
                };
                progress = Instant::now();
                let m = m.map_err(KafkaError::client("reading the changelog"))?;
                let p = m.partition();
                if let (Some(k), Some(list)) = (m.key(), records.get_mut(&p)) {
                    if ends.contains_key(&p) {
                        list.push((k.to_vec(), m.payload().map(<[u8]>::to_vec)));
                        read += 1;
                    }
                }
                if ends.get(&p).is_some_and(|high| m.offset() + 1 >= *high) {
                    ends.remove(&p);
                }
            }
            self.consumer.unassign().map_err(KafkaError::client("releasing the changelog"))?;
        }
        for (p, list) in records {
            engine.restore_partition(p, list)?;
        }
        Ok(read)
    }
}

/// Checks that the usage and changelog topics exist and have as many
/// partitions (SPEC §5: the changelog is co-partitioned with the input).
pub(crate) fn check_co_partitioned<C: ConsumerContext>(consumer: &BaseConsumer<C>, config: &Config) -> Result<(), KafkaError> {
    let (usage, changelog) = (&config.topics.usage, &config.topics.changelog);
    let usage_partitions = partitions_of(consumer, usage)?.len();
    let changelog_partitions = partitions_of(consumer, changelog)?.len();
    if changelog_partitions != usage_partitions {
        return Err(KafkaError::NotCoPartitioned { changelog: changelog.clone(), changelog_partitions, usage: usage.clone(), usage_partitions });
    }
    Ok(())
}

/// Sends one changelog batch for every partition in `partitions`: deletions,
/// new dedupe segments and changed credentials, then the partition record.
pub(crate) fn write(producer: &OutputProducer, topic: &str, engine: &mut Engine, partitions: &[i32]) -> Result<usize, KafkaError> {
    let mut sent = 0;
    for &p in partitions {
        for r in engine.changelog_snapshot(p) {
            send(producer, topic, Some(p), Some(&r.key), r.value.as_deref(), None)?;
            sent += 1;
        }
    }
    Ok(sent)
}
