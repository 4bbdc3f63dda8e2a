//! Typed configuration (README.md "Configuration"): TOML with unknown keys
//! rejected, every default documented here, cross-field checks in one
//! `validate()`. The file ([`Config`]) is parsed once into the sections the
//! program uses: [`EngineConfig`] (`Config::engine`), [`RuntimeConfig`]
//! (`Config::runtime`) and [`KafkaConfig`] (`Config::kafka_client`), the one
//! place librdkafka client settings are built.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::time::parse_duration;

mod engine;
mod kafka;
mod runtime;
mod tuning;
#[cfg(test)]
mod tests;

pub use engine::{EngineConfig, Factor, MAX_THRESHOLDS};
pub use kafka::{KafkaConfig, DEFAULT_KAFKA_TIMEOUT};
pub use tuning::{ActionConfig, RuleTuningConfig, SuppressConfig};
pub use runtime::{Retention, RuntimeConfig, TopicRetentions, DEFAULT_BATCH_LINGER, DEFAULT_BROKER_OUTAGE, DEFAULT_RETENTION};

/// Why a configuration was refused. Each message names the key and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config key `{key}` = {value} is invalid: {fix}")]
    Invalid { key: String, value: String, fix: String },
    #[error("config key `{key}` is required: {fix}")]
    Missing { key: String, fix: String },
    #[error("config key `{key}` cannot be set: bursar sets it for its guarantees; {fix}")]
    Owned { key: String, fix: String },
}

/// librdkafka properties bursar sets itself because its guarantees rest on
/// them (README.md "Configuration"), each with the fix shown when `[kafka]` sets one.
pub const OWNED_KAFKA_KEYS: &[(&str, &str)] = &[
    ("group.id", "set the top-level `group_id` instead"),
    ("group.instance.id", "set the top-level `instance_id` instead (the member id is `<group_id>-<instance_id>`)"),
    ("enable.auto.commit", "remove it: bursar commits input offsets only after a batch's outputs and changelog are acknowledged"),
    ("enable.auto.offset.store", "remove it: bursar commits input offsets only after a batch's outputs and changelog are acknowledged"),
    ("isolation.level", "remove it: bursar reads read_committed, so no record of an aborted transaction is processed or restored"),
    ("enable.idempotence", "remove it: outputs are produced idempotently, so a retry never duplicates or reorders them"),
    ("acks", "remove it: an output counts only once every in-sync replica has it (acks=all)"),
    ("request.required.acks", "remove it: an output counts only once every in-sync replica has it (acks=all)"),
    ("transactional.id", "set `guarantee = \"exactly_once\"` and `instance_id` instead (the transactional id is `<group_id>-<instance_id>`)"),
    ("partitioner", "remove it: outputs are partitioned by key like the Java client (murmur2_random), which determinism needs"),
];

/// Delivery guarantee of the live processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guarantee {
    /// Any Kafka-API broker: no output lost; a re-sent output is byte-identical.
    #[default]
    AtLeastOnce,
    /// Kafka transactions: outputs, changelog and input offsets commit together.
    ExactlyOnce,
}

impl Guarantee {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Guarantee::AtLeastOnce => "at_least_once",
            Guarantee::ExactlyOnce => "exactly_once",
        }
    }
}

/// Format of the `tracing` logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One readable line per event (default).
    #[default]
    Human,
    /// One JSON object per event.
    Json,
}

/// A burst rule as written in configuration (`{ window = "5m", credits = "50" }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstRuleConfig {
    /// Sliding window, a multiple of 60ms (required).
    pub window: String,
    /// Most credits in the window, as a decimal string. Default none.
    pub credits: Option<String>,
    /// Most calls in the window. Default none.
    pub calls: Option<i64>,
    /// Most tokens (in + out) in the window. Default none.
    pub tokens: Option<i64>,
}

/// Topic names (README.md "Outputs").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Topics {
    /// Usage events, keyed by credential. Default `ai.usage`.
    pub usage: String,
    /// Entitlements, compacted, keyed by credential. Default `ai.entitlements`.
    pub entitlements: String,
    /// OCSF findings. Default `governance.findings`.
    pub findings: String,
    /// Tumbling-window aggregates. Default `ai.usage.windows`.
    pub windows: String,
    /// Credit balances, compacted. Default `ai.credit.balances`.
    pub balances: String,
    /// Rejected input with error headers. Default `ai.usage.rejected`.
    pub rejected: String,
    /// Per-credential state, compacted, co-partitioned with usage. Default `bursar.changelog`.
    pub changelog: String,
    /// Partitions for `bursar topics create`. Default 4.
    pub partitions: i32,
    /// Replication factor for `bursar topics create`. Default 1.
    pub replication_factor: i32,
    /// `retention.ms` of the usage and findings topics for `topics create`
    /// and the pre-flight check (docs/operations.md "Topics and retention").
    pub retention: TopicRetention,
}

/// `[topics.retention]`: how long the usage and findings topics keep
/// records, a duration (`"400d"`) or `"infinite"` (tiered storage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicRetention {
    /// Usage history kept for `replay --topic`. Default `400d`.
    pub usage: String,
    /// Findings kept for the SIEM and audits. Default `400d`.
    pub findings: String,
}

