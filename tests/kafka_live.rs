//! The live processor against a real Apache Kafka broker (scripts/test.sh
//! starts one): exact outputs, crashes, scale-out, exactly-once, rejections.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use bursar::emit;
use bursar::engine::output::Output;
use bursar::sink::Stream;
use common::*;

const CAUGHT_UP: Duration = Duration::from_secs(240);

fn findings_of(outputs: &[Output]) -> Vec<(Vec<u8>, Vec<u8>, i32)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Finding(f) => Some((f.credential.as_bytes().to_vec(), emit::finding_json(f).into_bytes(), f.partition)),
            _ => None,
        })
        .collect()
}

fn last_balances(outputs: &[Output]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut m = BTreeMap::new();
    for o in outputs {
        if let Output::Balance(b) = o {
            m.insert(b.credential.as_bytes().to_vec(), emit::balance_json(b).into_bytes());
        }
    }
    m
}

fn last_per_key(records: &[Record]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    by_key(records).into_iter().map(|(k, v)| (k, v.last().cloned().unwrap_or_default())).collect()
}

/// No output lost, none invented, duplicates byte-identical (they are set members), final balances equal.
fn assert_exact_after_crashes(s: &Setup, reference: &[Output]) {
    let live = consume_all(&s.bootstrap, &s.config.topics.findings, true, READ_LIMIT);
    let expected: BTreeSet<Vec<u8>> = findings_of(reference).into_iter().map(|(_, v, _)| v).collect();
    let got: BTreeSet<Vec<u8>> = live.iter().filter_map(|r| r.value.clone()).collect();
    let missing = expected.difference(&got).count();
    let invented = got.difference(&expected).count();
    assert_eq!((missing, invented), (0, 0), "findings: {missing} missing, {invented} not in the uninterrupted run");
    let balances = consume_all(&s.bootstrap, &s.config.topics.balances, true, READ_LIMIT);
    let one = |m: BTreeMap<Vec<u8>, Vec<u8>>| m.into_iter().map(|(k, v)| (k, vec![v])).collect::<BTreeMap<_, _>>();
    assert_same_groups(&one(last_per_key(&balances)), &one(last_balances(reference)), "final balances differ from the uninterrupted run");
}

#[test]
fn live_findings_equal_the_file_replay_and_the_topic_replay_and_bad_records_are_rejected() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(6_000, 150, 7);
    let s = Setup::new(&b, "equal", 3, ORIGIN_RULES);
    produce(&s.config, &ents, &usage);
    let mut child = s.spawn("a");
    assert!(s.wait_caught_up(CAUGHT_UP), "the processor did not catch up");
    terminate(&mut child);

    let reference = reference(&s.config.engine().unwrap(), 3, &ents.join("\n"), &usage);
    assert_origin_rules_fire(&reference);
    let expected = findings_of(&reference);
    assert!(expected.len() > 50, "the workload should produce findings");
    let live = consume_all(&b, &s.config.topics.findings, false, READ_LIMIT);
    let mut expected_by_key: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
    for (k, v, _) in &expected {
        expected_by_key.entry(k.clone()).or_default().push(v.clone());
    }
    assert_same_groups(&by_key(&live), &expected_by_key, "live findings differ from the file replay");
    // Findings carry CloudEvents binary-mode headers.
    let h = &live[0].headers;
    assert!(h.iter().any(|(k, v)| k == "ce_type" && v.as_deref() == Some(b"io.bursar.finding.v1")));
    assert!(h.iter().any(|(k, v)| k == "ce_specversion" && v.as_deref() == Some(b"1.0")));

    // replay --topic over the same range, into a file.
    let file = s.dir.path().join("replayed.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_bursar"))
        .args(["replay", "--topic", &s.config.topics.usage, "--from", "earliest", "--config"])
        .arg(&s.path)
        .arg("--findings")
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let replayed: Vec<Vec<u8>> = std::fs::read_to_string(&file).unwrap().lines().map(|l| l.as_bytes().to_vec()).collect();
    let mut by_partition = expected.clone();
    by_partition.sort_by_key(|(_, _, p)| *p);
    let expected_lines: Vec<Vec<u8>> = by_partition.into_iter().map(|(_, v, _)| v).collect();
    assert_same_groups(&BTreeMap::from([(vec![], replayed)]), &BTreeMap::from([(vec![], expected_lines)]), "replay --topic differs from the file replay");

    // Bad records land on the rejected topic with their reason, and processing went on.
    let rejected = consume_all(&b, &s.config.topics.rejected, false, READ_LIMIT);
    let expected_rejected = reference.iter().filter(|o| matches!(o, Output::Rejected(_))).count();
    assert!(expected_rejected > 0);
    assert_eq!(rejected.len(), expected_rejected);
    for r in &rejected {
        let header = |name: &str| r.headers.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.as_deref()).map(|v| String::from_utf8_lossy(v).into_owned());
        let kind = header("bursar.error.kind").expect("kind header");
        assert!(["too_large", "invalid_json", "invalid_cloudevent", "missing_field", "invalid_field"].contains(&kind.as_str()));
        assert!(!header("bursar.error.reason").unwrap_or_default().is_empty());
        assert_eq!(header("bursar.source.topic").as_deref(), Some(s.config.topics.usage.as_str()));
        assert!(header("bursar.source.offset").is_some() && header("bursar.source.partition").is_some());
    }
}

