//! The CLI as a user runs it, without a broker: `replay`'s warnings about
//! the entitlements file; `gen --topic` and `explain --topic` against a
//! broker that is not there.

use std::process::Command;

#[test]
fn replay_names_unknown_entitlement_keys_with_the_nearest_known_key() {
    let dir = tempfile::tempdir().unwrap();
    let ents = dir.path().join("entitlements.jsonl");
    std::fs::write(
        &ents,
        "{\"credential\":\"k1\",\"owner\":\"o\",\"updated_at\":\"2026-01-01T00:00:00Z\",\"sope\":{\"capabilities\":[\"chat\"]}}\n\
         {\"credential\":\"k2\",\"owner\":\"o\",\"updated_at\":\"2026-01-01T00:00:00Z\",\"scope\":{\"modles\":[\"m\"]}}\n",
    )
    .unwrap();
    let usage = dir.path().join("usage.jsonl");
    std::fs::write(&usage, "{\"id\":\"e1\",\"time\":\"2026-01-02T00:00:00Z\",\"credential\":\"k1\",\"capability\":\"image\",\"credits\":1}\n").unwrap();
    let findings = dir.path().join("findings.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_bursar")).args(["replay", "--input"]).arg(&usage).arg("--entitlements").arg(&ents).arg("--findings").arg(&findings).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(":1: unknown entitlement key `sope`") && stderr.contains("nearest known key: `scope`"), "{stderr}");
    assert!(stderr.contains(":2: unknown entitlement key `scope.modles`") && stderr.contains("nearest known key: `models`"), "{stderr}");
    // The misspelt scope is ignored, so k1 is unrestricted: no scope.violation for `image`.
    let text = std::fs::read_to_string(&findings).unwrap();
    assert!(!text.contains("scope.violation"), "{text}");
}

/// Runs `bursar <args> --config C` against a broker that is not there and
/// asserts it stops within seconds, naming the broker.
fn assert_names_an_unreachable_broker(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("bursar.toml");
    std::fs::write(&config, format!("[kafka]\n\"bootstrap.servers\" = \"127.0.0.1:{port}\"\n")).unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_bursar")).args(args).arg("--config").arg(&config).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "the error names the broker: {stderr}");
    // The probe waits 3 s; without it a client waits out its 30 s request timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "took {:?}: {stderr}", started.elapsed());
}

#[test]
fn gen_to_a_topic_names_an_unreachable_broker_within_seconds() {
    assert_names_an_unreachable_broker(&["gen", "--events", "100", "--topic", "t"]);
}

#[test]
fn replay_from_a_topic_names_an_unreachable_broker_within_seconds() {
    assert_names_an_unreachable_broker(&["replay", "--topic", "ai.usage", "--findings", "/dev/null"]);
}

#[test]
fn explain_from_a_topic_names_an_unreachable_broker_within_seconds() {
    assert_names_an_unreachable_broker(&["explain", "--credential", "k1", "--uid", "u", "--topic"]);
}

#[test]
fn replay_writes_straight_into_dev_null_and_named_pipes() {
    let dir = tempfile::tempdir().unwrap();
    let usage = dir.path().join("usage.jsonl");
    std::fs::write(&usage, "{\"id\":\"e1\",\"time\":\"2026-01-02T00:00:00Z\",\"credential\":\"k1\",\"capability\":\"chat\",\"credits\":1}\n").unwrap();
    let pipe = dir.path().join("windows.pipe");
    assert!(Command::new("mkfifo").arg(&pipe).status().unwrap().success());
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::read_to_string(pipe).unwrap())
    };
    let out = Command::new(env!("CARGO_BIN_EXE_bursar")).args(["replay", "--input"]).arg(&usage).args(["--findings", "/dev/null", "--windows"]).arg(&pipe).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let windows = reader.join().unwrap();
    // The event's 1m and 1h windows, closed at the end of the input.
    assert_eq!(windows.lines().count(), 2, "{windows}");
    assert!(windows.lines().all(|l| l.contains("\"credential\":\"k1\"")), "{windows}");
    // Nothing was staged beside the pipe.
    let names: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
}
