//! Every event an operator watches, as one small type whose `emit` writes
//! the log line and bumps the metric together (Vector's `internal_events`),
//! so a call site is one line. Events that input can repeat (a rejected
//! record, a bad entitlement, a consumer error) log at most one line per kind
//! per few seconds, with the count of the lines suppressed; their metrics
//! count every occurrence. Fields are structured `tracing` fields; none
//! carries a raw secret (credentials are redacted at decode).

use std::time::{Duration, Instant};

use super::Metrics;
use crate::config::Guarantee;
use crate::decode::entitlement_keys::UnknownKey;
use crate::decode::RejectKind;

/// An observable event: logs and counts.
pub trait InternalEvent {
    fn emit(self, metrics: &Metrics);
}

/// A usage record went to the rejected stream (`bursar_rejected_total{kind}`;
/// `ahead`: by the `max_event_lead` guard, also `bursar_event_lead_rejected_total`).
pub struct RecordRejected {
    pub kind: RejectKind,
    pub partition: i32,
    pub offset: i64,
    pub ahead: bool,
}

impl InternalEvent for RecordRejected {
    fn emit(self, metrics: &Metrics) {
        metrics.count_rejected(self.kind);
        if self.ahead {
            metrics.event_lead_rejected.inc();
        }
        if let Some(suppressed) = metrics.limiter().check(&format!("record_rejected.{}", self.kind.as_str())) {
            tracing::warn!(kind = self.kind.as_str(), partition = self.partition, offset = self.offset, suppressed, "Record rejected.");
        }
    }
}

/// An entitlements record was applied with members bursar does not know
/// (`bursar_entitlement_unknown_keys_total` counts each key; one warning per
/// record, rate-limited). `emit` finds them in `value`, so a loader's call is one line.
pub struct EntitlementUnknownKeys<'a> {
    pub partition: i32,
    pub offset: i64,
    pub keys: &'a [UnknownKey],
}

impl InternalEvent for EntitlementUnknownKeys<'_> {
    fn emit(self, metrics: &Metrics) {
        let keys = self.keys;
        if keys.is_empty() {
            return;
        }
        metrics.entitlement_unknown_keys.inc_by(keys.len() as u64);
        if let Some(suppressed) = metrics.limiter().check("entitlement_unknown_keys") {
            let keys = keys.iter().map(|k| format!("{} (nearest known key: {})", k.path, k.nearest)).collect::<Vec<_>>().join(", ");
            tracing::warn!(partition = self.partition, offset = self.offset, keys = %keys, suppressed, "Entitlement has unknown keys; they are ignored (check the spelling, see `bursar validate --kind entitlement`).");
        }
    }
}

/// An entitlements record could not be decoded and was skipped
/// (`bursar_entitlements_skipped_total`).
pub struct EntitlementSkipped<'a> {
    pub partition: i32,
    pub offset: i64,
    pub reason: &'a str,
}

impl InternalEvent for EntitlementSkipped<'_> {
    fn emit(self, metrics: &Metrics) {
        metrics.entitlements_skipped.inc();
        if let Some(suppressed) = metrics.limiter().check("entitlement_skipped") {
            tracing::warn!(partition = self.partition, offset = self.offset, reason = self.reason, suppressed, "Entitlement record skipped.");
        }
    }
}

/// The entitlements table was read to its end.
pub struct EntitlementsLoaded {
    pub records: u64,
    pub skipped: u64,
}

impl InternalEvent for EntitlementsLoaded {
    fn emit(self, _: &Metrics) {
        tracing::info!(records = self.records, skipped = self.skipped, "Entitlements table loaded.");
    }
}

/// The usage consumer reported an error (`bursar_consumer_errors_total`);
/// librdkafka retries on its own.
pub struct ConsumerError<'a> {
    pub error: &'a rdkafka::error::KafkaError,
}

impl InternalEvent for ConsumerError<'_> {
    fn emit(self, metrics: &Metrics) {
        metrics.consumer_errors.inc();
        let kind = self.error.rdkafka_error_code().map_or_else(|| "client".to_string(), |c| format!("{c:?}"));
        if let Some(suppressed) = metrics.limiter().check(&format!("consumer_error.{kind}")) {
            tracing::warn!(error = %self.error, kind, suppressed, "Consumer error.");
        }
    }
}

/// An offset commit failed (`bursar_commit_failures_total`); not fatal under
/// at_least_once: the next owner resumes from the last commit.
pub struct CommitFailed<'a> {
    pub error: &'a rdkafka::error::KafkaError,
}

impl InternalEvent for CommitFailed<'_> {
    fn emit(self, metrics: &Metrics) {
        metrics.commit_failures.inc();
        tracing::warn!(error = %self.error, "Offset commit failed.");
    }
}

/// The group assigned usage partitions to this instance (`bursar_partitions_assigned_total`).
pub struct PartitionsAssigned<'a> {
    pub partitions: &'a [i32],
}

