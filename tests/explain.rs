//! `bursar explain` on a scenario's files: it finds the finding by uid and
//! explains it from the version in force and the state around its record.

use std::process::Command;

use bursar::rules::{finding_uid, Rule};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/revoked_suspended_expired_unmanaged_and_exposed_credentials");

fn explain(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bursar"))
        .arg("explain")
        .args(["--input", &format!("{DIR}/usage.jsonl"), "--entitlements", &format!("{DIR}/entitlements.jsonl")])
        .args(args)
        .output()
        .expect("run bursar explain");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_not_yet_valid_use_is_explained_from_the_version_dates_and_the_state_around_its_event() {
    let uid = finding_uid(Rule::CredentialRevoked, "k2", &["not_yet_valid".into(), "2026-01-03".into()]);
    let (ok, out, err) = explain(&["--credential", "k2", "--uid", &uid]);
    assert!(ok, "{err}");
    for want in [
        "Use of a credential before its validity starts",
        "Trigger: line 4 of",
        "The credential's own event e4 at 2026-01-03T10:00:00.000Z",
        "the version updated 2026-01-01T00:00:00.000Z, owner k2@example.com, status active, valid from 2026-01-05T00:00:00.000Z until 2026-01-10T00:00:00.000Z",
        "(nothing before: this record is the credential's first on the partition)",
        "last activity none -> 2026-01-03T10:00:00.000Z",
        "reason = not_yet_valid",
        "What to do: Block the key",
        "emitted as the rule produced it",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn a_later_finding_shows_the_state_before_it_and_a_suppression_its_fate() {
    let config = std::env::temp_dir().join(format!("bursar-explain-{}.toml", std::process::id()));
    std::fs::write(&config, "[[suppress]]\ncredential = \"k1\"\nreason = \"decommissioned on purpose\"\naction = \"drop\"\n").expect("write config");
    let uid = finding_uid(Rule::CredentialRevoked, "k1", &["revoked".into(), "2026-01-02".into()]);
    let (ok, out, err) = explain(&["--credential", "k1", "--uid", &uid, "--config", config.to_str().unwrap_or_default()]);
    let _ = std::fs::remove_file(&config);
    assert!(ok, "{err}");
    assert!(out.contains("last activity 2026-01-01T11:00:00.000Z -> 2026-01-02T10:00:00.000Z"), "{out}");
    assert!(out.contains("status revoked"), "{out}");
    assert!(out.contains("dropped by a [[suppress]] entry"), "{out}");
}

#[test]
fn an_unknown_uid_or_the_wrong_credential_is_an_error_that_says_what_to_check() {
    let (ok, _, err) = explain(&["--credential", "k1", "--uid", "00000000000000000000000000000000"]);
    assert!(!ok && err.contains("--partitions"), "{err}");
    let uid = finding_uid(Rule::CredentialUnmanaged, "k4", &["2026-01-10".into()]);
    let (ok, _, err) = explain(&["--credential", "k1", "--uid", &uid]);
    assert!(!ok && err.contains("--credential k4"), "{err}");
}

#[test]
fn the_input_and_the_topic_exclude_each_other_and_a_topic_takes_no_partitions_or_entitlement_file() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_bursar")).arg("explain").args(["--credential", "k1", "--uid", "u"]).args(args).output().expect("run bursar explain");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let input = format!("{DIR}/usage.jsonl");
    let (ok, err) = run(&["--input", &input, "--topic", "usage", "--config", "bursar.toml"]);
    assert!(!ok && err.contains("'--input <INPUT>' cannot be used with '--topic [<TOPIC>]'"), "{err}");
    let (ok, err) = run(&["--topic", "--partitions", "3", "--config", "bursar.toml"]);
    assert!(!ok && err.contains("'--topic [<TOPIC>]' cannot be used with '--partitions <PARTITIONS>'"), "{err}");
    let (ok, err) = run(&["--topic", "--entitlements", "ents.jsonl", "--config", "bursar.toml"]);
    assert!(!ok && err.contains("cannot be used with '--entitlements <ENTITLEMENTS>'"), "{err}");
    let (ok, err) = run(&[]);
    assert!(!ok && err.contains("<--input <INPUT>|--topic [<TOPIC>]>"), "one of the two is required: {err}");
    let (ok, err) = run(&["--topic"]);
    assert!(!ok && err.contains("--config <CONFIG>"), "a topic needs the config of the run: {err}");
    let (ok, err) = run(&["--input", &input, "--until", "2026-01-02T00:00:00Z"]);
    assert!(!ok && err.contains("--topic [<TOPIC>]"), "a range is for a topic: {err}");
}

#[test]
fn a_call_outside_two_scope_dimensions_is_worded_in_the_plural() {
    let dir = tempfile::tempdir().unwrap();
    let (usage, ents, findings) = (dir.path().join("u.jsonl"), dir.path().join("e.jsonl"), dir.path().join("f.jsonl"));
    let scope = r#"{"credential": "k1", "owner": "k1@example.com", "updated_at": "2026-01-01T00:00:00Z", "scope": {"capabilities": ["chat"], "models": ["llama-*"]}}"#;
    std::fs::write(&ents, format!("{scope}\n")).unwrap();
    std::fs::write(&usage, "{\"id\": \"e1\", \"time\": \"2026-01-02T10:00:00Z\", \"credential\": \"k1\", \"capability\": \"image\", \"credits\": \"1\", \"model\": \"gpt-4\"}\n").unwrap();
    let paths = |p: &std::path::Path| p.to_str().unwrap_or_default().to_string();
    let ok = Command::new(env!("CARGO_BIN_EXE_bursar"))
        .args(["replay", "--input", &paths(&usage), "--entitlements", &paths(&ents), "--findings", &paths(&findings)])
        .status()
        .expect("run bursar replay")
        .success();
    assert!(ok);
    let text = std::fs::read_to_string(&findings).unwrap();
    let finding: serde_json::Value = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|f| f["finding_info"]["types"][0] == "scope.violation").expect("a scope.violation finding");
    let uid = finding["finding_info"]["uid"].as_str().expect("finding_info.uid").to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_bursar"))
        .args(["explain", "--input", &paths(&usage), "--entitlements", &paths(&ents), "--credential", "k1", "--uid", &uid])
        .output()
        .expect("run bursar explain");
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains("the call's capability and model match none of the allowed globs"), "{out}");
}
