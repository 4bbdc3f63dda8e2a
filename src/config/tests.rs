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