impl InternalEvent for PartitionsAssigned<'_> {
    fn emit(self, metrics: &Metrics) {
        metrics.partitions_assigned.inc_by(self.partitions.len() as u64);
        tracing::info!(partitions = ?self.partitions, "Partitions assigned.");
    }
}

/// A usage partition whose state this instance held was revoked (`bursar_partitions_revoked_total`).
pub struct PartitionRevoked {
    pub partition: i32,
}

impl InternalEvent for PartitionRevoked {
    fn emit(self, metrics: &Metrics) {
        metrics.partitions_revoked.inc();
        tracing::info!(partition = self.partition, "Partition revoked.");
    }
}

/// Partitions' state was restored from the changelog
/// (`bursar_partitions_restored_total`, `bursar_changelog_records_restored_total`).
pub struct PartitionsRestored<'a> {
    pub partitions: &'a [i32],
    pub records: u64,
}

impl InternalEvent for PartitionsRestored<'_> {
    fn emit(self, metrics: &Metrics) {
        metrics.partitions_restored.inc_by(self.partitions.len() as u64);
        metrics.changelog_records_restored.inc_by(self.records);
        tracing::info!(partitions = ?self.partitions, records = self.records, "State restored from the changelog.");
    }
}

/// An exactly_once transaction was aborted and its batch rewound (`bursar_transactions_aborted_total`).
pub struct TransactionAborted<'a, E: std::fmt::Display> {
    pub error: &'a E,
    pub attempt: u32,
}

impl<E: std::fmt::Display> InternalEvent for TransactionAborted<'_, E> {
    fn emit(self, metrics: &Metrics) {
        metrics.aborts.inc();
        tracing::warn!(error = %self.error, attempt = self.attempt, "Transaction aborted: rewinding to the last committed state.");
    }
}

/// An exactly_once commit timed out and is resumed (the transaction stays open).
pub struct CommitResumed<'a, E: std::fmt::Display> {
    pub error: &'a E,
    pub attempt: u32,
}

impl<E: std::fmt::Display> InternalEvent for CommitResumed<'_, E> {
    fn emit(self, _: &Metrics) {
        tracing::warn!(error = %self.error, attempt = self.attempt, "Transaction commit timed out: resuming it.");
    }
}

/// Transactions failed too many times in a row: the processor stops.
pub struct TransactionsExhausted {
    pub aborts: u32,
}

impl InternalEvent for TransactionsExhausted {
    fn emit(self, _: &Metrics) {
        tracing::error!(aborts = self.aborts, "Transactions failed repeatedly: stopping.");
    }
}

/// A batch is durable (`bursar_batches_total`) and its records' latency,
/// consumed to committed, observed (`bursar_processing_latency_seconds`).
pub struct BatchCommitted<'a> {
    pub records: usize,
    pub changelog: usize,
    pub took: Duration,
    /// When each of the batch's records was consumed.
    pub consumed: &'a [Instant],
}

impl InternalEvent for BatchCommitted<'_> {
    fn emit(self, metrics: &Metrics) {
        metrics.batch_committed();
        for t in self.consumed {
            metrics.observe_latency(t.elapsed());
        }
        tracing::debug!(records = self.records, changelog = self.changelog, took_ms = self.took.as_millis() as u64, "Batch committed.");
    }
}

/// The processor subscribed and is processing usage.
pub struct ProcessingStarted<'a> {
    pub guarantee: Guarantee,
    pub group: &'a str,
    pub topic: &'a str,
}

impl InternalEvent for ProcessingStarted<'_> {
    fn emit(self, _: &Metrics) {
        tracing::info!(guarantee = self.guarantee.as_str(), group = self.group, topic = self.topic, "Processing usage.");
    }
}

/// The processor stopped on request after committing its last batch.
pub struct ProcessingStopped;

impl InternalEvent for ProcessingStopped {
    fn emit(self, _: &Metrics) {
        tracing::info!("Shutting down: last batch committed.");
    }
}

/// The broker stopped answering (docs/operations.md "Broker outages"): one
/// line when the outage starts; the processor retries with backoff and
/// rebuilds its clients for up to `broker_outage`.
pub struct BrokerOutageStarted<'a> {
    pub broker: &'a str,
    pub budget: Duration,
    pub error: &'a str,
}

impl InternalEvent for BrokerOutageStarted<'_> {
    fn emit(self, metrics: &Metrics) {
        metrics.broker_outage_started();
        tracing::warn!(broker = self.broker, error = self.error, gives_up_after_secs = self.budget.as_secs(), "Broker unreachable: retrying.");
    }
}

/// The outage goes on: at most one line every few seconds.
pub struct BrokerOutageContinues<'a> {
    pub broker: &'a str,
    pub lasted: Duration,
    pub left: Duration,
    pub error: &'a str,
}

impl InternalEvent for BrokerOutageContinues<'_> {
    fn emit(self, metrics: &Metrics) {
        if let Some(suppressed) = metrics.limiter().check("broker_outage") {
            tracing::warn!(broker = self.broker, lasted_secs = self.lasted.as_secs(), gives_up_in_secs = self.left.as_secs(), error = self.error, suppressed, "Broker still unreachable.");
        }
    }
}

