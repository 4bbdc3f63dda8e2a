//! Why the Kafka runtime stopped: before it processed anything
//! ([`SetupError`]: configuration, topics, broker features) or while it ran
//! ([`RunError`]: the broker, deliveries, state). `retryable` errors are
//! transient: a restart resumes exactly from the changelog and the committed
//! offsets (README.md "Running on Kafka").

use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::types::RDKafkaErrorCode;

use crate::config::ConfigError;
use crate::sink::SinkError;

/// An error of the Kafka runtime: at setup or while running.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Run(#[from] RunError),
}

/// The runtime could not start: nothing was read or written.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("Kafka client error while {context}: {source}")]
    Client { context: String, source: RdKafkaError },
    #[error("the broker does not support transactions, which guarantee = \"exactly_once\" needs: {0}. Use guarantee = \"at_least_once\" with this broker")]
    NoTransactions(String),
    #[error("topic {0} does not exist: create the topics first with `bursar topics create --config ...`")]
    MissingTopic(String),
    #[error("{}", not_co_partitioned(changelog, *changelog_partitions, usage, *usage_partitions))]
    NotCoPartitioned { changelog: String, changelog_partitions: usize, usage: String, usage_partitions: usize },
    #[error("replay output topic {0} does not exist: create it first (e.g. `kafka-topics.sh --create --topic {0}`) or name another; replay never creates topics")]
    MissingOutputTopic(String),
    #[error("refusing to write replay output into the live topic {0}: name another topic, or pass --force-live")]
    LiveTopic(String),
    #[error("creating topic {topic}: the broker answered {code}")]
    CreateTopic { topic: String, code: RDKafkaErrorCode },
    #[error("the broker answered for topic {0}, which `topics create` did not ask for")]
    UnexpectedTopic(String),
    #[error("reading the configuration of topic {topic}: the broker answered {code}")]
    DescribeTopic { topic: String, code: RDKafkaErrorCode },
    #[error("the broker at {broker} did not answer within {waited_secs} s ({source}): check that `kafka.\"bootstrap.servers\"` names a running broker this host can reach (address, port, firewall, `security.protocol`)")]
    Unreachable { broker: String, waited_secs: u64, source: RdKafkaError },
    #[error("the broker at {broker} refused this client's credentials ({reason}): check `kafka.\"sasl.username\"`, `kafka.\"sasl.password\"`, `kafka.\"sasl.mechanism\"` and `kafka.\"security.protocol\"` (for TLS, `kafka.\"ssl.ca.location\"`)")]
    CredentialsRefused { broker: String, reason: String },
    #[error("the pre-flight check failed (docs/operations.md \"Pre-flight check\"):\n  - {}", .0.join("\n  - "))]
    Preflight(Vec<String>),
    #[error("cannot start the I/O runtime of the admin client: {0}")]
    Runtime(std::io::Error),
}

