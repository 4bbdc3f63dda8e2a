//! The configuration's tests: defaults, key-naming errors, the documented example.

use super::*;

#[test]
fn an_empty_file_gives_the_documented_defaults() {
    let c = Config::parse("").unwrap();
    assert_eq!(c, Config::default());
    let e = c.engine().unwrap();
    assert_eq!(e.lateness_ms, 30_000);
    assert_eq!(e.windows_ms, vec![60_000, 3_600_000]);
    assert_eq!(e.thresholds.iter().map(|t| t.per_mille()).collect::<Vec<_>>(), vec![800, 1000]);
}

#[test]
fn unknown_keys_are_rejected_with_their_name() {
    let err = Config::parse("latenes = \"1s\"").unwrap_err().to_string();
    assert!(err.contains("latenes"), "{err}");
}

#[test]
fn a_bad_value_names_the_key_and_the_fix() {
    let err = Config::parse("lateness = \"30 seconds\"").unwrap_err().to_string();
    assert!(err.contains("`lateness`") && err.contains("<integer><unit>"), "{err}");
    let err = Config::parse("[topics]\npartitions = 0").unwrap_err().to_string();
    assert!(err.contains("topics.partitions"), "{err}");
    let many: Vec<String> = (1..=65).map(|i| format!("0.{i:02}")).collect();
    let err = Config::parse(&format!("thresholds = [{}]", many.join(","))).and_then(|c| c.engine().map(|_| c)).unwrap_err().to_string();
    assert!(err.contains("`thresholds`") && err.contains("at most 64"), "{err}");
}

#[test]
fn bootstrap_servers_is_required_for_kafka() {
    let c = Config::parse("").unwrap();
    assert!(c.bootstrap_servers().unwrap_err().to_string().contains("bootstrap.servers"));
    let c = Config::parse("[kafka]\n\"bootstrap.servers\" = \"h:1\"\n\"linger.ms\" = 5").unwrap();
    assert_eq!(c.bootstrap_servers().unwrap(), "h:1");
    assert!(c.kafka_properties().contains(&("linger.ms".into(), "5".into())));
}

#[test]
fn kafka_settings_bursar_owns_are_refused_with_the_key_and_the_fix() {
    for (key, fix) in OWNED_KAFKA_KEYS {
        let text = format!("[kafka]\n\"bootstrap.servers\" = \"h:1\"\n\"{key}\" = \"x\"");
        let err = Config::parse(&text).unwrap_err().to_string();
        assert!(err.contains(&format!("`kafka.\"{key}\"`")) && err.contains(fix), "{err}");
    }
    let err = Config::parse("[kafka]\n\"group.id\" = \"mine\"").unwrap_err().to_string();
    assert!(err.contains("`group_id`"), "{err}");
    // Tuning and security settings still pass through.
    Config::parse("[kafka]\n\"linger.ms\" = 10\n\"security.protocol\" = \"SASL_SSL\"\n\"auto.offset.reset\" = \"earliest\"").unwrap();
}

#[test]
fn factors_compare_exactly() {
    let f = Factor::from_f64(0.8);
    assert!(f.reached(800, 1000));
    assert!(!f.reached(799, 1000));
    assert!(f.reached(1, -5));
}

#[test]
fn the_documented_example_config_parses_to_the_defaults() {
    let text = include_str!("../../examples/bursar.toml");
    let mut c = Config::parse(text).expect("examples/bursar.toml is valid");
    assert_eq!(c.bootstrap_servers().unwrap(), "localhost:9092");
    c.kafka.clear();
    assert_eq!(c, Config::default());
}

#[test]
fn the_runtime_section_carries_parsed_values() {
    let c = Config::parse("guarantee = \"exactly_once\"\ngroup_id = \"g\"\ninstance_id = \"i\"\nbatch_size = 7\nbatch_linger = \"2s\"\nmetrics_addr = \"0.0.0.0:1\"\nlog_format = \"json\"").unwrap();
    let r = c.runtime().unwrap();
    assert_eq!(r.guarantee, Guarantee::ExactlyOnce);
    assert_eq!((r.group_id.as_str(), r.instance_id.as_str(), r.member_id()), ("g", "i", "g-i".to_string()));
    assert_eq!(r.batch_size, 7);
    assert_eq!(r.batch_linger, std::time::Duration::from_secs(2));
    assert_eq!(r.metrics_addr, "0.0.0.0:1".parse().unwrap());
    assert_eq!(r.log_format, LogFormat::Json);
}

