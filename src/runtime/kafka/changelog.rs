//! Per-credential state in a compacted changelog topic, co-partitioned with
//! the usage topic: written after a batch's outputs are acknowledged (or in
//! the same transaction), read back when a partition is assigned.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::output::{send, OutputProducer};
use super::{positions, reader_config, KafkaError};
use crate::config::Config;
use crate::engine::{Engine, PARTITION_META_KEY};

/// Longest wait for one partition's changelog to be read to its end.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(600);

/// Restores partition `partition` of the engine from the changelog (all of it,
/// up to its end). Returns the number of records read. The changelog is read
/// `read_committed` whatever the guarantee, so state written in an aborted
/// transaction (of an earlier `exactly_once` run) is never restored.
pub(crate) fn restore(config: &Config, engine: &mut Engine, partition: i32) -> Result<u64, KafkaError> {
    let consumer: BaseConsumer = reader_config(config, true)?.create().map_err(KafkaError::client("creating the changelog reader"))?;
    let topic = &config.topics.changelog;
    let (low, high) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(30)).map_err(KafkaError::client(format!("reading offsets of {topic}")))?;
    engine.drop_partition(partition);
    if high <= low {
        return Ok(0);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Beginning).map_err(KafkaError::client("assigning the changelog"))?;
    consumer.assign(&tpl).map_err(KafkaError::client("assigning the changelog"))?;
    let mut read = 0u64;
    let deadline = Instant::now() + RESTORE_TIMEOUT;
    let mut next = low;
    while next < high {
        if Instant::now() > deadline {
            return Err(KafkaError::Other(format!("timed out restoring partition {partition} from {topic} (at offset {next} of {high})")));
        }
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            // The end may be a transaction marker, never delivered; an open
            // transaction of a crashed instance holds reading back until the
            // broker aborts it (transaction.timeout.ms).
            next = next.max(positions(&consumer).get(&partition).copied().unwrap_or(next));
            continue;
        };
        let m = m.map_err(KafkaError::client("reading the changelog"))?;
        next = m.offset() + 1;
        if let (Some(k), Some(v)) = (m.key(), m.payload()) {
            engine.restore(partition, k, v)?;
            read += 1;
        }
    }
    Ok(read)
}

/// Sends the state changed since the last call for every partition in
/// `partitions`: each dirty credential, then the partition record last.
pub(crate) fn write(producer: &OutputProducer, topic: &str, engine: &mut Engine, partitions: &[i32]) -> Result<usize, KafkaError> {
    let mut sent = 0;
    for &p in partitions {
        for cred in engine.take_dirty(p) {
            if let Some(v) = engine.snapshot_credential(p, &cred) {
                send(producer, topic, Some(p), Some(cred.as_bytes()), Some(&v), None)?;
                sent += 1;
            }
        }
        if let Some(meta) = engine.snapshot_partition(p) {
            send(producer, topic, Some(p), Some(PARTITION_META_KEY), Some(&meta), None)?;
            sent += 1;
        }
    }
    Ok(sent)
}
