//! `bursar topics create`: every topic with its partitions and cleanup policy;
//! a topic that already exists is checked against what would be created.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::error::{KafkaError, SetupError};
use crate::config::Config;

/// What `create_topics` did per topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicOutcome {
    Created(String),
    /// Existed with the partitions and cleanup policy bursar would give it.
    Existed(String),
    /// Existed with settings bursar cannot use: what it has, what it needs and the fix.
    Mismatch { topic: String, problem: String },
}

/// A topic as `topics create` makes it.
struct Spec<'a> {
    name: &'a str,
    partitions: i32,
    policy: &'static str,
}

/// Creates usage, findings, windows, rejected (delete policy) and
/// entitlements, balances, changelog (compacted). An existing topic is kept
/// and checked: its partition count and `cleanup.policy` must be those it
/// would be created with (the changelog is co-partitioned with usage).
pub async fn create_topics(config: &Config) -> Result<Vec<TopicOutcome>, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = config.kafka_client()?.admin().create().map_err(SetupError::client("creating the admin client"))?;
    let t = &config.topics;
    let specs: Vec<Spec<'_>> = [
        (&t.usage, "delete"),
        (&t.findings, "delete"),
        (&t.windows, "delete"),
        (&t.rejected, "delete"),
        (&t.entitlements, "compact"),
        (&t.balances, "compact"),
        (&t.changelog, "compact"),
    ]
    .into_iter()
    .map(|(name, policy)| Spec { name, partitions: t.partitions, policy })
    .collect();
    let topics: Vec<NewTopic<'_>> =
        specs.iter().map(|s| NewTopic::new(s.name, s.partitions, TopicReplication::Fixed(t.replication_factor)).set("cleanup.policy", s.policy)).collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin.create_topics(topics.iter(), &opts).await.map_err(SetupError::client("creating topics"))?;
    let mut out = Vec::new();
    for r in results {
        match r {
            Ok(name) => out.push(TopicOutcome::Created(name)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| SetupError::UnexpectedTopic(name.clone()))?;
                out.push(check_existing(&admin, spec).await?);
            }
            Err((topic, code)) => return Err(SetupError::CreateTopic { topic, code }.into()),
        }
    }
    Ok(out)
}

/// Compares an existing topic's partition count and cleanup policy with `spec`.
async fn check_existing(admin: &AdminClient<DefaultClientContext>, spec: &Spec<'_>) -> Result<TopicOutcome, KafkaError> {
    let name = spec.name;
    let md = admin.inner().fetch_metadata(Some(name), Duration::from_secs(30)).map_err(SetupError::client(format!("reading metadata of {name}")))?;
    let partitions = md.topics().iter().find(|t| t.name() == name).map_or(0, |t| t.partitions().len() as i32);
    let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(30)));
    let described = admin.describe_configs([&ResourceSpecifier::Topic(name)], &opts).await.map_err(SetupError::client(format!("reading the configuration of {name}")))?;
    let policy = match described.into_iter().next() {
        Some(Ok(resource)) => resource.get("cleanup.policy").and_then(|e| e.value.clone()).unwrap_or_default(),
        Some(Err(code)) => return Err(SetupError::DescribeTopic { topic: name.to_string(), code }.into()),
        None => String::new(),
    };
    let mut problems = Vec::new();
    if partitions != spec.partitions {
        problems.push(format!(
            "it has {partitions} partition(s), bursar needs {} (`topics.partitions`; the changelog is co-partitioned with the usage topic): \
             set `topics.partitions = {partitions}` if every topic has {partitions}, or give it {} partitions \
             (`kafka-topics.sh --alter --topic {name} --partitions {}` adds partitions; fewer needs deleting and re-creating it)",
            spec.partitions, spec.partitions, spec.partitions
        ));
    }
    if policy != spec.policy {
        problems.push(format!(
            "it has cleanup.policy={policy}, bursar needs {}: `kafka-configs.sh --alter --entity-type topics --entity-name {name} --add-config cleanup.policy={}`",
            spec.policy, spec.policy
        ));
    }
    Ok(match problems.is_empty() {
        true => TopicOutcome::Existed(name.to_string()),
        false => TopicOutcome::Mismatch { topic: name.to_string(), problem: problems.join("; and ") },
    })
}