#[test]
fn the_default_batch_linger_is_100ms() {
    assert_eq!(Config::default().runtime().unwrap().batch_linger, std::time::Duration::from_millis(100));
}

#[test]
fn a_bad_batch_linger_names_the_key_and_the_fix() {
    let err = Config::parse("batch_linger = \"fast\"").unwrap_err().to_string();
    assert!(err.contains("`batch_linger`") && err.contains("<integer><unit>"), "{err}");
    let err = Config::parse("batch_linger = \"100\"").unwrap_err().to_string();
    assert!(err.contains("`batch_linger`"), "{err}");
}

#[test]
fn transaction_timeout_bounds_message_timeout_under_exactly_once() {
    let text = "[kafka]\n\"bootstrap.servers\" = \"h:1\"\n\"transaction.timeout.ms\" = 10000\n\"message.timeout.ms\" = 30000";
    let alo = Config::parse(text).unwrap().kafka_client().unwrap();
    assert_eq!(alo.transaction_timeout, std::time::Duration::from_secs(10));
    assert_eq!(alo.output_message_timeout(), std::time::Duration::from_secs(30), "at_least_once keeps message.timeout.ms");
    let eos = Config::parse(&format!("guarantee = \"exactly_once\"\n{text}")).unwrap().kafka_client().unwrap();
    assert_eq!(eos.output_message_timeout(), std::time::Duration::from_secs(10));
    let producer = eos.output_producer();
    assert_eq!(producer.get("message.timeout.ms"), Some("10000"));
    assert_eq!(producer.get("transaction.timeout.ms"), Some("10000"));
    assert!(producer.get("transactional.id").is_some_and(|id| id.starts_with("bursar-")));
    // Defaults: librdkafka's 60 s for both.
    let d = Config::parse("guarantee = \"exactly_once\"\n[kafka]\n\"bootstrap.servers\" = \"h:1\"").unwrap().kafka_client().unwrap();
    assert_eq!(d.output_producer().get("message.timeout.ms"), Some("60000"));
}

#[test]
fn a_bad_kafka_timeout_names_the_key_and_the_fix() {
    for key in ["transaction.timeout.ms", "message.timeout.ms"] {
        for bad in ["\"soon\"", "0", "-5"] {
            let err = Config::parse(&format!("[kafka]\n\"{key}\" = {bad}")).unwrap_err().to_string();
            assert!(err.contains(&format!("`kafka.\"{key}\"`")) && err.contains("positive number of milliseconds"), "{err}");
        }
    }
}

#[test]
fn every_client_gets_the_settings_bursar_owns_over_the_kafka_table() {
    let c = Config::parse("group_id = \"g\"\ninstance_id = \"i\"\n[kafka]\n\"bootstrap.servers\" = \"h:1\"\n\"linger.ms\" = 50\n\"compression.type\" = \"zstd\"").unwrap();
    let k = c.kafka_client().unwrap();
    let consumer = k.processor_consumer();
    for (key, value) in [("group.id", "g"), ("group.instance.id", "g-i"), ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"), ("isolation.level", "read_committed"), ("bootstrap.servers", "h:1")] {
        assert_eq!(consumer.get(key), Some(value), "{key}");
    }
    assert_eq!(k.reader(false).get("isolation.level"), Some("read_uncommitted"));
    assert_eq!(k.reader(true).get("isolation.level"), Some("read_committed"));
    for producer in [k.output_producer(), k.workload_producer()] {
        for (key, value) in [("enable.idempotence", "true"), ("acks", "all"), ("partitioner", "murmur2_random"), ("linger.ms", "50"), ("compression.type", "zstd")] {
            assert_eq!(producer.get(key), Some(value), "{key}");
        }
        assert_eq!(producer.get("transactional.id"), None, "at_least_once is never transactional");
    }
    assert!(Config::default().kafka_client().unwrap_err().to_string().contains("bootstrap.servers"));
}

