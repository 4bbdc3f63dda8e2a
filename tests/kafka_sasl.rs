//! An authenticated broker: bursar's `[kafka]` pass-through to librdkafka
//! with SASL/SCRAM-SHA-256, over plaintext and over TLS (a self-signed
//! certificate made for the test), and no secret in bursar's output. The
//! test starts its own broker (tests/broker/kafka_sasl.sh, from the jars
//! tests/broker/kafka.sh installs); it runs with the other broker tests
//! (when BURSAR_TEST_BOOTSTRAP is set, as scripts/test.sh does).
//!
//! The same broker shows the data-quality guards live (docs/semantics.md
//! "Bad input"): one record too large for the producer cannot stall its
//! partition (it reaches the rejected topic cut to fit, with its original
//! size and SHA-256), and an event dated 2199 is rejected by `max_event_lead`
//! against its record timestamp, without moving the watermark; an unknown
//! entitlement key is logged with the nearest known one and counted.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bursar::emit;
use bursar::engine::output::Output;
use common::*;

/// A broker of tests/broker/kafka_sasl.sh, stopped (and its files deleted) on drop.
struct SaslBroker {
    dir: PathBuf,
    /// For the test's own checks only; bursar never gets this address.
    plain: String,
    sasl: String,
    ssl: String,
    ca: String,
}

impl SaslBroker {
    fn start(user: &str, password: &str) -> SaslBroker {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/broker/kafka_sasl.sh");
        let dir = tempfile::Builder::new().prefix("bursar-sasl").tempdir().unwrap().keep();
        let out = Command::new(script).arg("start").arg(&dir).args([user, password]).stderr(Stdio::inherit()).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).map(str::to_string);
        let broker = SaslBroker { dir, plain: field("PLAIN").unwrap_or_default(), sasl: field("SASL").unwrap_or_default(), ssl: field("SSL").unwrap_or_default(), ca: field("CA").unwrap_or_default() };
        assert!(out.status.success() && !broker.sasl.is_empty(), "the SASL broker did not start: {text}");
        broker
    }
}

impl Drop for SaslBroker {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/broker/kafka_sasl.sh");
        let _ = Command::new(script).arg("stop").arg(&self.dir).status();
    }
}

/// Runs `bursar ARGS --config CONFIG`; returns success and stdout + stderr.
fn bursar(args: &[&str], config: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bursar")).args(args).arg("--config").arg(config).env("RUST_LOG", "debug").output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A usage value of `size` bytes: valid JSON, far over `max_value_bytes`.
fn oversized(size: usize) -> Vec<u8> {
    let head = br#"{"id":"big","time":"2026-05-04T10:00:00Z","credential":"key_big","capability":"chat","credits":"1","pad":""#;
    let mut v = head.to_vec();
    while v.len() < size - 2 {
        v.extend_from_slice(b"lorem ipsum ");
    }
    v.truncate(size - 2);
    v.extend_from_slice(b"\"}");
    v
}

/// Sends `value` to partition 0 of `topic` through the plaintext listener,
/// with a producer limit that lets a large one through (the broker's default accepts it).
fn send(bootstrap: &str, topic: &str, key: &str, value: &[u8]) {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let p: BaseProducer = rdkafka::ClientConfig::new().set("bootstrap.servers", bootstrap).set("message.max.bytes", "2000000").create().unwrap();
    p.send(BaseRecord::<str, [u8]>::to(topic).key(key).partition(0).payload(value)).map_err(|(e, _)| e).unwrap();
    p.flush(Duration::from_secs(30)).unwrap();
}

/// The text of `/metrics` on `port`.
fn metrics(port: u16) -> String {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    let _ = c.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut text = String::new();
    let _ = c.read_to_string(&mut text);
    text
}

fn header<'a>(r: &'a Record, name: &str) -> Option<&'a [u8]> {
    r.headers.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.as_deref())
}

