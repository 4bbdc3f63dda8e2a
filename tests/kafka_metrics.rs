//! `/metrics` and `/healthz` of a running `bursar run` against a real broker
//! (scripts/test.sh starts one).

mod common;

use common::*;

/// The value of the first sample line starting with `name` (name plus labels).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b' ')).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_events_rejections_findings_lag_and_latency_of_the_live_run() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(3_000, 80, 37);
    let s = Setup::new(&b, "metrics", 2, "");
    produce(&s.config, &ents, &usage);
    let (mut child, port) = run_with_metrics(&s, "m");
    assert_eq!(http_get(port, "/healthz").as_deref(), Some("ok\n"));

    let reference = reference(&s.config.engine().unwrap(), 2, &ents.join("\n"), &usage);
    let metrics = metrics_with_lag(port, "bursar_consumer_lag{partition=\"1\"}");
    terminate(&mut child);

    let findings = reference.iter().filter(|o| matches!(o, bursar::engine::output::Output::Finding(_))).count() as f64;
    let rejected = reference.iter().filter(|o| matches!(o, bursar::engine::output::Output::Rejected(_))).count() as f64;
    let total_findings: f64 = metrics.lines().filter(|l| l.starts_with("bursar_findings_total{")).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum();
    let total_rejected: f64 = metrics.lines().filter(|l| l.starts_with("bursar_rejected_total{")).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum();
    assert_eq!(total_findings, findings, "{metrics}");
    assert_eq!(total_rejected, rejected, "{metrics}");
    let events = sample(&metrics, "bursar_events_total").expect("events");
    let duplicates = sample(&metrics, "bursar_duplicates_total").expect("duplicates");
    assert_eq!(events + duplicates + rejected, usage.len() as f64, "every record is an event, a duplicate or a rejection");
    assert!(sample(&metrics, "bursar_late_events_total").is_some());
    assert!(sample(&metrics, "bursar_credentials_in_state").unwrap_or(0.0) > 0.0, "{metrics}");
    assert_eq!(sample(&metrics, "bursar_consumer_lag{partition=\"0\"}"), Some(0.0), "{metrics}");
    assert_eq!(sample(&metrics, "bursar_consumer_lag{partition=\"1\"}"), Some(0.0), "{metrics}");
    // Latency: a histogram with one observation per committed record.
    let count = sample(&metrics, "bursar_processing_latency_seconds_count").expect("latency count");
    assert_eq!(count, usage.len() as f64, "one latency per record: {metrics}");
    assert_eq!(sample(&metrics, "bursar_processing_latency_seconds_bucket{le=\"+Inf\"}"), Some(count), "{metrics}");
    let sum = sample(&metrics, "bursar_processing_latency_seconds_sum").expect("latency sum");
    assert!(sum > 0.0 && sum / count < 60.0, "{metrics}");
    let mut previous = 0.0;
    for le in bursar::telemetry::LATENCY_BUCKETS {
        let v = sample(&metrics, &format!("bursar_processing_latency_seconds_bucket{{le=\"{le:?}\"}}")).unwrap_or_else(|| panic!("bucket {le}: {metrics}"));
        assert!(v >= previous && v <= count, "buckets are cumulative: {metrics}");
        previous = v;
    }
    assert!(!metrics.contains("quantile"), "{metrics}");
    assert!(sample(&metrics, "bursar_batches_total").unwrap_or(0.0) > 0.0, "{metrics}");
    assert!(sample(&metrics, "bursar_partitions_assigned_total").unwrap_or(0.0) >= 2.0, "{metrics}");
    assert_eq!(sample(&metrics, "bursar_partitions_restored_total"), Some(2.0), "{metrics}");
    assert_eq!(sample(&metrics, "bursar_entitlements_skipped_total"), Some(0.0), "{metrics}");
}
