//! The processor's metrics (README.md "Running on Kafka", observability):
//! engine counters, the counters of the observable events (`events.rs`),
//! processing latency as a Prometheus histogram, consumer lag, credentials
//! in state. An HdrHistogram of the same latencies gives exact quantiles to
//! the broker benchmark (`latency_quantiles`).

use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram as PromHistogram;
use prometheus_client::registry::Registry;

use super::ratelimit::RateLimiter;

use crate::decode::RejectKind;
use crate::rules::tuning::Outcome;
use crate::rules::Rule;
use crate::engine::Stats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabel {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SuppressedLabel {
    rule: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabel {
    partition: String,
}

/// Upper bounds (seconds) of `bursar_processing_latency_seconds`: 1 ms to
/// 60 s, finer around the 250 ms p99 target.
pub const LATENCY_BUCKETS: [f64; 15] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Every metric, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    events: Counter,
    duplicates: Counter,
    late: Counter,
    rejected: Family<KindLabel, Counter>,
    findings: Family<RuleLabel, Counter>,
    suppressed: Family<SuppressedLabel, Counter>,
    credentials: Gauge,
    lag: Family<PartitionLabel, Gauge>,
    latency: PromHistogram,
    pub(super) batches: Counter,
    pub(super) aborts: Counter,
    pub(super) entitlements_skipped: Counter,
    pub(super) consumer_errors: Counter,
    pub(super) commit_failures: Counter,
    pub(super) partitions_assigned: Counter,
    pub(super) partitions_revoked: Counter,
    pub(super) partitions_restored: Counter,
    pub(super) changelog_records_restored: Counter,
    /// Unix seconds of the last committed batch (the process start before the first).
    last_commit: Gauge,
    pub(super) event_lead_rejected: Counter,
    pub(super) entitlement_unknown_keys: Counter,
    /// Broker outages `run` rode out or is riding out (docs/operations.md "Broker outages").
    broker_outages: Counter,
    /// 1 while the broker is unreachable, else 0.
    broker_unreachable: Gauge,
    last: Mutex<Stats>,
    histogram: Mutex<Histogram<u64>>,
    limiter: RateLimiter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::with_limiter(RateLimiter::default())
    }

    /// Metrics whose rate-limited log lines go through `limiter` (tests: a fake clock).
    pub fn with_limiter(limiter: RateLimiter) -> Metrics {
        let mut registry = Registry::with_prefix("bursar");
        let events = Counter::default();
        let duplicates = Counter::default();
        let late = Counter::default();
        let rejected = Family::<KindLabel, Counter>::default();
        let findings = Family::<RuleLabel, Counter>::default();
        let suppressed = Family::<SuppressedLabel, Counter>::default();
        let credentials = Gauge::default();
        let lag = Family::<PartitionLabel, Gauge>::default();
        let latency = PromHistogram::new(LATENCY_BUCKETS.into_iter());
        let [batches, aborts, entitlements_skipped, consumer_errors, commit_failures, partitions_assigned, partitions_revoked, partitions_restored, changelog_records_restored] =
            std::array::from_fn(|_| Counter::default());
        registry.register("events", "Accepted usage events", events.clone());
        registry.register("duplicates", "Usage events dropped as duplicates", duplicates.clone());
        registry.register("late_events", "Usage events that missed at least one closed window", late.clone());
        registry.register("rejected", "Rejected input records by kind", rejected.clone());
        registry.register("findings", "Findings by rule", findings.clone());
        registry.register("findings_suppressed", "Findings tuning marked suppressed, dropped, or removed as their rule is switched off (docs/semantics.md, Tuning and suppression)", suppressed.clone());
        registry.register("credentials_in_state", "Credentials held in state", credentials.clone());
        registry.register("consumer_lag", "Records behind the end of each assigned usage partition", lag.clone());
        registry.register("processing_latency_seconds", "Record consumed to its batch committed (outputs acknowledged)", latency.clone());
        registry.register("batches", "Committed processing batches", batches.clone());
        registry.register("transactions_aborted", "Transactions aborted and rewound (exactly_once)", aborts.clone());
        registry.register("entitlements_skipped", "Entitlement records skipped as invalid", entitlements_skipped.clone());
        registry.register("consumer_errors", "Errors reported by the usage consumer (librdkafka retries them)", consumer_errors.clone());
        registry.register("commit_failures", "Offset commits that failed (not fatal: the next owner resumes from the last commit)", commit_failures.clone());
        registry.register("partitions_assigned", "Usage partitions assigned to this instance", partitions_assigned.clone());
        registry.register("partitions_revoked", "Usage partitions revoked from this instance", partitions_revoked.clone());
        registry.register("partitions_restored", "Usage partitions whose state was restored from the changelog", partitions_restored.clone());
        registry.register("changelog_records_restored", "Changelog records read back while restoring", changelog_records_restored.clone());
        let last_commit = Gauge::default();
        last_commit.set(unix_seconds());
        registry.register("last_commit_timestamp_seconds", "Unix time of the last committed batch (the process start before the first)", last_commit.clone());
        let (event_lead_rejected, entitlement_unknown_keys) = (Counter::default(), Counter::default());
        registry.register("event_lead_rejected", "Usage records rejected because the event time is more than max_event_lead ahead of the record timestamp", event_lead_rejected.clone());
        registry.register("entitlement_unknown_keys", "Unknown keys found in loaded entitlements (each is ignored; see `bursar validate`)", entitlement_unknown_keys.clone());
        let (broker_outages, broker_unreachable) = (Counter::default(), Gauge::default());
        registry.register("broker_outages", "Broker outages the live processor rode out or is riding out (docs/operations.md, Broker outages)", broker_outages.clone());
        registry.register("broker_unreachable", "1 while the broker is unreachable and the processor retries, else 0", broker_unreachable.clone());
        for kind in RejectKind::ALL {
            let _ = rejected.get_or_create(&KindLabel { kind: kind.as_str().into() });
        }
        for rule in Rule::ALL {
            let _ = findings.get_or_create(&RuleLabel { rule: rule.as_str().into() });
        }
        let histogram = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        Metrics {
            registry,
            events,
            duplicates,
            late,
            rejected,
            findings,
            suppressed,
            credentials,
            lag,
            latency,
            batches,
            aborts,
            entitlements_skipped,
            consumer_errors,
            commit_failures,
            partitions_assigned,
            partitions_revoked,
            partitions_restored,
            changelog_records_restored,
            last_commit,
            event_lead_rejected,
            entitlement_unknown_keys,
            broker_outages,
            broker_unreachable,
            last: Mutex::new(Stats::default()),
            histogram: Mutex::new(histogram),
            limiter,
        }
    }

    /// Counts a committed batch (`bursar_batches_total`) and stamps its time
    /// (`bursar_last_commit_timestamp_seconds`, the "no commit" alert of ops/prometheus/alerts.yml).
    pub(super) fn batch_committed(&self) {
        self.batches.inc();
        self.last_commit.set(unix_seconds());
    }

    /// An outage started (`bursar_broker_outages_total`, `bursar_broker_unreachable` 1).
    pub(super) fn broker_outage_started(&self) {
        self.broker_outages.inc();
        self.broker_unreachable.set(1);
    }

    /// The outage ended (`bursar_broker_unreachable` 0).
    pub(super) fn broker_outage_ended(&self) {
        self.broker_unreachable.set(0);
    }

    /// The limiter of rate-limited log lines.
    pub(super) fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Counts one rejected record (`events::RecordRejected`).
    pub(super) fn count_rejected(&self, kind: RejectKind) {
        self.rejected.get_or_create(&KindLabel { kind: kind.as_str().into() }).inc();
    }

    /// Brings the counters of accepted events, duplicates, late events and
    /// findings up to the engine's totals (rejections are counted as events).
    pub fn observe_engine(&self, stats: &Stats, credentials: usize) {
        let Ok(mut last) = self.last.lock() else { return };
        self.events.inc_by(stats.events.saturating_sub(last.events));
        self.duplicates.inc_by(stats.duplicates.saturating_sub(last.duplicates));
        self.late.inc_by(stats.late_events.saturating_sub(last.late_events));
        for (i, rule) in Rule::ALL.iter().enumerate() {
            self.findings.get_or_create(&RuleLabel { rule: rule.as_str().into() }).inc_by(stats.findings[i].saturating_sub(last.findings[i]));
            for (j, outcome) in Outcome::COUNTED.iter().enumerate() {
                let n = stats.suppressed[i][j].saturating_sub(last.suppressed[i][j]);
                if let (true, Some(action)) = (n > 0, outcome.label()) {
                    self.suppressed.get_or_create(&SuppressedLabel { rule: rule.as_str().into(), action: action.into() }).inc_by(n);
                }
            }
        }
        *last = stats.clone();
        self.credentials.set(credentials as i64);
    }

    /// Records one record's consumed-to-committed latency.
    pub fn observe_latency(&self, latency: Duration) {
        self.latency.observe(latency.as_secs_f64());
        if let Ok(mut h) = self.histogram.lock() {
            let _ = h.record((latency.as_micros() as u64).max(1));
        }
    }

    /// Records the lag of one partition.
    pub fn observe_lag(&self, partition: i32, lag: i64) {
        self.lag.get_or_create(&PartitionLabel { partition: partition.to_string() }).set(lag.max(0));
    }

    /// Forgets the lag of a partition this instance no longer consumes.
    pub fn forget_lag(&self, partition: i32) {
        self.lag.remove(&PartitionLabel { partition: partition.to_string() });
    }

    /// Latency quantiles (p50, p99, p99.9) in seconds, exact to 3 digits
    /// (the broker benchmark's figures; `/metrics` has the histogram).
    pub fn latency_quantiles(&self) -> [f64; 3] {
        let Ok(h) = self.histogram.lock() else { return [0.0; 3] };
        [0.5, 0.99, 0.999].map(|q| h.value_at_quantile(q) as f64 / 1e6)
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn unix_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{InternalEvent, RecordRejected};

    #[test]
    fn rendered_metrics_carry_engine_counters_and_the_latency_histogram() {
        let m = Metrics::new();
        let mut s = Stats { events: 5, ..Stats::default() };
        s.findings[Rule::Burst as usize] = 3;

        s.suppressed[Rule::ScopeDrift as usize][1] = 2;
        m.observe_engine(&s, 7);
        s.events = 8;
        m.observe_engine(&s, 7);
        RecordRejected { kind: RejectKind::InvalidJson, partition: 0, offset: 1, ahead: false }.emit(&m);
        RecordRejected { kind: RejectKind::InvalidJson, partition: 0, offset: 2, ahead: false }.emit(&m);
        RecordRejected { kind: RejectKind::InvalidField, partition: 0, offset: 3, ahead: true }.emit(&m);
        m.observe_latency(Duration::from_micros(1_500));
        m.observe_latency(Duration::from_millis(200));
        m.observe_latency(Duration::from_secs(90));
        m.observe_lag(3, 42);
        let text = m.render();
        assert!(text.contains("bursar_events_total 8"), "{text}");
        assert!(text.contains("bursar_rejected_total{kind=\"invalid_json\"} 2"), "{text}");
        assert!(text.contains("bursar_rejected_total{kind=\"invalid_field\"} 1"), "{text}");
        assert!(text.contains("bursar_event_lead_rejected_total 1"), "{text}");
        assert!(text.contains("bursar_findings_total{rule=\"burst\"} 3"), "{text}");
        assert!(text.contains("bursar_credentials_in_state 7"), "{text}");
        assert!(text.contains("bursar_findings_suppressed_total{rule=\"scope.drift\",action=\"drop\"} 2"), "{text}");
        assert!(!text.contains("action=\"mark\""), "{text}");
        assert!(text.contains("bursar_consumer_lag{partition=\"3\"} 42"), "{text}");
        assert!(text.contains("# TYPE bursar_processing_latency_seconds histogram"), "{text}");
        for (le, count) in [("0.001", 0), ("0.0025", 1), ("0.25", 2), ("60.0", 2), ("+Inf", 3)] {
            assert!(text.contains(&format!("bursar_processing_latency_seconds_bucket{{le=\"{le}\"}} {count}")), "le {le}: {text}");
        }
        assert!(text.contains("bursar_processing_latency_seconds_count 3"), "{text}");
        assert!(text.contains("bursar_processing_latency_seconds_sum 90.2015"), "{text}");
        assert!(!text.contains("quantile"), "{text}");
        let [p50, _, _] = m.latency_quantiles();
        assert!((p50 - 0.2).abs() < 0.001, "{p50}");
    }
}