#[test]
fn a_scram_broker_over_plaintext_and_tls_runs_bursar_end_to_end_and_no_password_is_logged() {
    let Some(_) = bootstrap() else { return };
    let password = format!("Scram-{}-pw-Q7x", std::process::id());
    let broker = SaslBroker::start("bursar", &password);
    let auth = format!("\"security.protocol\" = \"SASL_PLAINTEXT\"\n\"sasl.mechanism\" = \"SCRAM-SHA-256\"\n\"sasl.username\" = \"bursar\"\n\"sasl.password\" = \"{password}\"\n");
    // The guard on: an event dated 2199 is rejected against its record timestamp.
    let s = Setup::write(&broker.sasl, "sasl", 2, "max_event_lead = \"1h\"");
    std::fs::write(&s.path, format!("{}{auth}", std::fs::read_to_string(&s.path).unwrap())).unwrap();
    let mut logs = Vec::new();

    let (ok, out) = bursar(&["topics", "create"], &s.path);
    assert!(ok, "topics create over SASL_PLAINTEXT failed: {out}");
    logs.push(out);
    // Over TLS: the same user, the broker's self-signed certificate trusted.
    let tls = s.dir.path().join("tls.toml");
    let text = std::fs::read_to_string(&s.path).unwrap().replace(&broker.sasl, &broker.ssl).replace("\"SASL_PLAINTEXT\"", "\"SASL_SSL\"");
    std::fs::write(&tls, format!("{text}\"ssl.ca.location\" = \"{}\"\n", broker.ca)).unwrap();
    let (ok, out) = bursar(&["topics", "create"], &tls);
    assert!(ok && out.contains("exists"), "topics create over SASL_SSL failed: {out}");
    logs.push(out);

    // A wrong password is named as such (not as an unreachable broker), promptly, and never shown.
    let wrong = s.dir.path().join("wrong.toml");
    let wrong_password = format!("Wrong-{}-pw", std::process::id());
    std::fs::write(&wrong, std::fs::read_to_string(&s.path).unwrap().replace(&password, &wrong_password)).unwrap();
    for args in [&["topics", "create"][..], &["check"][..], &["gen", "--events", "10", "--topic", "t"][..]] {
        let started = Instant::now();
        let (ok, out) = bursar(args, &wrong);
        assert!(!ok, "{args:?} with a wrong password succeeded: {out}");
        assert!(started.elapsed() < Duration::from_secs(30), "{args:?} took {:?} to fail", started.elapsed());
        assert!(out.contains("refused this client's credentials") && out.contains("sasl.password"), "{args:?} names the refused credentials and the key to fix: {out}");
        assert!(!out.contains(&wrong_password), "{args:?} shows the wrong password: {out}");
    }

    let (ents, usage) = workload(1_500, 30, 11);
    let usage_topic = s.config.topics.usage.clone();
    let (ok, out) = bursar(&["gen", "--seed", "11", "--events", "1500", "--credentials", "30", "--days", "40", "--topic", &usage_topic], &s.path);
    assert!(ok, "gen --topic over SASL failed: {out}");
    logs.push(out);
    let big = oversized(1_040_118);
    send(&broker.plain, &usage_topic, "key_big", &big);
    let future = br#"{"id":"f1","time":"2199-01-01T00:00:00Z","credential":"key_future","capability":"chat","credits":"1"}"#;
    send(&broker.plain, &usage_topic, "key_future", future);
    // A misspelt key in an entitlement no usage refers to: logged and counted, nothing else.
    let misspelt = br#"{"credential":"key_misspelt","owner":"o","updated_at":"2026-01-01T00:00:00Z","sope":{"models":["a"]}}"#;
    send(&broker.plain, &s.config.topics.entitlements, "key_misspelt", misspelt);

    let run_log = s.dir.path().join("run.log");
    let port = free_port();
    let run_config = s.dir.path().join("run.toml");
    std::fs::write(&run_config, std::fs::read_to_string(&s.path).unwrap().replace("127.0.0.1:0", &format!("127.0.0.1:{port}"))).unwrap();
    let log_file = std::fs::File::create(&run_log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bursar"))
        .args(["run", "--config"])
        .arg(&run_config)
        .env("RUST_LOG", "debug")
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap();

    let reference = reference(&s.config.engine().unwrap(), 2, &ents.join("\n"), &usage);
    let mut expected: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
    for o in &reference {
        if let Output::Finding(f) = o {
            expected.entry(f.credential.as_bytes().to_vec()).or_default().push(emit::finding_json(f).into_bytes());
        }
    }
    let want: usize = expected.values().map(Vec::len).sum();
    assert!(want > 10, "the workload should produce findings");
    // The reference holds neither extra record: the live run must reject both
    // without any other effect (the one from 2199 would close every window).
    let rejected_want = reference.iter().filter(|o| matches!(o, Output::Rejected(_))).count() + 2;
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut findings, mut rejected) = (Vec::new(), Vec::new());
    while Instant::now() < deadline {
        findings = consume_all(&broker.plain, &s.config.topics.findings, false, Duration::from_secs(10));
        rejected = consume_all(&broker.plain, &s.config.topics.rejected, false, Duration::from_secs(10));
        if findings.len() >= want && rejected.len() >= rejected_want {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let exposition = metrics(port);
    terminate(&mut child);
    logs.push(std::fs::read_to_string(&run_log).unwrap());

    assert_same_groups(&by_key(&findings), &expected, "findings over SASL differ from the file replay");
    let cut = rejected.iter().find(|r| r.key.as_deref() == Some(b"key_big")).unwrap_or_else(|| panic!("the oversized record never reached the rejected topic ({} rejected)", rejected.len()));
    assert_eq!(header(cut, "bursar.error.kind"), Some(&b"too_large"[..]));
    assert_eq!(header(cut, "bursar.original.size"), Some(&b"1040118"[..]));
    assert_eq!(header(cut, "bursar.original.sha256"), Some(emit::rejected_cut::hex_sha256(&big).as_bytes()));
    let value = cut.value.as_deref().unwrap_or_default();
    assert!(value.len() < 1_000_000 && value.len() > 900_000 && big.starts_with(value), "cut to a prefix that fits: {} bytes", value.len());
    assert_eq!(rejected.len(), rejected_want, "every bad record rejected once");
    let ahead = rejected.iter().find(|r| r.key.as_deref() == Some(b"key_future")).expect("the event from 2199 is rejected");
    assert_eq!(header(ahead, "bursar.error.kind"), Some(&b"invalid_field"[..]));
    let reason = String::from_utf8_lossy(header(ahead, "bursar.error.reason").unwrap_or_default()).into_owned();
    assert!(reason.starts_with(bursar::pipeline::event_lead::REASON) && reason.contains("max_event_lead is 1h"), "{reason}");
    assert_eq!(ahead.value.as_deref(), Some(&future[..]));
    assert!(exposition.contains("bursar_event_lead_rejected_total 1"), "{exposition}");
    assert!(exposition.contains("bursar_entitlement_unknown_keys_total 1"), "{exposition}");
    assert!(logs.last().is_some_and(|l| l.contains("sope (nearest known key: scope)")), "the run logs the unknown entitlement key");

    for (i, log) in logs.iter().enumerate() {
        assert!(!log.trim().is_empty(), "output #{i} of bursar is empty: nothing was checked");
        assert!(!log.contains(&password), "output #{i} of bursar holds the SASL password:\n{log}");
    }
}