/// The processor works again after an outage: one line.
pub struct BrokerOutageEnded<'a> {
    pub broker: &'a str,
    pub lasted: Duration,
}

impl InternalEvent for BrokerOutageEnded<'_> {
    fn emit(self, metrics: &Metrics) {
        metrics.broker_outage_ended();
        tracing::info!(broker = self.broker, lasted_secs = self.lasted.as_secs(), "Broker reachable again: processing resumed.");
    }
}

/// The processor made no progress for a while: a call to the broker blocks
/// (an offset commit waiting for its coordinator, a broker gone).
pub struct ProcessorStalled<'a> {
    pub broker: &'a str,
    pub quiet: Duration,
}

impl InternalEvent for ProcessorStalled<'_> {
    fn emit(self, _: &Metrics) {
        tracing::warn!(broker = self.broker, quiet_secs = self.quiet.as_secs(), "No progress: waiting for the broker.");
    }
}

/// The processor moves again after [`ProcessorStalled`].
pub struct ProcessorMoving<'a> {
    pub broker: &'a str,
}

impl InternalEvent for ProcessorMoving<'_> {
    fn emit(self, _: &Metrics) {
        tracing::info!(broker = self.broker, "Progress again.");
    }
}

/// A pre-flight finding that does not stop `run` (a retention shorter than
/// the history bursar's rules look back on, `--reset-state` in effect).
pub struct PreflightWarning<'a> {
    pub warning: &'a str,
}

impl InternalEvent for PreflightWarning<'_> {
    fn emit(self, _: &Metrics) {
        tracing::warn!(warning = self.warning, "Pre-flight warning.");
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::telemetry::RateLimiter;

    /// Log lines written while `f` runs.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text
    }

    #[test]
    fn a_repeated_event_logs_once_per_interval_and_counts_every_occurrence() {
        let now = Arc::new(Mutex::new(Instant::now()));
        let clock = now.clone();
        let metrics = Metrics::with_limiter(RateLimiter::new(Duration::from_secs(5), Arc::new(move || *clock.lock().unwrap())));
        let text = logged(|| {
            for offset in 0..10 {
                EntitlementSkipped { partition: 0, offset, reason: "bad" }.emit(&metrics);
            }
            RecordRejected { kind: RejectKind::TooLarge, partition: 1, offset: 7, ahead: false }.emit(&metrics);
            *now.lock().unwrap() += Duration::from_secs(6);
            EntitlementSkipped { partition: 0, offset: 10, reason: "bad" }.emit(&metrics);
        });
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("Entitlement record skipped.")).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("suppressed=0") && lines[1].contains("suppressed=9"), "{text}");
        assert_eq!(text.lines().filter(|l| l.contains("Record rejected.")).count(), 1, "another kind has its own limit: {text}");
        let text = logged(|| {
            BrokerOutageStarted { broker: "h:1", budget: Duration::from_secs(300), error: "AllBrokersDown" }.emit(&metrics);
            for _ in 0..5 {
                BrokerOutageContinues { broker: "h:1", lasted: Duration::from_secs(1), left: Duration::from_secs(299), error: "AllBrokersDown" }.emit(&metrics);
            }
            BrokerOutageEnded { broker: "h:1", lasted: Duration::from_secs(2) }.emit(&metrics);
        });
        assert_eq!(text.lines().count(), 3, "one line at the start, one of progress, one at the end: {text}");
        let rendered = metrics.render();
        assert!(rendered.contains("bursar_entitlements_skipped_total 11"), "{rendered}");
        assert!(rendered.contains("bursar_rejected_total{kind=\"too_large\"} 1"), "{rendered}");
    }

    #[test]
    fn a_batch_committed_counts_the_batch_and_observes_each_record() {
        let metrics = Metrics::new();
        let consumed = [Instant::now(), Instant::now()];
        BatchCommitted { records: 2, changelog: 1, took: Duration::ZERO, consumed: &consumed }.emit(&metrics);
        let text = metrics.render();
        assert!(text.contains("bursar_batches_total 1") && text.contains("bursar_processing_latency_seconds_count 2"), "{text}");
    }

    #[test]
    fn unknown_entitlement_keys_are_counted_and_logged_with_the_nearest_known_key() {
        let metrics = Metrics::new();
        let text = logged(|| {
            let value = br#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z","sope":{},"credits":{"monthy":"1"}}"#;
            let keys = crate::decode::entitlement_keys::unknown_keys;
            EntitlementUnknownKeys { partition: 0, offset: 3, keys: &keys(value) }.emit(&metrics);
            EntitlementUnknownKeys { partition: 0, offset: 4, keys: &keys(br#"{"credential":"k","owner":"o"}"#) }.emit(&metrics);
            EntitlementUnknownKeys { partition: 0, offset: 5, keys: &[] }.emit(&metrics);
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("sope (nearest known key: scope)") && text.contains("credits.monthy (nearest known key: monthly)"), "{text}");
        assert!(metrics.render().contains("bursar_entitlement_unknown_keys_total 2"));
    }
}
