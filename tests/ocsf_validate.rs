//! Findings checked by an independent OCSF implementation: the OCSF project's
//! pydantic models (OCSF 1.7.0), via ../shared/tools/ocsf-validate.

use std::io::Write;
use std::process::Command;

use bursar::config::EngineConfig;
use bursar::engine::output::Rule;
use bursar::runtime::replay::replay_text;

#[test]
fn every_rule_of_the_demo_emits_valid_ocsf_1_7_0_detection_findings() {
    let tool = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/tools/ocsf-validate");
    if !std::path::Path::new(tool).exists() || Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipping: {tool} or python3 is missing");
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let ents = std::fs::read_to_string(format!("{dir}/entitlements.jsonl")).unwrap();
    let usage = std::fs::read_to_string(format!("{dir}/usage.jsonl")).unwrap();
    let out = replay_text(&EngineConfig::default(), 1, &ents, &usage);
    for rule in Rule::ALL {
        assert!(out.findings.iter().any(|f| f.rule == rule), "the demo has no {} finding", rule.as_str());
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for f in &out.findings {
        writeln!(file, "{}", bursar::emit::finding_json(f)).unwrap();
    }
    file.flush().unwrap();
    let result = Command::new(tool).arg(file.path()).output().expect("run ocsf-validate");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success(), "ocsf-validate failed:\n{stdout}\n{}", String::from_utf8_lossy(&result.stderr));
    assert!(stdout.contains(&format!("{n}/{n} findings valid", n = out.findings.len())), "{stdout}");
}
