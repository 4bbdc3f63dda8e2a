//! The one place librdkafka client settings are built: bursar's defaults
//! for each client, the `[kafka]` table over them (tuning such as
//! `linger.ms`), and the keys bursar owns (`OWNED_KAFKA_KEYS`) set last,
//! so its guarantees always hold (README.md "Configuration").

use std::time::Duration;

use rdkafka::config::ClientConfig;

use super::{invalid, Config, ConfigError, Guarantee, RuntimeConfig, OWNED_KAFKA_KEYS};

/// librdkafka's default `message.timeout.ms` and `transaction.timeout.ms`.
pub const DEFAULT_KAFKA_TIMEOUT: Duration = Duration::from_secs(60);

/// Group id of the readers that assign partitions themselves (they commit nothing).
const READER_GROUP: &str = "bursar-reader";

/// The librdkafka settings of every client bursar creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `kafka."bootstrap.servers"`: required by every Kafka command.
    pub bootstrap_servers: String,
    /// The rest of `[kafka]` as librdkafka properties (values as strings),
    /// without the keys bursar owns (refused when the file is loaded).
    pub properties: Vec<(String, String)>,
    /// `kafka."transaction.timeout.ms"`: how long the broker keeps a
    /// transaction of a dead instance open. Default 60 s (librdkafka's).
    pub transaction_timeout: Duration,
    /// `kafka."message.timeout.ms"` as given; default 60 s (librdkafka's).
    /// Under exactly_once the output producer bounds it by
    /// `transaction_timeout` (librdkafka refuses a larger one).
    pub message_timeout: Duration,
    /// The runtime settings the clients depend on (guarantee, group, member id).
    pub guarantee: Guarantee,
    pub group_id: String,
    /// `<group_id>-<instance_id>` (`group.instance.id`, `transactional.id`).
    pub member_id: String,
}

