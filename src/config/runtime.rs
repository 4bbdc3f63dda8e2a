//! The live runtime's settings: guarantee, group membership, batching,
//! metrics address and log format, parsed once from the file's keys.

use std::net::SocketAddr;
use std::time::Duration;

use super::{duration, invalid, Config, ConfigError, Guarantee, LogFormat};

/// Default `batch_linger` (README.md "Configuration"): short enough for an
/// event-to-finding p99 of 250 ms at 20k events/s.
pub const DEFAULT_BATCH_LINGER: &str = "100ms";

/// Default `broker_outage`: how long `run` rides out an unreachable broker.
pub const DEFAULT_BROKER_OUTAGE: &str = "5m";

/// Default `[topics.retention]` of usage and findings: more than a year, so
/// `replay --topic` covers a year of banking (`bank_months = 12`) and the
/// default 90-day dormancy with room (docs/operations.md "Topics and retention").
pub const DEFAULT_RETENTION: &str = "400d";

/// A topic's retention: a number of milliseconds or forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Retention {
    /// `retention.ms` as a positive number.
    Millis(i64),
    /// `retention.ms = -1` (`"infinite"`; with tiered storage the history is cheap).
    Infinite,
}

impl Retention {
    /// The value of `retention.ms`.
    pub fn as_ms(self) -> i64 {
        match self {
            Retention::Millis(ms) => ms,
            Retention::Infinite => -1,
        }
    }

    /// Reads a broker's `retention.ms` (negative: forever).
    pub fn from_ms(ms: i64) -> Retention {
        if ms < 0 {
            Retention::Infinite
        } else {
            Retention::Millis(ms)
        }
    }
}

/// The retention the usage and findings topics are created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicRetentions {
    pub usage: Retention,
    pub findings: Retention,
}

/// What `bursar run` needs besides the engine and the librdkafka settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Delivery guarantee (`guarantee`). Default `at_least_once`.
    pub guarantee: Guarantee,
    /// Consumer group of the live processor (`group_id`). Default `bursar`.
    pub group_id: String,
    /// This instance's name (`instance_id`), resolved: the key, else the host
    /// name (`HOSTNAME`, `/etc/hostname`), else `bursar`.
    pub instance_id: String,
    /// Most records per batch (`batch_size`). Default 50000.
    pub batch_size: usize,
    /// Longest wait to fill a batch (`batch_linger`; at least 1 ms). Default 100 ms.
    pub batch_linger: Duration,
    /// Address of `/metrics` and `/healthz` (`metrics_addr`). Default `127.0.0.1:9464`.
    pub metrics_addr: SocketAddr,
    /// `human` (default) or `json` (`log_format`).
    pub log_format: LogFormat,
    /// Longest broker outage ridden out (`broker_outage`). Default 5 min.
    pub broker_outage: Duration,
}

impl RuntimeConfig {
    /// `<group_id>-<instance_id>`: the static member id (`group.instance.id`,
    /// KIP-345) and, under exactly_once, the `transactional.id`.
    pub fn member_id(&self) -> String {
        format!("{}-{}", self.group_id, self.instance_id)
    }
}

impl Config {
    /// The runtime settings, validated; each error names the key and the fix.
    pub fn runtime(&self) -> Result<RuntimeConfig, ConfigError> {
        if self.group_id.is_empty() {
            return Err(invalid("group_id", &self.group_id, "give the consumer group a non-empty name"));
        }
        let metrics_addr = self
            .metrics_addr
            .parse::<SocketAddr>()
            .map_err(|_| invalid("metrics_addr", &self.metrics_addr, "write host:port with an IP address, e.g. \"127.0.0.1:9464\""))?;
        if self.batch_size == 0 {
            return Err(invalid("batch_size", self.batch_size, "use a positive number of records, e.g. 50000"));
        }
        let linger_ms = duration("batch_linger", &self.batch_linger)?;
        let outage_ms = duration("broker_outage", &self.broker_outage)?;
        if outage_ms < 1_000 {
            return Err(invalid("broker_outage", &self.broker_outage, "use at least \"1s\", e.g. \"5m\" (the processor then exits when the broker stays unreachable that long)"));
        }
        Ok(RuntimeConfig {
            guarantee: self.guarantee,
            group_id: self.group_id.clone(),
            instance_id: self.instance_id(),
            batch_size: self.batch_size,
            // `"0ms"` polls once per batch: at least 1 ms.
            batch_linger: Duration::from_millis(linger_ms.max(1) as u64),
            metrics_addr,
            log_format: self.log_format,
            broker_outage: Duration::from_millis(outage_ms as u64),
        })
    }

    /// `[topics.retention]`, validated: a positive duration or `"infinite"`.
    pub fn retention(&self) -> Result<TopicRetentions, ConfigError> {
        let one = |key: &str, value: &str| -> Result<Retention, ConfigError> {
            if value == "infinite" {
                return Ok(Retention::Infinite);
            }
            match duration(key, value) {
                Ok(ms) if ms > 0 => Ok(Retention::Millis(ms)),
                _ => Err(invalid(key, value, "write a positive duration such as \"400d\", or \"infinite\" (with tiered storage); see docs/operations.md \"Topics and retention\"")),
            }
        };
        Ok(TopicRetentions { usage: one("topics.retention.usage", &self.topics.retention.usage)?, findings: one("topics.retention.findings", &self.topics.retention.findings)? })
    }
}