impl Default for TopicRetention {
    fn default() -> Self {
        TopicRetention { usage: DEFAULT_RETENTION.into(), findings: DEFAULT_RETENTION.into() }
    }
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            usage: "ai.usage".into(),
            entitlements: "ai.entitlements".into(),
            findings: "governance.findings".into(),
            windows: "ai.usage.windows".into(),
            balances: "ai.credit.balances".into(),
            rejected: "ai.usage.rejected".into(),
            changelog: "bursar.changelog".into(),
            partitions: 4,
            replication_factor: 1,
            retention: TopicRetention::default(),
        }
    }
}

/// The whole configuration file. Every field has a default except
/// `kafka."bootstrap.servers"`, which the Kafka commands require.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `at_least_once` (default) or `exactly_once`.
    pub guarantee: Guarantee,
    /// Consumer group of the live processor. Default `bursar`.
    pub group_id: String,
    /// Watermark = max event time - lateness. Default `30s`.
    pub lateness: String,
    /// How long an event id is remembered for duplicate detection. Default `1h`.
    pub dedupe_window: String,
    /// Tumbling window sizes. Default `["1m", "1h"]`.
    pub windows: Vec<String>,
    /// Dormancy when the entitlement sets none. Default `90d`.
    pub dormancy: String,
    /// Fractions of available credit at which `credits.threshold` fires. Default `[0.8, 1.0]`.
    pub thresholds: Vec<f64>,
    /// Fraction of the banked remainder whose use fires `banking.drawdown`. Default 0.5.
    pub drawdown: f64,
    /// Multiple of the monthly grant at which banked credit fires `banking.accumulation`. Default 2.0.
    pub accumulation: f64,
    /// Largest accepted usage record value in bytes. Default 65536.
    pub max_value_bytes: usize,
    /// Address of `/metrics` and `/healthz`. Default `127.0.0.1:9464`.
    pub metrics_addr: String,
    /// `human` (default) or `json`.
    pub log_format: LogFormat,
    /// (bursar addition) Learning period of `scope.drift` from a credential's first event. Default `7d`.
    pub learning_period: String,
    /// (bursar addition) Burst rules for credentials whose entitlement has no `burst`,
    /// and for unmanaged credentials. Default none.
    pub burst: Vec<BurstRuleConfig>,
    /// (bursar addition) Most records per processing batch in `run`: each batch
    /// ends with outputs acknowledged, the changelog written and offsets
    /// committed (Kafka Streams' commit interval). Default 50000.
    pub batch_size: usize,
    /// (bursar addition) Longest wait to fill a batch in `run`. Default `100ms`
    /// (an event-to-finding p99 within 250 ms at 20k events/s).
    pub batch_linger: String,
    /// (bursar addition) This instance's stable name: its static group membership
    /// (`group.instance.id`) and, under exactly_once, its `transactional.id`, both
    /// `<group_id>-<instance_id>`. Give every instance its own. Default: the host name.
    pub instance_id: Option<String>,
    /// Scope dimensions in which `scope.drift` fires: any of `capability`,
    /// `model`, `principal`, `network`, each once. Default `["capability", "model"]`.
    pub drift_dimensions: Vec<String>,
    /// Most distinct principals a credential may use in a UTC day before
    /// `credential.shared` fires, when its entitlement sets none. Default none (rule off).
    pub max_principals: Option<i64>,
    /// Most distinct `src_ip` values a credential may be used from in a UTC
    /// day before `credential.shared` fires, when its entitlement sets none. Default none (rule off).
    pub max_source_ips: Option<i64>,
    /// (bursar addition) How long `run` rides out a broker outage (retrying
    /// with backoff, clients rebuilt) before it exits (docs/operations.md
    /// "Broker outages"). Default `5m`.
    pub broker_outage: String,
    /// (bursar addition) Data-quality guard, opt-in: a usage event whose time is more
    /// than this ahead of its Kafka record timestamp is rejected as `invalid_field`
    /// (docs/semantics.md "Bad input"). A file line has no record timestamp, so the
    /// guard applies on Kafka only (`run`, `replay --topic`). Default absent (off).
    pub max_event_lead: Option<String>,
    /// Topic names and the partitions of `topics create`. Defaults: see [`Topics`].
    pub topics: Topics,
    /// Passed to librdkafka unchanged (bootstrap.servers, security.protocol,
    /// sasl.*, ssl.*), except the keys bursar owns ([`OWNED_KAFKA_KEYS`]).
    /// Default empty; `bootstrap.servers` is required by the Kafka commands.
    pub kafka: BTreeMap<String, toml::Value>,
    /// (bursar addition) Per-rule tuning, `[rules."<rule>"]` with `enabled`
    /// and `severity` (docs/semantics.md "Tuning and suppression"). Default: none.
    pub rules: BTreeMap<String, RuleTuningConfig>,
    /// (bursar addition) `[[suppress]]` entries that mark or drop matching
    /// findings (docs/semantics.md "Tuning and suppression"). Default: none.
    pub suppress: Vec<SuppressConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            guarantee: Guarantee::AtLeastOnce,
            group_id: "bursar".into(),
            lateness: "30s".into(),
            dedupe_window: "1h".into(),
            windows: vec!["1m".into(), "1h".into()],
            dormancy: "90d".into(),
            thresholds: vec![0.8, 1.0],
            drawdown: 0.5,
            accumulation: 2.0,
            max_value_bytes: 65_536,
            metrics_addr: "127.0.0.1:9464".into(),
            log_format: LogFormat::Human,
            learning_period: "7d".into(),
            burst: Vec::new(),
            batch_size: 50_000,
            batch_linger: DEFAULT_BATCH_LINGER.into(),
            instance_id: None,
            drift_dimensions: vec!["capability".into(), "model".into()],
            max_principals: None,
            max_source_ips: None,
            broker_outage: DEFAULT_BROKER_OUTAGE.into(),
            max_event_lead: None,
            topics: Topics::default(),
            kafka: BTreeMap::new(),
            rules: BTreeMap::new(),
            suppress: Vec::new(),
        }
    }
}

