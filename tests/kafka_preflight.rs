//! The pre-flight check (docs/operations.md "Pre-flight check") against a
//! real broker: `check` and `run` refuse missing topics and lost state with
//! exit code 3, name an unreachable broker within seconds with exit code 4,
//! mask secrets; `/readyz` turns ready; a taken metrics address stops `run`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

use common::*;

fn bursar(args: &[&str], config: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bursar")).args(args).arg("--config").arg(config).stdin(Stdio::null()).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn delete_topic(bootstrap: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let results = rt.block_on(admin.delete_topics(&[topic], &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))))).unwrap();
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    // The broker forgets a deleted topic's name asynchronously.
    std::thread::sleep(Duration::from_secs(2));
}

/// GET `path` on `port`: the status code, or None while nothing listens.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn check_names_missing_topics_masks_secrets_and_passes_once_they_exist() {
    let Some(b) = bootstrap() else { return };
    let s = Setup::write(&b, "check", 2, "");
    let secret = "hunter2-do-not-print";
    let path = s.dir.path().join("secret.toml");
    std::fs::write(&path, format!("{}\"sasl.password\" = \"{secret}\"\n", std::fs::read_to_string(&s.path).unwrap())).unwrap();
    let out = bursar(&["check"], &path);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(!t.contains(secret) && t.contains("\"sasl.password\" = \"***\""), "the secret must be masked: {t}");
    assert!(t.contains(&format!("topic {} does not exist", s.config.topics.findings)), "{t}");
    let run = bursar(&["run"], &s.path);
    assert_eq!(run.status.code(), Some(3), "run refuses missing topics before reading: {}", text(&run));

    assert!(bursar(&["topics", "create"], &s.path).status.success());
    let out = bursar(&["check"], &s.path);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains(&format!("ok      {}: 2 partition(s), cleanup.policy=delete, retention 400d", s.config.topics.usage)), "{t}");

    set_topic_config(&b, &s.config.topics.usage, "retention.ms", "604800000");
    let out = bursar(&["check"], &s.path);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "a short retention is a warning: {t}");
    assert!(t.contains(&format!("warning topic {} it keeps records for 7d", s.config.topics.usage)), "{t}");
    let created = bursar(&["topics", "create"], &s.path);
    assert!(created.status.success() && text(&created).contains("keeps records for 7d"), "{}", text(&created));

    delete_topic(&b, &s.config.topics.windows);
    let run = bursar(&["run"], &s.path);
    assert_eq!(run.status.code(), Some(3), "{}", text(&run));
    assert!(text(&run).contains(&format!("topic {} does not exist", s.config.topics.windows)), "{}", text(&run));
}

#[test]
fn an_unreachable_broker_is_named_within_seconds() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead.toml");
    std::fs::write(&path, format!("[kafka]\n\"bootstrap.servers\" = \"127.0.0.1:{port}\"\n")).unwrap();
    for command in [&["check"][..], &["topics", "create"][..]] {
        let started = Instant::now();
        let out = bursar(command, &path);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(4), "{command:?}: {t}");
        assert!(started.elapsed() < Duration::from_secs(15), "{command:?} took {:?}", started.elapsed());
        assert!(t.contains(&format!("127.0.0.1:{port}")) && t.contains("bootstrap.servers"), "{command:?}: {t}");
    }
    // run rides the outage out, names the broker at once, and stops on SIGTERM promptly.
    let log = dir.path().join("run.log");
    let mut child = spawn_logged(&[], &path, &log);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !std::fs::read_to_string(&log).unwrap().contains("Broker unreachable: retrying.") {
        assert!(Instant::now() < deadline, "no outage line within 15 s: {}", std::fs::read_to_string(&log).unwrap());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(std::fs::read_to_string(&log).unwrap().contains(&format!("127.0.0.1:{port}")));
    let asked = Instant::now();
    terminate(&mut child);
    assert!(asked.elapsed() < Duration::from_secs(10), "SIGTERM took {:?}", asked.elapsed());
    assert!(child.wait().unwrap().success());
}

#[test]
fn run_refuses_committed_offsets_without_changelog_state_unless_told_to_reset() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(3_000, 60, 5);
    let s = Setup::new(&b, "lost", 2, "");
    produce(&s.config, &ents, &usage);
    let mut child = s.spawn("a");
    assert!(s.wait_caught_up(Duration::from_secs(120)), "the processor did not catch up");
    terminate(&mut child);

    delete_topic(&b, &s.config.topics.changelog);
    assert!(bursar(&["topics", "create"], &s.path).status.success());
    let out = bursar(&["run"], &s.path);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(t.contains("holds no state") && t.contains("--reset-state"), "{t}");
    let out = bursar(&["check"], &s.path);
    assert_eq!(out.status.code(), Some(3), "check finds it too: {}", text(&out));

    // --reset-state starts, says what it throws away, and becomes ready.
    let port = free_port();
    let path = s.dir.path().join("reset.toml");
    std::fs::write(&path, std::fs::read_to_string(&s.path).unwrap().replace("127.0.0.1:0", &format!("127.0.0.1:{port}"))).unwrap();
    let log = s.dir.path().join("reset.log");
    let mut child = spawn_logged(&["--reset-state"], &path, &log);
    let deadline = Instant::now() + Duration::from_secs(60);
    while http_status(port, "/readyz") != Some(200) {
        assert!(Instant::now() < deadline, "not ready within 60 s: {}", std::fs::read_to_string(&log).unwrap());
        assert!(child.try_wait().unwrap().is_none(), "run --reset-state exited: {}", std::fs::read_to_string(&log).unwrap());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(http_status(port, "/healthz"), Some(200));
    // A second instance on the same metrics address stops at start.
    let taken = bursar(&["run"], &path);
    assert_eq!(taken.status.code(), Some(2), "{}", text(&taken));
    assert!(text(&taken).contains("metrics_addr") && text(&taken).contains(&port.to_string()), "{}", text(&taken));
    terminate(&mut child);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("--reset-state") && logged.contains("throwing away"), "{logged}");
}
