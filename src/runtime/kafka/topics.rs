//! `bursar topics create`: every topic with its partitions, cleanup policy
//! and (usage, findings) retention; a topic that already exists is checked
//! against what would be created. Also the topic facts the pre-flight check
//! reads (`describe`). Keyed topics are never re-partitioned in place:
//! docs/operations.md "Re-partitioning" says how (new topics and a replay).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;

use super::error::{KafkaError, SetupError};
use super::quiet::Quiet;
use crate::config::{Config, Retention, Topics};
use crate::model::time::format_duration;

/// Longest wait for an admin request.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// What `create_topics` did per topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicOutcome {
    Created(String),
    /// Existed with the partitions and cleanup policy bursar would give it.
    Existed(String),
    /// Existed and usable, but keeps records for less than configured.
    KeepsLess { topic: String, warning: String },
    /// Existed with settings bursar cannot use: what it has, what it needs and the fix.
    Mismatch { topic: String, problem: String },
}

/// A topic as `topics create` makes it.
pub(super) struct Spec<'a> {
    pub name: &'a str,
    pub policy: &'static str,
    /// `retention.ms` set at creation (usage and findings only).
    pub retention: Option<Retention>,
}

/// Every topic bursar uses, with its cleanup policy and configured retention.
pub(super) fn specs<'a>(t: &'a Topics, config: &Config) -> Result<Vec<Spec<'a>>, KafkaError> {
    let r = config.retention()?;
    Ok([
        (&t.usage, "delete", Some(r.usage)),
        (&t.findings, "delete", Some(r.findings)),
        (&t.windows, "delete", None),
        (&t.rejected, "delete", None),
        (&t.entitlements, "compact", None),
        (&t.balances, "compact", None),
        (&t.changelog, "compact", None),
    ]
    .into_iter()
    .map(|(name, policy, retention)| Spec { name, policy, retention })
    .collect())
}

/// `7d`, or `infinite`.
pub(super) fn show(r: Retention) -> String {
    match r {
        Retention::Infinite => "infinite".into(),
        Retention::Millis(ms) => format_duration(ms),
    }
}

/// The admin client of `config`.
pub(super) fn admin(config: &Config) -> Result<AdminClient<Quiet>, KafkaError> {
    Ok(config.kafka_client()?.admin().create_with_context(Quiet).map_err(SetupError::client("creating the admin client"))?)
}

/// The cleanup policy and retention of each of `names` (which must exist).
pub(super) async fn describe(admin: &AdminClient<Quiet>, names: &[&str]) -> Result<BTreeMap<String, (String, Option<Retention>)>, SetupError> {
    let resources: Vec<ResourceSpecifier<'_>> = names.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
    let opts = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let described = admin.describe_configs(resources.iter(), &opts).await.map_err(SetupError::client("reading the configuration of the topics"))?;
    let mut out = BTreeMap::new();
    for (name, r) in names.iter().zip(described) {
        let resource = r.map_err(|code| SetupError::DescribeTopic { topic: name.to_string(), code })?;
        let policy = resource.get("cleanup.policy").and_then(|e| e.value.clone()).unwrap_or_default();
        let retention = resource.get("retention.ms").and_then(|e| e.value.as_deref()).and_then(|v| v.parse::<i64>().ok()).map(Retention::from_ms);
        out.insert(name.to_string(), (policy, retention));
    }
    Ok(out)
}

