//! The processor's metrics (SPEC §6): engine counters, processing latency
//! percentiles from an HdrHistogram, consumer lag, credentials in state.

use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use hdrhistogram::Histogram;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::engine::output::{RejectKind, Rule};
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
struct PartitionLabel {
    partition: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuantileLabel {
    quantile: String,
}

/// Every metric, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    events: Counter,
    duplicates: Counter,
    late: Counter,
    rejected: Family<KindLabel, Counter>,
    findings: Family<RuleLabel, Counter>,
    credentials: Gauge,
    lag: Family<PartitionLabel, Gauge>,
    latency: Family<QuantileLabel, Gauge<f64, AtomicU64>>,
    batches: Counter,
    aborts: Counter,
    last: Mutex<Stats>,
    histogram: Mutex<Histogram<u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("bursar");
        let events = Counter::default();
        let duplicates = Counter::default();
        let late = Counter::default();
        let rejected = Family::<KindLabel, Counter>::default();
        let findings = Family::<RuleLabel, Counter>::default();
        let credentials = Gauge::default();
        let lag = Family::<PartitionLabel, Gauge>::default();
        let latency = Family::<QuantileLabel, Gauge<f64, AtomicU64>>::default();
        let batches = Counter::default();
        let aborts = Counter::default();
        registry.register("events", "Accepted usage events", events.clone());
        registry.register("duplicates", "Usage events dropped as duplicates", duplicates.clone());
        registry.register("late_events", "Usage events that missed at least one closed window", late.clone());
        registry.register("rejected", "Rejected input records by kind", rejected.clone());
        registry.register("findings", "Findings by rule", findings.clone());
        registry.register("credentials_in_state", "Credentials held in state", credentials.clone());
        registry.register("consumer_lag", "Records behind the end of each assigned usage partition", lag.clone());
        registry.register("processing_latency_seconds", "Record consumed to its outputs acknowledged (HdrHistogram quantiles)", latency.clone());
        registry.register("batches", "Committed processing batches", batches.clone());
        registry.register("transactions_aborted", "Transactions aborted and rewound (exactly_once)", aborts.clone());
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
            credentials,
            lag,
            latency,
            batches,
            aborts,
            last: Mutex::new(Stats::default()),
            histogram: Mutex::new(histogram),
        }
    }

    /// Brings the counters up to the engine's totals.
    pub fn observe_engine(&self, stats: &Stats, credentials: usize) {
        let Ok(mut last) = self.last.lock() else { return };
        self.events.inc_by(stats.events.saturating_sub(last.events));
        self.duplicates.inc_by(stats.duplicates.saturating_sub(last.duplicates));
        self.late.inc_by(stats.late_events.saturating_sub(last.late_events));
        for (i, kind) in RejectKind::ALL.iter().enumerate() {
            self.rejected.get_or_create(&KindLabel { kind: kind.as_str().into() }).inc_by(stats.rejected[i].saturating_sub(last.rejected[i]));
        }
        for (i, rule) in Rule::ALL.iter().enumerate() {
            self.findings.get_or_create(&RuleLabel { rule: rule.as_str().into() }).inc_by(stats.findings[i].saturating_sub(last.findings[i]));
        }
        *last = stats.clone();
        self.credentials.set(credentials as i64);
        self.batches.inc();
    }

    /// Counts one aborted transaction.
    pub fn observe_abort(&self) {
        self.aborts.inc();
    }

    /// Records one record's consumed-to-acknowledged latency in microseconds.
    pub fn observe_latency(&self, micros: u64) {
        if let Ok(mut h) = self.histogram.lock() {
            let _ = h.record(micros.max(1));
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

    /// Latency quantiles (p50, p99, p99.9) in seconds.
    pub fn latency_quantiles(&self) -> [f64; 3] {
        let Ok(h) = self.histogram.lock() else { return [0.0; 3] };
        [0.5, 0.99, 0.999].map(|q| h.value_at_quantile(q) as f64 / 1e6)
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        for (q, v) in ["0.5", "0.99", "0.999"].iter().zip(self.latency_quantiles()) {
            self.latency.get_or_create(&QuantileLabel { quantile: q.to_string() }).set(v);
        }
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_metrics_carry_engine_counters_and_latency_quantiles() {
        let m = Metrics::new();
        let mut s = Stats::default();
        s.events = 5;
        s.rejected[1] = 2;
        s.findings[6] = 3;
        m.observe_engine(&s, 7);
        s.events = 8;
        m.observe_engine(&s, 7);
        m.observe_latency(1_500);
        m.observe_lag(3, 42);
        let text = m.render();
        assert!(text.contains("bursar_events_total 8"), "{text}");
        assert!(text.contains("bursar_rejected_total{kind=\"invalid_json\"} 2"), "{text}");
        assert!(text.contains("bursar_findings_total{rule=\"burst\"} 3"), "{text}");
        assert!(text.contains("bursar_credentials_in_state 7"), "{text}");
        assert!(text.contains("bursar_consumer_lag{partition=\"3\"} 42"), "{text}");
        assert!(text.contains("bursar_processing_latency_seconds{quantile=\"0.99\"} 0.0015"), "{text}");
    }
}
