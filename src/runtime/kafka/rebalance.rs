//! The usage consumer's context: partitions assigned and revoked by the
//! group since the processor last looked, and the consumer lag from
//! librdkafka's statistics.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::statistics::Statistics;
use rdkafka::ClientContext;

use crate::telemetry::{InternalEvent, Metrics, PartitionsAssigned};

pub(super) struct Tracker {
    assigned: Mutex<BTreeSet<i32>>,
    revoked: Mutex<BTreeSet<i32>>,
    revoke_seen: AtomicBool,
    /// True from an assignment to the next revocation (readiness).
    assigned_now: AtomicBool,
    /// Where the consumer lag and the rebalance events go.
    metrics: Arc<Metrics>,
    topic: String,
}

impl Tracker {
    pub(super) fn new(topic: &str, metrics: Arc<Metrics>) -> Tracker {
        Tracker { assigned: Mutex::default(), revoked: Mutex::default(), revoke_seen: AtomicBool::new(false), assigned_now: AtomicBool::new(false), metrics, topic: topic.to_string() }
    }

    /// True once after a revocation (a batch being filled ends early).
    pub(super) fn take_revoke_seen(&self) -> bool {
        self.revoke_seen.swap(false, Ordering::SeqCst)
    }

    /// True when the group has assigned this member its partitions (possibly
    /// none) and not revoked them since.
    pub(super) fn is_assigned(&self) -> bool {
        self.assigned_now.load(Ordering::SeqCst)
    }

    pub(super) fn revoked_contains(&self, partition: i32) -> bool {
        self.revoked.lock().map(|r| r.contains(&partition)).unwrap_or(false)
    }

    /// The partitions revoked since the last call (kept until `clear_revoked`).
    pub(super) fn revoked(&self) -> Vec<i32> {
        self.revoked.lock().map(|r| r.iter().copied().collect()).unwrap_or_default()
    }

    pub(super) fn clear_revoked(&self) {
        if let Ok(mut r) = self.revoked.lock() {
            r.clear();
        }
    }

    /// True when partitions were assigned since the last `take_assigned`.
    pub(super) fn assignment_waiting(&self) -> bool {
        self.assigned.lock().map(|a| !a.is_empty()).unwrap_or(false)
    }

    /// The partitions assigned since the last call.
    pub(super) fn take_assigned(&self) -> BTreeSet<i32> {
        self.assigned.lock().map(|mut a| std::mem::take(&mut *a)).unwrap_or_default()
    }
}

impl ClientContext for Tracker {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        super::quiet::client_log(level, fac, log_message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        super::quiet::client_error(&error, reason);
    }

    /// librdkafka's statistics (`statistics.interval.ms`): the lag of each
    /// assigned usage partition (end, or last stable offset, minus committed).
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else { return };
        for (p, s) in &topic.partitions {
            if *p >= 0 && s.consumer_lag >= 0 {
                self.metrics.observe_lag(*p, s.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for Tracker {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            if let Ok(mut r) = self.revoked.lock() {
                r.extend(tpl.elements().iter().map(|e| e.partition()));
            }
            self.revoke_seen.store(true, Ordering::SeqCst);
            self.assigned_now.store(false, Ordering::SeqCst);
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let partitions: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
            if let Ok(mut a) = self.assigned.lock() {
                a.extend(partitions.iter().copied());
            }
            self.assigned_now.store(true, Ordering::SeqCst);
            PartitionsAssigned { partitions: &partitions }.emit(&self.metrics);
        }
    }
}