/// The runtime stopped while running. Under at_least_once nothing past the
/// last committed batch counts; under exactly_once its open transaction is aborted.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("Kafka client error while {context}: {source}")]
    Client { context: String, source: RdKafkaError },
    #[error("{count} output record(s) were not acknowledged by the broker ({reason}); offsets of their input are not committed (a restart re-sends them)")]
    Undelivered { count: usize, reason: String },
    #[error("{count} output record(s) still unacknowledged after {waited_secs} s; offsets of their input are not committed (a restart re-sends them)")]
    Unacknowledged { count: usize, waited_secs: u64 },
    #[error("{detail}; the replay's output is incomplete: fix the cause and run the replay again (it starts from fresh state and commits no offsets)")]
    ReplayUndelivered { detail: String },
    #[error("the transactional producer failed fatally ({0}): another instance with the same instance_id (transactional.id) may have fenced this one, or the broker aborted the open transaction after an outage longer than kafka.\"transaction.timeout.ms\"")]
    Fatal(String),
    #[error("the consumer has no group metadata for the transaction (it is not a member of its group yet)")]
    NoGroupMetadata,
    #[error("reading {what} ({topic}) made no progress for {stalled_secs} s at {at}: an open transaction holds a read_committed reader back until it ends (at most `transaction.timeout.ms` after its producer died)")]
    Stalled { what: String, topic: String, at: String, stalled_secs: u64 },
    #[error("the broker gave no offset for {topic} partition {partition} ({answer})")]
    NoOffset { topic: String, partition: i32, answer: String },
    #[error("the broker at {broker} stayed unreachable for {lasted_secs} s, longer than `broker_outage` (last error: {error}): check that the broker is running and reachable from this host, then restart bursar; it resumes exactly from the changelog and the committed offsets")]
    Outage { broker: String, lasted_secs: u64, error: String },
    #[error("the broker fenced the usage consumer ({0}): another member took its place, or the broker restarted")]
    Fenced(String),
    #[error("invalid changelog state: {0}")]
    State(#[from] crate::engine::ChangelogError),
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// The changelog and usage topics differ in partitions: what is wrong and the fix.
pub(crate) fn not_co_partitioned(changelog: &str, changelog_partitions: usize, usage: &str, usage_partitions: usize) -> String {
    format!(
        "the changelog topic {changelog} has {changelog_partitions} partition(s) but the usage topic {usage} has {usage_partitions}: they must be co-partitioned \
         (partition p of the changelog holds the state of usage partition p). If the changelog holds no state yet, delete it and run `bursar topics create` \
         with `topics.partitions = {usage_partitions}`; never add partitions to a keyed topic in place: to re-partition, create new topics and replay into them \
         (docs/operations.md \"Re-partitioning\")"
    )
}

impl SetupError {
    pub(crate) fn client(context: impl Into<String>) -> impl FnOnce(RdKafkaError) -> SetupError {
        let context = context.into();
        move |source| SetupError::Client { context, source }
    }
}

impl RunError {
    pub(crate) fn client(context: impl Into<String>) -> impl FnOnce(RdKafkaError) -> RunError {
        let context = context.into();
        move |source| RunError::Client { context, source }
    }
}

impl From<ConfigError> for KafkaError {
    fn from(e: ConfigError) -> KafkaError {
        KafkaError::Setup(SetupError::Config(e))
    }
}

impl From<SinkError> for KafkaError {
    fn from(e: SinkError) -> KafkaError {
        KafkaError::Run(RunError::Sink(e))
    }
}

impl From<crate::engine::ChangelogError> for KafkaError {
    fn from(e: crate::engine::ChangelogError) -> KafkaError {
        KafkaError::Run(RunError::State(e))
    }
}

/// Exit codes of `run`, `check` and `topics create` (docs/operations.md "Exit codes").
pub mod exit {
    /// Stopped on request, or every check passed.
    pub const OK: u8 = 0;
    /// Configuration, command line, or any other error (the message says which).
    pub const ERROR: u8 = 2;
    /// Topics or state are not what `run` needs (missing, not co-partitioned,
    /// wrong cleanup policy, committed offsets without changelog state).
    pub const PREFLIGHT: u8 = 3;
    /// The broker could not be reached (within a few seconds for `check` and
    /// `topics create`, within `broker_outage` for `run`).
    pub const UNREACHABLE: u8 = 4;
}

impl KafkaError {
    /// The process exit code for this error ([`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            KafkaError::Setup(SetupError::Preflight(_) | SetupError::MissingTopic(_) | SetupError::NotCoPartitioned { .. }) => exit::PREFLIGHT,
            KafkaError::Setup(SetupError::Unreachable { .. }) | KafkaError::Run(RunError::Outage { .. }) => exit::UNREACHABLE,
            _ => exit::ERROR,
        }
    }

    /// True when restarting may succeed (broker unavailable, delivery timeout, a stalled read).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            KafkaError::Setup(SetupError::Client { .. } | SetupError::Unreachable { .. })
                | KafkaError::Run(
                    RunError::Client { .. }
                        | RunError::Undelivered { .. }
                        | RunError::Unacknowledged { .. }
                        | RunError::ReplayUndelivered { .. }
                        | RunError::Stalled { .. }
                        | RunError::Outage { .. }
                        | RunError::Fenced(_)
                        | RunError::Sink(SinkError::Undelivered { .. } | SinkError::Send { .. })
                )
        )
    }
}
