//! The pre-flight check of `bursar check` and of `run` at start
//! (docs/operations.md "Pre-flight check"): the broker answers within a few
//! seconds; every topic exists; the changelog is co-partitioned with the
//! usage topic; compacted topics are compacted; usage and findings keep the
//! history bursar's rules look back on; and no usage partition has
//! committed offsets while the changelog holds no state for it (unless
//! `--reset-state`).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::error::{KafkaError, SetupError};
use super::metadata::watermarks;
use super::outage::PROBE_TIMEOUT;
use super::quiet::{close_in_background, Quiet};
use super::error::not_co_partitioned;
use super::topics::{admin, describe, retention_fix, show, specs};
use crate::config::{Config, Retention};
use crate::model::time::{parse_duration, MS_PER_DAY};

/// A year of banking (`bank_months = 12`): the history, besides the longest
/// dormancy, that replaying the usage topic must cover to rebuild state.
const BANKING_HORIZON_MS: i64 = 366 * MS_PER_DAY;

/// Longest wait for the committed offsets of the group.
const OFFSETS_TIMEOUT: Duration = Duration::from_secs(10);

/// What the pre-flight check found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// One line per topic: partitions, cleanup policy, retention.
    pub topics: Vec<String>,
    /// Findings that do not stop `run` (logged by it).
    pub warnings: Vec<String>,
    /// Findings that stop `run` before it reads anything.
    pub problems: Vec<String>,
}

impl Preflight {
    /// `Err` naming every problem, if any.
    pub fn into_result(self) -> Result<Preflight, SetupError> {
        match self.problems.is_empty() {
            true => Ok(self),
            false => Err(SetupError::Preflight(self.problems)),
        }
    }
}

/// Runs every check. `Err` only when the broker cannot be reached or
/// answers a request with an error; what it finds is in [`Preflight`].
pub fn preflight(config: &Config, reset_state: bool) -> Result<Preflight, KafkaError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(SetupError::Runtime)?;
    rt.block_on(check(config, reset_state))
}

async fn check(config: &Config, reset_state: bool) -> Result<Preflight, KafkaError> {
    let kafka = config.kafka_client()?;
    let admin = admin(config)?;
    let md = admin.inner().fetch_metadata(None, PROBE_TIMEOUT).map_err(|source| super::outage::unanswered(&kafka, source))?;
    let partitions: BTreeMap<&str, usize> = md.topics().iter().filter(|t| t.error().is_none() && !t.partitions().is_empty()).map(|t| (t.name(), t.partitions().len())).collect();
    let t = &config.topics;
    let specs = specs(t, config)?;
    let mut out = Preflight::default();
    let existing: Vec<&str> = specs.iter().map(|s| s.name).filter(|n| partitions.contains_key(n)).collect();
    let described = match existing.is_empty() {
        true => Ok(BTreeMap::new()),
        false => describe(&admin, &existing).await,
    };
    let described = match described {
        Ok(d) => d,
        Err(e) => {
            out.warnings.push(format!("cleanup policies and retention not checked: {e}"));
            BTreeMap::new()
        }
    };
    let horizon = horizon_ms(config);
    for spec in &specs {
        let Some(&n) = partitions.get(spec.name) else {
            out.problems.push(format!("topic {} does not exist: create the topics with `bursar topics create --config ...`", spec.name));
            continue;
        };
        let (policy, retention) = described.get(spec.name).cloned().unwrap_or_default();
        out.topics.push(format!("{}: {n} partition(s), cleanup.policy={policy}, retention {}", spec.name, retention.map_or("unknown".into(), show)));
        if spec.policy == "compact" && !policy.is_empty() && !policy.split(',').any(|p| p.trim() == "compact") {
            out.problems.push(format!(
                "topic {} has cleanup.policy={policy}; it holds a table and must be compacted: `kafka-configs.sh --alter --entity-type topics --entity-name {} --add-config cleanup.policy=compact`",
                spec.name, spec.name
            ));
        }
        if let (Some(wants), Some(has)) = (spec.retention, retention) {
            if has < Retention::Millis(horizon) {
                out.warnings.push(format!(
                    "topic {} {}; it is also shorter than the {} bursar's rules look back on (the longest dormancy, a year of banking), so a replay cannot rebuild their state",
                    spec.name,
                    retention_fix(spec.name, has, wants.max(Retention::Millis(horizon))),
                    show(Retention::Millis(horizon))
                ));
            } else if has < wants {
                out.warnings.push(format!("topic {} {}", spec.name, retention_fix(spec.name, has, wants)));
            }
        }
    }
    if let (Some(&usage), Some(&changelog)) = (partitions.get(t.usage.as_str()), partitions.get(t.changelog.as_str())) {
        if usage != changelog {
            out.problems.push(not_co_partitioned(&t.changelog, changelog, &t.usage, usage));
        } else {
            state_check(config, usage, reset_state, &mut out)?;
        }
    }
    close_in_background(admin);
    Ok(out)
}

/// The longest history the rules look back on: the default dormancy and a year of banking.
fn horizon_ms(config: &Config) -> i64 {
    parse_duration(&config.dormancy).unwrap_or(0).max(BANKING_HORIZON_MS)
}

/// Committed offsets of the group against the changelog: a partition with
/// committed offsets and an empty changelog partition lost its state.
fn state_check(config: &Config, partitions: usize, reset_state: bool, out: &mut Preflight) -> Result<(), KafkaError> {
    let kafka = config.kafka_client()?;
    let t = &config.topics;
    let consumer: BaseConsumer<Quiet> = kafka.offsets_reader().create_with_context(Quiet).map_err(SetupError::client("creating the offsets reader"))?;
    let ids: Vec<i32> = (0..partitions as i32).collect();
    let mut query = TopicPartitionList::new();
    for &p in &ids {
        query.add_partition(&t.usage, p);
    }
    let committed = consumer.committed_offsets(query, OFFSETS_TIMEOUT).map_err(SetupError::client(format!("reading the committed offsets of group {}", kafka.group_id)))?;
    let marks = watermarks(&consumer, &t.changelog, &ids)?;
    close_in_background(consumer);
    let lost: Vec<(i32, i64)> = committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) if o > 0 && marks.get(&e.partition()).is_none_or(|(low, high)| high <= low) => Some((e.partition(), o)),
            _ => None,
        })
        .collect();
    if lost.is_empty() {
        return Ok(());
    }
    let list = lost.iter().map(|(p, o)| format!("{p} (committed offset {o})")).collect::<Vec<_>>().join(", ");
    let thrown = "every credential's windows, balances and banked credit, duplicate memory and idle timers on them; findings and balances differ from a replay of the same records";
    if reset_state {
        out.warnings.push(format!("--reset-state: usage partition(s) {list} of group {} start from their committed offsets with empty state, throwing away {thrown}", kafka.group_id));
    } else {
        out.problems.push(format!(
            "group {} has committed offsets on usage partition(s) {list} but the changelog {} holds no state for them (deleted or recreated?): starting would give wrong findings and balances. \
             Restore the changelog, or rebuild the state (docs/operations.md \"Lost state\"), or pass `run --reset-state` to start with empty state, which throws away {thrown}",
            kafka.group_id, t.changelog
        ));
    }
    Ok(())
}