/// A `[kafka]` value read as a positive number of milliseconds, if set.
fn millis(config: &Config, key: &str) -> Result<Option<Duration>, ConfigError> {
    let Some(value) = config.kafka.get(key) else { return Ok(None) };
    let ms = match value {
        toml::Value::Integer(i) => Some(*i),
        toml::Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match ms {
        Some(ms) if ms > 0 => Ok(Some(Duration::from_millis(ms as u64))),
        _ => Err(invalid(&format!("kafka.\"{key}\""), value, "use a positive number of milliseconds, e.g. 60000")),
    }
}

impl Config {
    /// The `[kafka]` timeouts bursar reads itself, validated (no bootstrap needed).
    pub(crate) fn kafka_timeouts(&self) -> Result<(Duration, Duration), ConfigError> {
        let transaction = millis(self, "transaction.timeout.ms")?.unwrap_or(DEFAULT_KAFKA_TIMEOUT);
        let message = millis(self, "message.timeout.ms")?.unwrap_or(DEFAULT_KAFKA_TIMEOUT);
        Ok((transaction, message))
    }

    /// The Kafka client settings; fails without `kafka."bootstrap.servers"`.
    pub fn kafka_client(&self) -> Result<KafkaConfig, ConfigError> {
        let bootstrap_servers = self.bootstrap_servers()?;
        let runtime: RuntimeConfig = self.runtime()?;
        let (transaction_timeout, message_timeout) = self.kafka_timeouts()?;
        let properties = self.kafka_properties().into_iter().filter(|(k, _)| !OWNED_KAFKA_KEYS.iter().any(|(owned, _)| owned == k)).collect();
        Ok(KafkaConfig {
            bootstrap_servers,
            properties,
            transaction_timeout,
            message_timeout,
            guarantee: runtime.guarantee,
            group_id: runtime.group_id.clone(),
            member_id: runtime.member_id(),
        })
    }
}

impl KafkaConfig {
    /// bursar's `defaults`, then `[kafka]` over them, then `owned` (the keys
    /// bursar's guarantees rest on) over everything.
    fn client(&self, defaults: &[(&str, &str)], owned: &[(&str, &str)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        for (k, v) in defaults {
            c.set(*k, *v);
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c.set("bootstrap.servers", &self.bootstrap_servers);
        for (k, v) in owned {
            c.set(*k, *v);
        }
        c
    }

    /// An admin client (`topics create`).
    pub fn admin(&self) -> ClientConfig {
        self.client(&[], &[])
    }

    /// The processor's usage consumer: a static member of `group_id`
    /// (`group.instance.id` = the member id, KIP-345), offsets committed by
    /// bursar only after a batch is acknowledged, `read_committed`, and
    /// librdkafka statistics every 5 s (the consumer lag metric).
    pub fn processor_consumer(&self) -> ClientConfig {
        self.client(
            &[("auto.offset.reset", "earliest"), ("fetch.queue.backoff.ms", "5"), ("statistics.interval.ms", "5000")],
            &[
                ("group.id", &self.group_id),
                ("group.instance.id", &self.member_id),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("isolation.level", "read_committed"),
            ],
        )
    }

    /// A consumer that assigns partitions itself and commits nothing (the
    /// changelog restore, the entitlements table, `replay --topic`).
    pub fn reader(&self, read_committed: bool) -> ClientConfig {
        let isolation = if read_committed { "read_committed" } else { "read_uncommitted" };
        self.client(
            &[("auto.offset.reset", "earliest"), ("fetch.queue.backoff.ms", "5")],
            &[("group.id", READER_GROUP), ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"), ("isolation.level", isolation)],
        )
    }

    /// A consumer of the processor's group that never joins it: reads the
    /// group's committed offsets (the pre-flight state check).
    /// read_uncommitted: a read_committed client asks for stable offsets
    /// only, and the broker holds that answer back while a transaction with
    /// offsets of the group is open: after a kill -9 under exactly_once,
    /// until the transaction times out (the new producer, made after the
    /// check, would abort it at once). The offsets committed so far are what
    /// the check needs.
    pub fn offsets_reader(&self) -> ClientConfig {
        self.client(
            &[("fetch.queue.backoff.ms", "5")],
            &[("group.id", &self.group_id), ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"), ("isolation.level", "read_uncommitted")],
        )
    }

    /// The `message.timeout.ms` of the output producer: as configured, but
    /// under exactly_once at most `transaction.timeout.ms` (a record must time
    /// out before its transaction does; librdkafka refuses the producer otherwise).
    pub fn output_message_timeout(&self) -> Duration {
        match self.guarantee {
            Guarantee::AtLeastOnce => self.message_timeout,
            Guarantee::ExactlyOnce => self.message_timeout.min(self.transaction_timeout),
        }
    }

    /// The processor's producer of outputs and changelog: idempotent,
    /// `acks=all`, lz4, partitioned by key like the Java client
    /// (`murmur2_random`); under exactly_once transactional
    /// (`transactional.id` = the member id).
    pub fn output_producer(&self) -> ClientConfig {
        let timeout = self.output_message_timeout().as_millis().to_string();
        let mut c = self.client(
            &[("linger.ms", "5"), ("compression.type", "lz4")],
            &[("enable.idempotence", "true"), ("acks", "all"), ("partitioner", "murmur2_random"), ("message.timeout.ms", &timeout)],
        );
        if self.guarantee == Guarantee::ExactlyOnce {
            c.set("transactional.id", &self.member_id);
            c.set("transaction.timeout.ms", self.transaction_timeout.as_millis().to_string());
        }
        c
    }

    /// The producer of `gen --topic` and `replay --topic`: idempotent,
    /// `acks=all`, lz4, `murmur2_random`, never transactional.
    pub fn workload_producer(&self) -> ClientConfig {
        self.client(&[("linger.ms", "20"), ("compression.type", "lz4")], &[("enable.idempotence", "true"), ("acks", "all"), ("partitioner", "murmur2_random")])
    }
}