/// A cheap, seeded sequence of waits.
fn waits(seed: u64, n: usize, min_ms: u64, max_ms: u64) -> Vec<Duration> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_millis(min_ms + x % (max_ms - min_ms))
        })
        .collect()
}

/// Starts instance "a" and, once it has committed a batch of its own, kills
/// it with -9 after each wait (so every incarnation makes progress however
/// fast the machine is); then runs it to the end of the input and stops it
/// gracefully.
fn crash_repeatedly_then_finish(s: &Setup, waits: Vec<Duration>) {
    let mut mid_stream = 0;
    for wait in waits {
        let before = s.committed();
        let mut child = s.spawn("a");
        assert!(s.wait_committed_past(before, CAUGHT_UP), "the processor made no progress");
        std::thread::sleep(wait);
        crash(&mut child);
        mid_stream += usize::from(!s.wait_caught_up(Duration::ZERO));
    }
    assert!(mid_stream > 0, "no crash happened while input remained: the test proves nothing");
    let mut child = s.spawn("a");
    assert!(s.wait_caught_up(CAUGHT_UP), "the processor did not catch up after the crashes");
    terminate(&mut child);
}

#[test]
fn kill_9_at_random_moments_loses_nothing_and_ends_in_the_uninterrupted_state() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(40_000, 300, 11);
    let s = Setup::new(&b, "crash", 2, ORIGIN_RULES);
    produce(&s.config, &ents, &usage);
    crash_repeatedly_then_finish(&s, waits(std::process::id() as u64, 4, 0, 600));
    let reference = reference(&s.config.engine().unwrap(), 2, &ents.join("\n"), &usage);
    assert_origin_rules_fire(&reference);
    assert_exact_after_crashes(&s, &reference);
}

/// Busy keys: the largest changelog value stays under 64 KiB (their event
/// ids live in dedupe segments), and kill -9 under load changes nothing.
fn dense_crashes(guarantee: &str, seed: u64) {
    let Some(b) = bootstrap() else { return };
    // 60k calls over 1 hour from 40 keys: the busiest make several calls a second.
    let (ents, usage) = dense_workload(60_000, 40, 1, seed);
    let s = Setup::new(&b, &format!("dense-{}", &guarantee[..3]), 4, &format!("guarantee = \"{guarantee}\""));
    produce(&s.config, &ents, &usage);
    crash_repeatedly_then_finish(&s, waits(std::process::id() as u64 + seed, 3, 0, 500));
    let reference = reference(&s.config.engine().unwrap(), 4, &ents.join("\n"), &usage);
    assert_exact_after_crashes(&s, &reference);
    let changelog = consume_all(&b, &s.config.topics.changelog, true, READ_LIMIT);
    let largest = changelog.iter().filter_map(|r| r.value.as_ref().map(Vec::len)).max().unwrap_or(0);
    let segments = changelog.iter().filter(|r| r.key.as_deref().is_some_and(|k| k.first() == Some(&0xF7))).count();
    assert!(largest <= 64 * 1024, "a changelog record of {largest} B");
    assert!(segments > 0, "the busy keys' ids should be in dedupe segments");
}

