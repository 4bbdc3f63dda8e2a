//! Producing workloads to Kafka (`bursar gen --topic`), the way platform
//! teams produce: usage keyed by its raw credential (murmur2, as the Java
//! client), entitlements keyed by credential (a tombstone line becomes a null value).

use super::error::KafkaError;
use super::outage::probe_broker;
use super::producer::OutputProducer;
use crate::config::Config;
use crate::decode::key_hint;

/// Produces usage lines to `topic` (key = the line's raw credential or CloudEvent
/// subject, as Kafka's default partitioner then places it). Returns the count.
pub fn produce_lines(config: &Config, topic: &str, lines: impl Iterator<Item = String>) -> Result<u64, KafkaError> {
    // An unreachable broker is named within seconds, before any record is queued.
    let kafka = config.kafka_client()?;
    probe_broker(&kafka)?;
    let p = OutputProducer::create(&kafka.workload_producer())?;
    let mut n = 0u64;
    for line in lines {
        let key = key_hint(line.as_bytes());
        // A line without a key goes to partition 0, as in file replay (docs/semantics.md "Live processing").
        let partition = if key.is_none() { Some(0) } else { None };
        p.send(topic, partition, key.as_deref().map(str::as_bytes), Some(line.as_bytes()), None)?;
        n += 1;
        if n % 10_000 == 0 {
            p.poll();
        }
    }
    p.flush()?;
    Ok(n)
}

/// Produces entitlement lines (JSON Lines form) to `topic`, keyed by credential;
/// `{"credential": ..., "tombstone": true}` becomes a tombstone (null value).
pub fn produce_entitlements(config: &Config, topic: &str, lines: impl Iterator<Item = String>) -> Result<u64, KafkaError> {
    let kafka = config.kafka_client()?;
    probe_broker(&kafka)?;
    let p = OutputProducer::create(&kafka.workload_producer())?;
    let mut n = 0u64;
    for line in lines {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        let Some(cred) = v.get("credential").and_then(|c| c.as_str()) else { continue };
        let tombstone = v.get("tombstone").and_then(|t| t.as_bool()).unwrap_or(false);
        let value = if tombstone { None } else { Some(line.as_bytes()) };
        p.send(topic, None, Some(cred.as_bytes()), value, None)?;
        n += 1;
    }
    p.flush()?;
    Ok(n)
}
