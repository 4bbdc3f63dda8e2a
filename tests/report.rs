//! `bursar report` and `bursar inspect` read a replay's outputs: every key of
//! every owner with what it reaches, what it banked and until when, and what
//! happened; expectations are computed here from the JSON Lines outputs.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bursar");

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Replays the bundled examples into `dir` (findings, windows, balances JSON
/// Lines, and the entitlements beside them).
fn replay(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("examples/entitlements.jsonl"), dir.join("entitlements.jsonl")).unwrap();
    let out = Command::new(BIN)
        .args(["replay", "--input"])
        .arg(root.join("examples/usage.jsonl"))
        .arg("--entitlements")
        .arg(dir.join("entitlements.jsonl"))
        .args(["--findings"])
        .arg(dir.join("findings.jsonl"))
        .arg("--windows")
        .arg(dir.join("windows.jsonl"))
        .arg("--balances")
        .arg(dir.join("balances.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn report(dir: &Path) -> String {
    let page = dir.join("report.html");
    let out = Command::new(BIN).args(["report", "--dir"]).arg(dir).arg("--out").arg(&page).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    decode(&std::fs::read_to_string(page).unwrap())
}

/// The page with HTML escapes of text undone (tags stay), to compare with plain values.
fn decode(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&#x27;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// Each credential's entitlement versions in force at the end: lines in
/// order, a tombstone forgetting the versions before it.
fn versions(dir: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut by_key: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in lines(&dir.join("entitlements.jsonl")) {
        let list = by_key.entry(e["credential"].as_str().unwrap().to_string()).or_default();
        if e["tombstone"] == true {
            list.clear();
        } else {
            list.push(e);
        }
    }
    by_key
}

fn inspect(dir: &Path, credential: &str, json: bool) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["inspect", "--credential", credential, "--dir"]).arg(dir);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The last balance record of each credential.
fn last_balances(dir: &Path) -> BTreeMap<String, Value> {
    lines(&dir.join("balances.jsonl")).into_iter().map(|b| (b["credential"].as_str().unwrap().to_string(), b)).collect()
}

#[test]
fn the_report_shows_every_key_of_every_owner_with_its_scope_its_grants_and_their_expiry() {
    let dir = tempfile::tempdir().unwrap();
    replay(dir.path());
    let page = report(dir.path());
    for (key, list) in versions(dir.path()) {
        let Some(e) = list.last() else {
            assert!(page.contains(&format!("<code>{key}</code> <span class=\"meta\">unmanaged")), "{key}: all versions deleted, so unmanaged");
            continue;
        };
        assert!(page.contains(&format!("<code>{}</code>", key)), "{key} missing");
        assert!(page.contains(e["owner"].as_str().unwrap()), "owner of {key} missing");
        for (name, list) in e["scope"].as_object().into_iter().flatten() {
            let joined: Vec<&str> = list.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            assert!(page.contains(&format!("<th>{name}</th><td>{}</td>", joined.join(", "))), "scope {name} of {key}");
        }
    }
    for (key, b) in last_balances(dir.path()) {
        let section = &page[page.find(&format!("<code>{}</code> <span", key)).unwrap_or_else(|| panic!("{key} has no section"))..];
        let section = &section[..section.find("<div class=\"key\"").unwrap_or(section.len())];
        for g in b["grants"].as_array().unwrap() {
            let row = format!("<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>", g["month"].as_str().unwrap(), g["amount"].as_str().unwrap(), g["remaining"].as_str().unwrap(), g["expires"].as_str().unwrap());
            assert!(section.contains(&row), "{key}: grant row {row} missing");
        }
        assert!(section.contains("<svg"), "{key} has no chart");
    }
    assert!(page.matches("<svg").count() >= 2 + last_balances(dir.path()).len(), "overview charts and one per key");
}

#[test]
fn keys_to_look_at_first_rank_exposed_before_revoked_and_list_every_such_key() {
    let dir = tempfile::tempdir().unwrap();
    replay(dir.path());
    let page = report(dir.path());
    let table = &page[page.find("id=\"look-first-table\"").expect("the look-first table")..];
    let table = &table[..table.find("</table>").unwrap()];
    let mut by_rule: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in lines(&dir.path().join("findings.jsonl")) {
        let b = &f["unmapped"]["bursar"];
        by_rule.entry(b["rule"].as_str().unwrap().to_string()).or_default().push(b["credential"].as_str().unwrap().to_string());
    }
    let position = |key: &str| table.find(&format!("<code>{}</code>", key)).unwrap_or_else(|| panic!("{key} is not in the table"));
    let exposed = by_rule.get("credential.exposed").cloned().unwrap_or_default();
    let revoked: Vec<String> = by_rule.get("credential.revoked").cloned().unwrap_or_default().into_iter().filter(|k| !exposed.contains(k)).collect();
    assert!(!exposed.is_empty() && !revoked.is_empty(), "the examples have exposed and revoked keys");
    for e in &exposed {
        for r in &revoked {
            assert!(position(e) < position(r), "{e} (exposed) ranks after {r} (revoked)");
        }
    }
    for key in by_rule.iter().filter(|(r, _)| r.starts_with("scope.")).flat_map(|(_, ks)| ks) {
        position(key);
    }
}

#[test]
fn the_page_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    replay(dir.path());
    let page = report(dir.path());
    for external in ["<script src", "<link", "src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!page.contains(external), "the page fetches something: {external}");
    }
}

#[test]
fn scope_lists_and_limits_the_report_does_not_know_are_shown_as_the_entitlement_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let ents = r#"{"credential":"key_new","owner":"team-x@example.com","status":"active","updated_at":"2026-01-01T00:00:00Z","valid_from":"2026-01-01T00:00:00Z","scope":{"capabilities":["chat"],"principals":["spiffe://prod/a","spiffe://prod/b"],"networks":["10.0.0.0/8"]},"max_principals":2,"max_source_ips":5}"#;
    std::fs::write(dir.path().join("entitlements.jsonl"), format!("{ents}\n")).unwrap();
    let page = report(dir.path());
    for row in ["<th>principals</th><td>spiffe://prod/a, spiffe://prod/b</td>", "<th>networks</th><td>10.0.0.0/8</td>", "<th>max_principals</th><td>2</td>", "<th>max_source_ips</th><td>5</td>"] {
        assert!(page.contains(row), "{row} missing");
    }
}

