//! `bursar topics create`: every topic with its partitions and cleanup policy.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::{client_config, KafkaError};
use crate::config::Config;

/// What `create_topics` did per topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicOutcome {
    Created(String),
    Existed(String),
}

/// Creates usage, findings, windows, rejected (delete policy) and
/// entitlements, balances, changelog (compacted). Existing topics are kept.
pub async fn create_topics(config: &Config) -> Result<Vec<TopicOutcome>, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = client_config(config, &[])?.create().map_err(KafkaError::client("creating the admin client"))?;
    let t = &config.topics;
    let specs = [
        (&t.usage, "delete"),
        (&t.findings, "delete"),
        (&t.windows, "delete"),
        (&t.rejected, "delete"),
        (&t.entitlements, "compact"),
        (&t.balances, "compact"),
        (&t.changelog, "compact"),
    ];
    let topics: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|(name, policy)| NewTopic::new(name, t.partitions, TopicReplication::Fixed(t.replication_factor)).set("cleanup.policy", policy))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin.create_topics(topics.iter(), &opts).await.map_err(KafkaError::client("creating topics"))?;
    let mut out = Vec::new();
    for r in results {
        match r {
            Ok(name) => out.push(TopicOutcome::Created(name)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => out.push(TopicOutcome::Existed(name)),
            Err((name, code)) => return Err(KafkaError::Other(format!("creating topic {name}: {code}"))),
        }
    }
    Ok(out)
}