#[test]
fn drift_dimensions_and_day_limits_are_validated() {
    let e = Config::parse("").unwrap().engine().unwrap();
    assert_eq!((e.drift_dimensions, e.max_principals, e.max_source_ips), ([true, true, false, false], None, None));
    let e = Config::parse("drift_dimensions = [\"network\", \"principal\"]\nmax_principals = 3\nmax_source_ips = 1").unwrap().engine().unwrap();
    assert_eq!((e.drift_dimensions, e.max_principals, e.max_source_ips), ([false, false, true, true], Some(3), Some(1)));
    assert_eq!(Config::parse("drift_dimensions = []").unwrap().engine().unwrap().drift_dimensions, [false; 4]);
    for (text, key, fix) in [
        ("drift_dimensions = [\"models\"]", "`drift_dimensions`", "\"capability\", \"model\", \"principal\", \"network\""),
        ("drift_dimensions = [\"model\", \"model\"]", "`drift_dimensions`", "once"),
        ("max_principals = 0", "`max_principals`", "at least 1"),
        ("max_source_ips = -2", "`max_source_ips`", "at least 1"),
        ("thresholds = [0.8005]", "`thresholds`", "multiple of 0.001"),
        ("drawdown = 0.0001", "`drawdown`", "multiple of 0.001"),
    ] {
        let err = Config::parse(text).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains(fix), "{text}: {err}");
    }
    assert!(Config::parse("max_principals = \"3\"").unwrap_err().to_string().contains("max_principals"));
}

#[test]
fn broker_outage_and_retention_have_documented_defaults_and_name_their_key() {
    let c = Config::parse("").unwrap();
    assert_eq!(c.runtime().unwrap().broker_outage, std::time::Duration::from_secs(300));
    let r = c.retention().unwrap();
    assert_eq!(r.usage, Retention::Millis(400 * 86_400_000));
    assert_eq!(r.findings, Retention::Millis(400 * 86_400_000));
    let c = Config::parse("[topics.retention]\nusage = \"infinite\"\nfindings = \"30d\"").unwrap();
    assert_eq!(c.retention().unwrap().usage.as_ms(), -1);
    let err = Config::parse("[topics.retention]\nusage = \"forever\"").unwrap_err().to_string();
    assert!(err.contains("topics.retention.usage") && err.contains("infinite"), "{err}");
    let err = Config::parse("[topics.retention]\nwindows = \"1d\"").unwrap_err().to_string();
    assert!(err.contains("windows"), "{err}");
    let err = Config::parse("broker_outage = \"0s\"").unwrap_err().to_string();
    assert!(err.contains("`broker_outage`") && err.contains("5m"), "{err}");
}

#[test]
fn the_printed_configuration_masks_every_secret() {
    let c = Config::parse("[kafka]\n\"bootstrap.servers\" = \"h:1\"\n\"sasl.password\" = \"hunter2\"\n\"ssl.key.password\" = \"k3y\"\n\"sasl.oauthbearer.client.secret\" = \"s3c\"\n\"sasl.username\" = \"alice\"").unwrap();
    let text = masked_toml(&c).unwrap();
    for secret in ["hunter2", "k3y", "s3c"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("alice") && text.contains("h:1") && text.contains("broker_outage = \"5m\""), "{text}");
    assert_eq!(Config::parse(&text.replace("\"***\"", "\"x\"")).unwrap().kafka.len(), 5, "the printed configuration parses again");
}

#[test]
fn max_event_lead_is_off_by_default_and_a_positive_duration_when_set() {
    assert_eq!(Config::parse("").unwrap().engine().unwrap().max_event_lead_ms, None);
    assert_eq!(Config::parse("max_event_lead = \"1h\"").unwrap().engine().unwrap().max_event_lead_ms, Some(3_600_000));
    for bad in ["\"0s\"", "\"soon\""] {
        let err = Config::parse(&format!("max_event_lead = {bad}")).unwrap_err().to_string();
        assert!(err.contains("`max_event_lead`"), "{err}");
    }
}