#[test]
fn inspect_json_agrees_with_the_outputs_for_every_key() {
    let dir = tempfile::tempdir().unwrap();
    replay(dir.path());
    let balances = last_balances(dir.path());
    let findings = lines(&dir.path().join("findings.jsonl"));
    let ents = versions(dir.path());
    let mut keys: Vec<String> = balances.keys().cloned().collect();
    keys.extend(findings.iter().map(|f| f["unmapped"]["bursar"]["credential"].as_str().unwrap().to_string()));
    keys.sort();
    keys.dedup();
    for key in keys {
        let (ok, out, err) = inspect(dir.path(), &key, true);
        assert!(ok, "{key}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let of_key: Vec<&Value> = findings.iter().filter(|f| f["unmapped"]["bursar"]["credential"] == key.as_str()).collect();
        assert_eq!(v["findings"].as_array().unwrap().len(), of_key.len(), "{key}: findings");
        let uids: Vec<&str> = of_key.iter().map(|f| f["finding_info"]["uid"].as_str().unwrap()).collect();
        let got: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["uid"].as_str().unwrap()).collect();
        assert_eq!(got, uids, "{key}: findings in output order");
        assert_eq!(v["versions"].as_array().unwrap(), ents.get(&key).cloned().unwrap_or_default().as_slice(), "{key}: versions");
        match balances.get(&key) {
            Some(b) => {
                assert_eq!(v["balance"]["remaining"], b["remaining"], "{key}");
                assert_eq!(v["balance"]["overage"], b["overage"], "{key}");
                let expires: Vec<&Value> = v["balance"]["grants"].as_array().unwrap().iter().map(|g| &g["expires"]).collect();
                let want: Vec<&Value> = b["grants"].as_array().unwrap().iter().map(|g| &g["expires"]).collect();
                assert_eq!(expires, want, "{key}: grant expiries");
            }
            None => assert!(v["balance"].is_null(), "{key}"),
        }
    }
}

