//! The live edges on Kafka (README.md "Running on Kafka"): the processor
//! (`run`), topic creation, topic replay (and `explain --topic`) and
//! producing workloads. The engine stays pure; everything here moves bytes
//! between Kafka and `pipeline::process_record`.
//!
//! - `processor` (state) with `commit` (the guarantees) and `rebalance`;
//! - `reader`: the one partition reader (changelog restore, entitlements, replay);
//! - `metadata`: partitions, offsets, positions of topics;
//! - `producer` and `topic_sink`: outputs produced and acknowledged, topics as sinks;
//! - `outage`: transient errors and broker outages ridden out;
//! - `preflight`: what `check` and `run` verify before processing;
//! - `error`: setup and run errors, exit codes.

mod changelog;
mod commit;
mod entitlements;
mod error;
mod explain_topic;
mod metadata;
mod outage;
mod preflight;
mod processor;
mod produce;
mod producer;
mod quiet;
mod reader;
mod rebalance;
mod replay_topic;
mod run;
mod topic_sink;
mod topics;

pub use error::{exit, KafkaError, RunError, SetupError};
pub use explain_topic::{explain_topic, TopicRange, TopicRead};
pub use produce::{produce_entitlements, produce_lines};
pub use replay_topic::{replay_topic, ReplayFrom, TopicReplaySummary, ReplayTopicArgs};
pub use preflight::{preflight, Preflight};
pub use run::{run, run_with, RunOptions};
pub use topic_sink::TopicSink;
pub use topics::{create_topics, TopicOutcome};

use rdkafka::message::Headers;
use rdkafka::Message;

/// A consumed record's headers in their order, null values kept (a rejected
/// record goes out with the headers it came with).
pub(crate) fn headers_of<M: Message>(m: &M) -> Vec<(&str, Option<&[u8]>)> {
    m.headers().map(|h| h.iter().map(|x| (x.key, x.value)).collect()).unwrap_or_default()
}
