//! The entitlements topic as a global table: every instance reads all its
//! partitions to their end before processing usage, then keeps following it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::message::BorrowedMessage;
use rdkafka::Message;

use super::error::{KafkaError, RunError};
use super::reader::{PartitionReader, PastEnd};
use crate::config::KafkaConfig;
use crate::decode::entitlement::decode_entitlement_kafka_with_unknown_keys;
use crate::engine::Engine;
use crate::telemetry::{ConsumerError, EntitlementSkipped, EntitlementUnknownKeys, EntitlementsLoaded, InternalEvent, Metrics};

/// Longest wait for the table's read to make progress.
const CATCH_UP_STALL: Duration = Duration::from_secs(600);

pub(crate) struct EntitlementFollower {
    reader: PartitionReader,
    /// The first and end offsets read before the partitions were assigned,
    /// for the first catch-up: asked again once assigned, the offsets request
    /// would wait behind the reader's own long-polling fetches (up to
    /// `fetch.wait.max.ms`, 500 ms, per request).
    marks: Option<BTreeMap<i32, (i64, i64)>>,
    metrics: Arc<Metrics>,
    /// Records applied and skipped as invalid.
    pub applied: u64,
    pub skipped: u64,
}

impl EntitlementFollower {
    /// Assigns every partition of the entitlements topic from its first offset.
    pub fn new(kafka: &KafkaConfig, topic: &str, read_committed: bool, metrics: Arc<Metrics>) -> Result<EntitlementFollower, KafkaError> {
        let reader = PartitionReader::new(kafka, read_committed, topic, "the entitlements topic", CATCH_UP_STALL)?;
        let partitions = reader.partitions()?;
        let marks = reader.watermarks(&partitions)?;
        reader.assign(marks.iter().map(|(p, (low, _))| (*p, *low)))?;
        Ok(EntitlementFollower { reader, marks: Some(marks), metrics, applied: 0, skipped: 0 })
    }

    /// Reads every partition up to the end it had when this call started, or
    /// for the first call when the follower was created (records past it are
    /// applied too: the table keeps following).
    pub fn catch_up(&mut self, engine: &mut Engine) -> Result<(), KafkaError> {
        let ranges = match self.marks.take() {
            Some(marks) => marks,
            None => self.reader.watermarks(&self.reader.partitions()?)?,
        };
        let (metrics, applied, skipped) = (&self.metrics, &mut self.applied, &mut self.skipped);
        self.reader.read_to_end(&ranges, PastEnd::Deliver, |m| {
            apply(engine, m, metrics, applied, skipped);
            Ok(())
        })?;
        EntitlementsLoaded { records: self.applied, skipped: self.skipped }.emit(&self.metrics);
        Ok(())
    }

    /// Applies whatever new entitlement records have arrived, without waiting.
    /// Errors of a broker outage are counted and logged, not fatal (the
    /// processor notices the outage itself).
    pub fn follow(&mut self, engine: &mut Engine) -> Result<(), RunError> {
        let (metrics, applied, skipped) = (&self.metrics, &mut self.applied, &mut self.skipped);
        self.reader.poll_now(|m| apply(engine, m, metrics, applied, skipped), |e| ConsumerError { error: e }.emit(metrics))?;
        Ok(())
    }
}

/// Applies one entitlements record, or skips it (counted and logged).
fn apply(engine: &mut Engine, m: &BorrowedMessage<'_>, metrics: &Metrics, applied: &mut u64, skipped: &mut u64) {
    match decode_entitlement_kafka_with_unknown_keys(m.key(), m.payload()) {
        Ok((record, unknown)) => {
            EntitlementUnknownKeys { partition: m.partition(), offset: m.offset(), keys: &unknown }.emit(metrics);
            engine.apply_entitlement(record);
            *applied += 1;
        }
        Err(e) => {
            *skipped += 1;
            EntitlementSkipped { partition: m.partition(), offset: m.offset(), reason: &e.to_string() }.emit(metrics);
        }
    }
}