#[test]
fn busy_keys_under_kill_9_keep_changelog_records_small_and_lose_nothing() {
    dense_crashes("at_least_once", 21);
}

#[test]
fn busy_keys_under_kill_9_exactly_once_keep_changelog_records_small_and_lose_nothing() {
    dense_crashes("exactly_once", 23);
}

#[test]
fn two_instances_share_the_partitions_and_one_killed_mid_stream_changes_nothing() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(40_000, 300, 13);
    let s = Setup::new(&b, "scale", 4, "");
    let text = std::fs::read_to_string(&s.path).unwrap() + "\"session.timeout.ms\" = 6000\n\"heartbeat.interval.ms\" = 1000\n";
    std::fs::write(&s.path, text).unwrap();
    produce(&s.config, &ents, &usage);
    let mut a = s.spawn("a");
    let mut second = s.spawn("b");
    std::thread::sleep(Duration::from_millis(1_500));
    crash(&mut a);
    assert!(!s.wait_caught_up(Duration::ZERO), "the instance was killed after the input ended: the test proves nothing");
    assert!(s.wait_caught_up(CAUGHT_UP), "the surviving instance did not take over");
    terminate(&mut second);
    let reference = reference(&s.config.engine().unwrap(), 4, &ents.join("\n"), &usage);
    assert_exact_after_crashes(&s, &reference);
}

#[test]
fn exactly_once_survives_kill_9_mid_transaction_and_readers_see_each_finding_once() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(40_000, 300, 17);
    let s = Setup::new(&b, "eos", 2, "guarantee = \"exactly_once\"");
    produce(&s.config, &ents, &usage);
    crash_repeatedly_then_finish(&s, waits(std::process::id() as u64 + 1, 2, 0, 600));
    let reference = reference(&s.config.engine().unwrap(), 2, &ents.join("\n"), &usage);
    let live = consume_all(&b, &s.config.topics.findings, true, READ_LIMIT);
    let mut got: Vec<Vec<u8>> = live.into_iter().filter_map(|r| r.value).collect();
    let mut expected: Vec<Vec<u8>> = findings_of(&reference).into_iter().map(|(_, v, _)| v).collect();
    got.sort();
    expected.sort();
    assert_eq!(got.len(), expected.len(), "a read_committed reader must see every finding exactly once");
    assert!(got == expected, "findings differ from the uninterrupted run");
    let balances = consume_all(&b, &s.config.topics.balances, true, READ_LIMIT);
    let one = |m: BTreeMap<Vec<u8>, Vec<u8>>| m.into_iter().map(|(k, v)| (k, vec![v])).collect::<BTreeMap<_, _>>();
    assert_same_groups(&one(last_per_key(&balances)), &one(last_balances(&reference)), "final balances");
}

/// Sends one record with the given value and headers (None: null) to partition 0.
fn send_raw(bootstrap: &str, topic: &str, key: &str, value: Option<&[u8]>, headers: &[(&str, Option<&[u8]>)]) {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let p: BaseProducer = rdkafka::ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let h = headers.iter().fold(OwnedHeaders::new(), |h, (k, v)| h.insert(Header { key: k, value: *v }));
    let mut r: BaseRecord<'_, str, [u8]> = BaseRecord::to(topic).key(key).partition(0).headers(h);
    if let Some(v) = value {
        r = r.payload(v);
    }
    p.send(r).map_err(|(e, _)| e).unwrap();
    p.flush(Duration::from_secs(10)).unwrap();
}

/// The first three headers of a rejected record (its own), as sent.
fn own_headers(r: &Record) -> Vec<(String, Option<Vec<u8>>)> {
    r.headers.iter().take(3).cloned().collect()
}