pub(crate) fn invalid(key: &str, value: impl std::fmt::Debug, fix: &str) -> ConfigError {
    ConfigError::Invalid { key: key.to_string(), value: format!("{value:?}"), fix: fix.to_string() }
}

pub(crate) fn duration(key: &str, value: &str) -> Result<i64, ConfigError> {
    parse_duration(value).map_err(|_| invalid(key, value, "write <integer><unit> with unit ms, s, m, h or d, e.g. \"30s\" or \"90d\""))
}

impl Config {
    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let config = Config::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse { path: path.display().to_string(), message },
            other => other,
        })?;
        Ok(config)
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: String::new(),
            message: format!("{}(see the configuration table in README.md for every key and its default)", e),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Cross-field checks; each error names the key and the fix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.engine()?;
        self.runtime()?;
        let t = &self.topics;
        for (key, name) in [
            ("topics.usage", &t.usage),
            ("topics.entitlements", &t.entitlements),
            ("topics.findings", &t.findings),
            ("topics.windows", &t.windows),
            ("topics.balances", &t.balances),
            ("topics.rejected", &t.rejected),
            ("topics.changelog", &t.changelog),
        ] {
            let ok = !name.is_empty() && name.len() <= 249 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !ok {
                return Err(invalid(key, name, "use a Kafka topic name: 1 to 249 characters of [A-Za-z0-9._-]"));
            }
        }
        if t.partitions < 1 {
            return Err(invalid("topics.partitions", t.partitions, "use at least 1"));
        }
        if t.replication_factor < 1 {
            return Err(invalid("topics.replication_factor", t.replication_factor, "use at least 1"));
        }
        for (k, v) in &self.kafka {
            if let Some((_, fix)) = OWNED_KAFKA_KEYS.iter().find(|(owned, _)| owned == k) {
                return Err(ConfigError::Owned { key: format!("kafka.\"{k}\""), fix: fix.to_string() });
            }
            if matches!(v, toml::Value::Array(_) | toml::Value::Table(_) | toml::Value::Datetime(_)) {
                return Err(invalid(&format!("kafka.\"{k}\""), v, "librdkafka properties are strings, numbers or booleans"));
            }
        }
        self.kafka_timeouts()?;
        self.retention()?;
        Ok(())
    }

    /// `kafka."bootstrap.servers"`, required by every command that talks to Kafka.
    pub fn bootstrap_servers(&self) -> Result<String, ConfigError> {
        match self.kafka.get("bootstrap.servers") {
            Some(toml::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(ConfigError::Missing {
                key: "kafka.\"bootstrap.servers\"".into(),
                fix: "add it under [kafka], e.g. \"bootstrap.servers\" = \"localhost:9092\"".into(),
            }),
        }
    }

    /// `instance_id`, or the host name, or `bursar`.
    pub fn instance_id(&self) -> String {
        if let Some(id) = &self.instance_id {
            return id.clone();
        }
        std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "bursar".to_string())
    }

    /// The `[kafka]` table as librdkafka properties (values as strings).
    pub fn kafka_properties(&self) -> Vec<(String, String)> {
        self.kafka
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect()
    }
}

/// True for a `[kafka]` key whose value is a secret (`sasl.password`,
/// `ssl.key.password`, anything naming a password, secret or token, a private key).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token", "ssl.key.pem", "sasl.oauthbearer.config"].iter().any(|s| k.contains(s))
}

/// The whole configuration, defaults included, as TOML with every secret
/// `[kafka]` value replaced by `"***"` (`bursar check`).
pub fn masked_toml(config: &Config) -> Result<String, ConfigError> {
    let mut c = config.clone();
    for (k, v) in c.kafka.iter_mut() {
        if is_secret_key(k) {
            *v = toml::Value::String("***".into());
        }
    }
    toml::to_string(&c).map_err(|e| ConfigError::Parse { path: String::new(), message: format!("cannot print the configuration: {e}") })
}