#[test]
fn inspect_text_lists_the_live_grants_and_an_unknown_key_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    replay(dir.path());
    let (key, b) = last_balances(dir.path()).into_iter().max_by_key(|(_, b)| b["grants"].as_array().unwrap().len()).unwrap();
    let (ok, out, _) = inspect(dir.path(), &key, false);
    assert!(ok);
    for g in b["grants"].as_array().unwrap() {
        assert!(out.lines().any(|l| l.contains(g["month"].as_str().unwrap()) && l.contains(g["expires"].as_str().unwrap())), "{key}: grant {g} in\n{out}");
    }
    let (ok, _, err) = inspect(dir.path(), "key_that_never_was", false);
    assert!(!ok && err.contains("key_that_never_was"), "{err}");
}

#[test]
fn demo_writes_its_report_beside_its_outputs_and_prints_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).args(["demo", "--out"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let page: PathBuf = dir.path().join("report.html");
    assert!(stdout.contains(&page.display().to_string()), "{stdout}");
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("Keys to look at first") && html.contains("<svg"));
}

/// The part of a page between `from` and the next `to`.
fn between<'a>(page: &'a str, from: &str, to: &str) -> &'a str {
    let rest = &page[page.find(from).unwrap_or_else(|| panic!("{from} missing"))..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

#[test]
fn report_and_inspect_read_the_topics_as_they_read_the_same_outputs_in_files() {
    let Some(b) = common::bootstrap() else { return };
    let (ents, usage) = common::workload(1_500, 30, 5);
    let s = common::Setup::new(&b, "report", 2, "");
    common::produce(&s.config, &ents, &usage);
    let dir = s.dir.path();
    std::fs::write(dir.join("entitlements.jsonl"), ents.join("\n") + "\n").unwrap();
    // One replay of the usage topic into the output topics and into files alike.
    let t = &s.config.topics;
    let mut replay = Command::new(BIN);
    replay.args(["replay", "--topic", &t.usage, "--force-live", "--config"]).arg(&s.path);
    for (stream, topic) in [("findings", &t.findings), ("windows", &t.windows), ("balances", &t.balances)] {
        replay.arg(format!("--{stream}-topic")).arg(topic).arg(format!("--{stream}")).arg(dir.join(format!("{stream}.jsonl")));
    }
    let out = replay.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut keys: Vec<String> = lines(&dir.join("findings.jsonl")).iter().map(|f| f["unmapped"]["bursar"]["credential"].as_str().unwrap().to_string()).collect();
    keys.sort();
    keys.dedup();
    assert!(keys.len() >= 3, "the workload has findings");
    for key in keys.iter().take(5) {
        let files = inspect(dir, key, true);
        let out = Command::new(BIN).args(["inspect", "--json", "--credential", key, "--config"]).arg(&s.path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let topics: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(topics, serde_json::from_str::<Value>(&files.1).unwrap(), "{key}: topics and files agree");
    }

    let from_files = report(dir);
    let page = dir.join("topics.html");
    let out = Command::new(BIN).args(["report", "--config"]).arg(&s.path).arg("--out").arg(&page).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let from_topics = decode(&std::fs::read_to_string(page).unwrap());
    assert_eq!(between(&from_topics, "<p class=\"tot\">", "</p>"), between(&from_files, "<p class=\"tot\">", "</p>"));
    assert_eq!(between(&from_topics, "<h2 id=\"look-first\">", "</table>"), between(&from_files, "<h2 id=\"look-first\">", "</table>"));
}
