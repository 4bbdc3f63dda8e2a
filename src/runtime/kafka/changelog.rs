//! Per-credential state in a compacted changelog topic, co-partitioned with
//! the usage topic: written after a batch's outputs are acknowledged (or in
//! the same transaction), read back when a partition is assigned.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::Message;

use super::error::{KafkaError, RunError, SetupError};
use super::producer::OutputProducer;
use super::reader::{PartitionReader, PastEnd};
use crate::config::KafkaConfig;
use crate::engine::Engine;

/// Longest wait for a restore to make progress (an open transaction of a
/// crashed instance holds it back until the broker aborts it).
const RESTORE_STALL: Duration = Duration::from_secs(600);

/// A changelog record's key and value (None: a tombstone).
type KeyValue = (Vec<u8>, Option<Vec<u8>>);

/// Reads partitions of the changelog back into the engine: one reader for
/// the processor's life, assigned the partitions being restored.
pub(crate) struct ChangelogReader {
    reader: PartitionReader,
}

impl ChangelogReader {
    /// The changelog is read `read_committed` whatever the guarantee, so state
    /// written in an aborted transaction (of an `exactly_once` run) is never restored.
    pub fn new(kafka: &KafkaConfig, topic: &str) -> Result<ChangelogReader, SetupError> {
        Ok(ChangelogReader { reader: PartitionReader::new(kafka, true, topic, "the changelog", RESTORE_STALL)? })
    }

    /// Replaces the engine's state of each of `partitions` with the changelog's
    /// (every record up to the end each partition has now). Returns the records read.
    pub fn restore(&self, engine: &mut Engine, partitions: &[i32]) -> Result<u64, KafkaError> {
        let ranges: BTreeMap<i32, (i64, i64)> = self.reader.watermarks(partitions)?.into_iter().filter(|(_, (low, high))| high > low).collect();
        let mut records: BTreeMap<i32, Vec<KeyValue>> = partitions.iter().map(|p| (*p, Vec::new())).collect();
        let mut read = 0;
        if !ranges.is_empty() {
            self.reader.assign(ranges.iter().map(|(p, (low, _))| (*p, *low)))?;
            read = self.reader.read_to_end(&ranges, PastEnd::Skip, |m| {
                if let (Some(k), Some(list)) = (m.key(), records.get_mut(&m.partition())) {
                    list.push((k.to_vec(), m.payload().map(<[u8]>::to_vec)));
                }
                Ok(())
            })?;
            self.reader.release()?;
        }
        for (p, list) in records {
            engine.restore_partition(p, list)?;
        }
        Ok(read)
    }
}

/// Sends one changelog batch for every partition in `partitions`: deletions,
/// new dedupe segments and changed credentials, then the partition record.
pub(crate) fn write(producer: &OutputProducer, topic: &str, engine: &mut Engine, partitions: &[i32]) -> Result<usize, RunError> {
    let mut sent = 0;
    for &p in partitions {
        for r in engine.changelog_snapshot(p) {
            producer.send(topic, Some(p), Some(&r.key), r.value.as_deref(), None)?;
            sent += 1;
        }
    }
    Ok(sent)
}