#[test]
fn a_null_value_and_null_headers_reach_the_rejected_topic_unchanged_live_and_in_a_topic_replay() {
    let Some(b) = bootstrap() else { return };
    let s = Setup::new(&b, "nulls", 1, "");
    let headers: [(&str, Option<&[u8]>); 3] = [("a", Some(b"1")), ("b", None), ("c", Some(b""))];
    send_raw(&b, &s.config.topics.usage, "key_a", None, &headers);
    send_raw(&b, &s.config.topics.usage, "key_a", Some(b""), &[]);
    let mut child = s.spawn("a");
    assert!(s.wait_caught_up(CAUGHT_UP), "the processor did not catch up");
    terminate(&mut child);
    let replayed = format!("{}.replayed-rejected", s.name);
    create_topic(&b, &replayed, 1, &[]);
    let args = bursar::runtime::kafka::ReplayTopicArgs { topics: [(Stream::Rejected, replayed.clone())].into(), ..replay_args(&s.config.topics.usage) };
    bursar::runtime::kafka::replay_topic(&s.config, args).unwrap();
    let want: Vec<(String, Option<Vec<u8>>)> = headers.iter().map(|(k, v)| (k.to_string(), v.map(<[u8]>::to_vec))).collect();
    for topic in [&s.config.topics.rejected, &replayed] {
        let rejected = consume_all(&b, topic, false, READ_LIMIT);
        assert_eq!(rejected.len(), 2, "{topic}: both records are rejected");
        assert_eq!(rejected[0].value, None, "{topic}: a null value stays null");
        assert_eq!(own_headers(&rejected[0]), want, "{topic}: headers kept in order, null ones null");
        assert_eq!(rejected[0].headers[3], ("bursar.error.kind".to_string(), Some(b"invalid_json".to_vec())));
        assert_eq!(rejected[1].value, Some(Vec::new()), "{topic}: an empty value stays empty");
    }
}

/// Runs the `bursar` binary; returns (success, stdout + stderr).
fn bursar(args: &[&str], config: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bursar")).args(args).arg("--config").arg(config).env("RUST_LOG", "warn").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn topics_create_reports_an_existing_topic_that_differs_and_run_refuses_a_changelog_not_co_partitioned() {
    let Some(b) = bootstrap() else { return };
    let s = Setup::write(&b, "differs", 3, "");
    let changelog = &s.config.topics.changelog;
    create_topic(&b, changelog, 1, &[("cleanup.policy", "delete")]);
    let (ok, text) = bursar(&["topics", "create"], &s.path);
    assert!(!ok, "topics create must fail on a topic that differs: {text}");
    assert!(text.contains(&format!("created {}", s.config.topics.usage)), "{text}");
    let line = text.lines().find(|l| l.contains(&format!("topic {changelog} exists"))).unwrap_or_else(|| panic!("no line names {changelog}: {text}"));
    for want in ["1 partition(s)", "needs 3", "Re-partitioning", "cleanup.policy=delete", "needs compact", "cleanup.policy=compact"] {
        assert!(line.contains(want), "missing {want:?} in {line}");
    }
    let (ok, text) = bursar(&["run"], &s.path);
    assert!(!ok, "run must stop: {text}");
    for want in [changelog.as_str(), &s.config.topics.usage, "co-partitioned", "has 1 partition(s)", "has 3", "Re-partitioning"] {
        assert!(text.contains(want), "missing {want:?} in {text}");
    }
}

#[test]
fn replay_refuses_a_missing_output_topic_before_reading_and_words_undelivered_output_for_replay() {
    use bursar::runtime::kafka::{replay_topic, KafkaError, ReplayTopicArgs, RunError, SetupError};
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(300, 10, 23);
    let s = Setup::new(&b, "replay-out", 1, "");
    produce(&s.config, &ents, &usage);
    let args = |findings: &str| ReplayTopicArgs { topics: [(Stream::Findings, findings.to_string())].into(), ..replay_args(&s.config.topics.usage) };
    let missing = format!("{}.nowhere", s.name);
    let started = std::time::Instant::now();
    let err = replay_topic(&s.config, args(&missing)).unwrap_err();
    assert!(matches!(err, KafkaError::Setup(SetupError::MissingOutputTopic(_))), "{err}");
    let text = err.to_string();
    assert!(text.contains(&missing) && text.contains("does not exist") && text.contains("--create --topic"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(20), "refused only after {:?}", started.elapsed());

    // Every finding is too large for this topic: the broker refuses them.
    let small = format!("{}.small", s.name);
    create_topic(&b, &small, 1, &[("max.message.bytes", "200")]);
    let err = replay_topic(&s.config, args(&small)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, KafkaError::Run(RunError::ReplayUndelivered { .. })), "{text}");
    assert!(text.contains("replay") && !text.contains("offsets of their input"), "{text}");
}
