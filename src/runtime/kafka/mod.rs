//! The live edges on Kafka (SPEC §5–§6): the processor (`run`), topic
//! creation, topic replay and producing workloads. The engine stays pure;
//! everything here moves bytes between Kafka and `pipeline::process_record`.

mod batch;
mod changelog;
mod entitlements;
mod output;
mod produce;
mod replay_topic;
mod run;
mod topics;

pub use produce::{produce_entitlements, produce_lines};
pub use replay_topic::{replay_topic, ReplayFrom, ReplaySummary, ReplayTopicArgs};
pub use run::run;
pub use topics::{create_topics, TopicOutcome};

use std::collections::BTreeMap;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::message::Headers;
use rdkafka::{Message, Offset};

use crate::config::ConfigError;

/// Why the Kafka runtime stopped. `retryable` errors are transient (a restart
/// resumes exactly from the changelog and committed offsets).
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("Kafka client error while {context}: {source}")]
    Client { context: String, source: RdKafkaError },
    #[error("{count} output record(s) were not acknowledged by the broker ({reason}); offsets of their input are not committed (a restart re-sends them)")]
    Undelivered { count: usize, reason: String },
    #[error("the transactional producer failed fatally ({0}); another instance with the same instance_id (transactional.id) may have fenced this one")]
    Fatal(String),
    #[error("the broker does not support transactions, which guarantee = \"exactly_once\" needs: {0}. Use guarantee = \"at_least_once\" with this broker")]
    NoTransactions(String),
    #[error("topic {0} does not exist: create the topics first with `bursar topics create --config ...`")]
    MissingTopic(String),
    #[error("the changelog topic {changelog} has {changelog_partitions} partition(s) but the usage topic {usage} has {usage_partitions}: they must be co-partitioned (partition p of the changelog holds the state of usage partition p). Give {changelog} {usage_partitions} partitions: `kafka-topics.sh --alter --topic {changelog} --partitions {usage_partitions}` when it has fewer; else delete it and run `bursar topics create` with `topics.partitions = {usage_partitions}`")]
    NotCoPartitioned { changelog: String, changelog_partitions: usize, usage: String, usage_partitions: usize },
    #[error("replay output topic {0} does not exist: create it first (e.g. `kafka-topics.sh --create --topic {0}`) or name another; replay never creates topics")]
    MissingOutputTopic(String),
    #[error("{count} replay output record(s) were not acknowledged by the broker ({reason}); the replay's output is incomplete: fix the cause and run the replay again (it starts from fresh state and commits no offsets)")]
    ReplayUndelivered { count: usize, reason: String },
    #[error("refusing to write replay output into the live topic {0}: name another topic, or pass --force-live")]
    LiveTopic(String),
    #[error("invalid changelog state: {0}")]
    State(#[from] crate::engine::ChangelogError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Sink(#[from] crate::sink::SinkError),
    #[error("{0}")]
    Other(String),
}

impl KafkaError {
    pub(crate) fn client(context: impl Into<String>) -> impl FnOnce(RdKafkaError) -> KafkaError {
        let context = context.into();
        move |source| KafkaError::Client { context, source }
    }

    /// True when restarting may succeed (broker unavailable, delivery timeout).
    pub fn retryable(&self) -> bool {
        matches!(self, KafkaError::Client { .. } | KafkaError::Undelivered { .. } | KafkaError::ReplayUndelivered { .. })
    }
}

/// A consumed record's headers in their order, null values kept (a rejected
/// record goes out with the headers it came with).
pub(crate) fn headers_of<M: Message>(m: &M) -> Vec<(&str, Option<&[u8]>)> {
    m.headers().map(|h| h.iter().map(|x| (x.key, x.value)).collect()).unwrap_or_default()
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
pub(crate) fn list_offsets<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str, partitions: &[i32], which: Offset) -> Result<BTreeMap<i32, i64>, KafkaError> {
    let mut query = rdkafka::TopicPartitionList::new();
    for &p in partitions {
        query.add_partition_offset(topic, p, which).map_err(KafkaError::client("building an offsets query"))?;
    }
    let found = consumer.offsets_for_times(query, std::time::Duration::from_secs(30)).map_err(KafkaError::client(format!("listing offsets of {topic}")))?;
    let mut out = BTreeMap::new();
    for e in found.elements() {
        e.error().map_err(KafkaError::client(format!("listing offsets of {topic} partition {}", e.partition())))?;
        match e.offset() {
            Offset::Offset(o) => out.insert(e.partition(), o),
            other => return Err(KafkaError::Other(format!("no offset for {topic} partition {}: {other:?}", e.partition()))),
        };
    }
    Ok(out)
}

/// The first and end offsets (`list_offsets`) of each of `partitions`; 0 for
/// a partition the broker did not answer for.
pub(crate) fn watermarks<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str, partitions: &[i32]) -> Result<BTreeMap<i32, (i64, i64)>, KafkaError> {
    let lows = list_offsets(consumer, topic, partitions, Offset::Beginning)?;
    let highs = list_offsets(consumer, topic, partitions, Offset::End)?;
    Ok(partitions.iter().map(|p| (*p, (lows.get(p).copied().unwrap_or(0), highs.get(p).copied().unwrap_or(0)))).collect())
}
