//! The live edges on Kafka (README.md "Running on Kafka"): the processor
//! (`run`), topic creation, topic replay and producing workloads. The engine
//! stays pure; everything here moves bytes between Kafka and
//! `pipeline::process_record`.
//!
//! - `processor` (state) with `commit` (the guarantees) and `rebalance`;
//! - `reader`: the one partition reader (changelog restore, entitlements, replay);
//! - `metadata`: partitions, offsets, positions of topics;
//! - `producer` and `topic_sink`: outputs produced and acknowledged, topics as sinks;
//! - `error`: setup and run errors.

mod changelog;
mod commit;
mod entitlements;
mod error;
mod metadata;
mod processor;
mod produce;
mod producer;
mod reader;
mod rebalance;
mod replay_topic;
mod run;
mod topic_sink;
mod topics;

pub use error::{KafkaError, RunError, SetupError};
pub use produce::{produce_entitlements, produce_lines};
pub use replay_topic::{replay_topic, ReplayFrom, TopicReplaySummary, ReplayTopicArgs};
pub use run::run;
pub use topic_sink::TopicSink;
pub use topics::{create_topics, TopicOutcome};

use rdkafka::message::Headers;
use rdkafka::Message;

/// A consumed record's headers in their order, null values kept (a rejected
/// record goes out with the headers it came with).
pub(crate) fn headers_of<M: Message>(m: &M) -> Vec<(&str, Option<&[u8]>)> {
    m.headers().map(|h| h.iter().map(|x| (x.key, x.value)).collect()).unwrap_or_default()
}
