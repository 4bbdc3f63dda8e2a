//! `/metrics` and `/healthz` of a running `bursar run` against a real broker
//! (scripts/test.sh starts one).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A plain HTTP/1.0 GET; the body, or None while nothing listens.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200").then(|| body.to_string()).or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_string()))
}

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
    let port = free_port();
    let text = std::fs::read_to_string(&s.path).unwrap().replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    let path = s.dir.path().join("metrics.toml");
    std::fs::write(&path, format!("instance_id = \"m\"\n{text}")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bursar")).args(["run", "--config"]).arg(&path).env("RUST_LOG", "warn").stdout(Stdio::null()).spawn().unwrap();
    assert!(s.wait_caught_up(Duration::from_secs(120)), "the processor did not catch up");
    assert_eq!(get(port, "/healthz").as_deref(), Some("ok\n"));

    // Lag comes from librdkafka's statistics, every 5 s.
    let reference = reference(&s.config.engine().unwrap(), 2, &ents.join("\n"), &usage);
    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        let m = get(port, "/metrics").unwrap_or_default();
        if sample(&m, "bursar_consumer_lag{partition=\"1\"}").is_some() || Instant::now() > deadline {
            break m;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
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