/// Creates usage, findings, windows, rejected (delete policy) and
/// entitlements, balances, changelog (compacted); usage and findings keep
/// records for `topics.retention`. An existing topic is kept and checked:
/// its partition count and `cleanup.policy` must be those it would be
/// created with (the changelog is co-partitioned with usage); a shorter
/// retention is a warning.
pub async fn create_topics(config: &Config) -> Result<Vec<TopicOutcome>, KafkaError> {
    let admin = admin(config)?;
    let kafka = config.kafka_client()?;
    admin.inner().fetch_metadata(None, super::outage::PROBE_TIMEOUT).map_err(|source| super::outage::unanswered(&kafka, source))?;
    let t = &config.topics;
    let specs = specs(t, config)?;
    let retention_ms: Vec<Option<String>> = specs.iter().map(|s| s.retention.map(|r| r.as_ms().to_string())).collect();
    let topics: Vec<NewTopic<'_>> = specs
        .iter()
        .zip(&retention_ms)
        .map(|(s, ms)| {
            let topic = NewTopic::new(s.name, t.partitions, TopicReplication::Fixed(t.replication_factor)).set("cleanup.policy", s.policy);
            match ms {
                Some(ms) => topic.set("retention.ms", ms),
                None => topic,
            }
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT)).request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin.create_topics(topics.iter(), &opts).await.map_err(SetupError::client("creating topics"))?;
    let mut out = Vec::new();
    for r in results {
        match r {
            Ok(name) => out.push(TopicOutcome::Created(name)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| SetupError::UnexpectedTopic(name.clone()))?;
                out.push(check_existing(&admin, spec, t.partitions).await?);
            }
            Err((topic, code)) => return Err(SetupError::CreateTopic { topic, code }.into()),
        }
    }
    Ok(out)
}

/// The fix for a topic whose partition count is not `wanted`: never
/// `--alter --partitions` on a keyed topic (records of a credential would
/// land on another partition than its state).
pub(super) fn partitions_fix(name: &str, has: usize, wanted: usize) -> String {
    format!(
        "it has {has} partition(s), bursar needs {wanted} (`topics.partitions`; every topic is keyed by credential and the changelog is co-partitioned with the usage topic): \
         set `topics.partitions = {has}` if every topic has {has}; never add partitions to {name} in place (a credential's records would move away from its state): \
         to re-partition, create new topics and replay into them (docs/operations.md \"Re-partitioning\")"
    )
}

/// Compares an existing topic's partition count, cleanup policy and retention with `spec`.
async fn check_existing(admin: &AdminClient<Quiet>, spec: &Spec<'_>, wanted: i32) -> Result<TopicOutcome, KafkaError> {
    let name = spec.name;
    let md = admin.inner().fetch_metadata(Some(name), ADMIN_TIMEOUT).map_err(SetupError::client(format!("reading metadata of {name}")))?;
    let partitions = md.topics().iter().find(|t| t.name() == name).map_or(0, |t| t.partitions().len());
    let (policy, retention) = describe(admin, &[name]).await?.remove(name).unwrap_or_default();
    let mut problems = Vec::new();
    if partitions != wanted as usize {
        problems.push(partitions_fix(name, partitions, wanted as usize));
    }
    if policy != spec.policy {
        problems.push(format!(
            "it has cleanup.policy={policy}, bursar needs {}: `kafka-configs.sh --alter --entity-type topics --entity-name {name} --add-config cleanup.policy={}`",
            spec.policy, spec.policy
        ));
    }
    if !problems.is_empty() {
        return Ok(TopicOutcome::Mismatch { topic: name.to_string(), problem: problems.join("; and ") });
    }
    Ok(match (spec.retention, retention) {
        (Some(wants), Some(has)) if has < wants => TopicOutcome::KeepsLess { topic: name.to_string(), warning: retention_fix(name, has, wants) },
        _ => TopicOutcome::Existed(name.to_string()),
    })
}

/// The warning and fix for a topic that keeps records for less than `wants`.
pub(super) fn retention_fix(name: &str, has: Retention, wants: Retention) -> String {
    format!(
        "it keeps records for {}, less than {} (`topics.retention`): `replay --topic` cannot reach further back; \
         `kafka-configs.sh --alter --entity-type topics --entity-name {name} --add-config retention.ms={}` (docs/operations.md \"Topics and retention\")",
        show(has),
        show(wants),
        wants.as_ms()
    )
}
