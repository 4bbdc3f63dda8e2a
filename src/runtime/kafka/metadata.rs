//! What the broker knows about topics: their partitions, first and end
//! offsets, offsets for times, a consumer's positions, and the
//! co-partitioning check of `run` (README.md "Running on Kafka").

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};

use super::error::{RunError, SetupError};
use crate::config::Topics;

/// Longest wait for a metadata or offsets request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The partitions of `topic`, from the broker's metadata; a clear error when it does not exist.
pub(crate) fn partitions_of<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str) -> Result<Vec<i32>, SetupError> {
    let md = consumer.fetch_metadata(Some(topic), REQUEST_TIMEOUT).map_err(SetupError::client(format!("reading metadata of {topic}")))?;
    let t = md.topics().iter().find(|t| t.name() == topic).ok_or_else(|| SetupError::MissingTopic(topic.to_string()))?;
    if t.error().is_some() || t.partitions().is_empty() {
        return Err(SetupError::MissingTopic(topic.to_string()));
    }
    Ok(t.partitions().iter().map(|p| p.id()).collect())
}

/// Checks that the usage and changelog topics exist and have as many
/// partitions (docs/semantics.md "Live processing": the changelog is
/// co-partitioned with the input, as Kafka Streams requires).
pub(crate) fn check_co_partitioned<C: ConsumerContext>(consumer: &BaseConsumer<C>, topics: &Topics) -> Result<(), SetupError> {
    let (usage, changelog) = (&topics.usage, &topics.changelog);
    let usage_partitions = partitions_of(consumer, usage)?.len();
    let changelog_partitions = partitions_of(consumer, changelog)?.len();
    if changelog_partitions != usage_partitions {
        return Err(SetupError::NotCoPartitioned { changelog: changelog.clone(), changelog_partitions, usage: usage.clone(), usage_partitions });
    }
    Ok(())
}

/// The consumer's position (next offset to deliver) on each assigned
/// partition that has one. A transaction marker is never delivered but moves
/// the position, so "position >= end" is how a reader knows it reached the end
/// of a partition written by a transactional producer.
pub(crate) fn positions<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> BTreeMap<i32, i64> {
    let Ok(tpl) = consumer.position() else { return BTreeMap::new() };
    tpl.elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.partition(), o)),
            _ => None,
        })
        .collect()
}

/// The first (`Offset::Beginning`) or end (`Offset::End`: the log end, or
/// the last stable offset for a read_committed consumer) offset of each of
/// `partitions`, in one request: per-partition watermark queries wait behind
/// the consumer's own long-polling fetches.
pub(crate) fn list_offsets<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str, partitions: &[i32], which: Offset) -> Result<BTreeMap<i32, i64>, RunError> {
    let mut query = TopicPartitionList::new();
    for &p in partitions {
        query.add_partition_offset(topic, p, which).map_err(RunError::client("building an offsets query"))?;
    }
    let found = consumer.offsets_for_times(query, REQUEST_TIMEOUT).map_err(RunError::client(format!("listing offsets of {topic}")))?;
    let mut out = BTreeMap::new();
    for e in found.elements() {
        e.error().map_err(RunError::client(format!("listing offsets of {topic} partition {}", e.partition())))?;
        match e.offset() {
            Offset::Offset(o) => out.insert(e.partition(), o),
            other => return Err(RunError::NoOffset { topic: topic.to_string(), partition: e.partition(), answer: format!("{other:?}") }),
        };
    }
    Ok(out)
}

/// The first and end offsets (`list_offsets`) of each of `partitions`; 0 for
/// a partition the broker did not answer for.
pub(crate) fn watermarks<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str, partitions: &[i32]) -> Result<BTreeMap<i32, (i64, i64)>, RunError> {
    let lows = list_offsets(consumer, topic, partitions, Offset::Beginning)?;
    let highs = list_offsets(consumer, topic, partitions, Offset::End)?;
    Ok(partitions.iter().map(|p| (*p, (lows.get(p).copied().unwrap_or(0), highs.get(p).copied().unwrap_or(0)))).collect())
}

/// The first offset of each partition whose record timestamp is at or after
/// `at` (epoch ms; Kafka's offsets-for-times); None past a partition's last record.
pub(crate) fn offsets_at<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str, partitions: &[i32], at: i64) -> Result<BTreeMap<i32, Option<i64>>, RunError> {
    let mut tpl = TopicPartitionList::new();
    for &p in partitions {
        tpl.add_partition_offset(topic, p, Offset::Offset(at)).map_err(RunError::client("building a time query"))?;
    }
    let found = consumer.offsets_for_times(tpl, REQUEST_TIMEOUT).map_err(RunError::client(format!("looking up offsets for times in {topic}")))?;
    Ok(found.elements().iter().map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { Some(o) } else { None })).collect())
}
