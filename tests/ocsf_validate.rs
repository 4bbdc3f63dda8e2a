//! Findings checked by an independent OCSF implementation: the OCSF project's
//! pydantic models (OCSF 1.7.0), via ../shared/tools/ocsf-validate. Skipped,
//! with a notice, only where python3 or the tool is missing.

mod emit_fixtures;

use std::io::Write;
use std::process::Command;

use bursar::config::EngineConfig;
use bursar::rules::{Finding, Rule};
use bursar::runtime::replay::replay_text;

const TOOL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/tools/ocsf-validate");

/// True when the validator can run; prints why not otherwise.
fn validator_available() -> bool {
    if !std::path::Path::new(TOOL).exists() {
        eprintln!("skipping: {TOOL} is missing");
        return false;
    }
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipping: python3 is missing");
        return false;
    }
    true
}

/// Writes the findings as JSON Lines and asserts the validator accepts every one.
fn assert_valid_ocsf(findings: &[Finding]) {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    for f in findings {
        writeln!(file, "{}", bursar::emit::finding_json(f)).expect("write finding");
    }
    file.flush().expect("flush findings");
    let result = Command::new(TOOL).arg(file.path()).output().expect("run ocsf-validate");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success(), "ocsf-validate failed:\n{stdout}\n{}", String::from_utf8_lossy(&result.stderr));
    assert!(stdout.contains(&format!("{n}/{n} findings valid", n = findings.len())), "{stdout}");
}

#[test]
fn every_rule_in_every_shape_is_a_valid_ocsf_1_7_0_detection_finding() {
    if !validator_available() {
        return;
    }
    let findings = emit_fixtures::all_findings();
    for rule in Rule::ALL {
        assert_eq!(findings.iter().filter(|f| f.rule == rule).count(), 4 + usize::from(rule == Rule::ScopeDrift));
    }
    assert_valid_ocsf(&findings);
}

#[test]
fn every_rule_of_the_demo_emits_valid_ocsf_1_7_0_detection_findings() {
    if !validator_available() {
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let (Ok(ents), Ok(usage)) = (std::fs::read_to_string(format!("{dir}/entitlements.jsonl")), std::fs::read_to_string(format!("{dir}/usage.jsonl"))) else {
        eprintln!("skipping: the bundled examples are missing");
        return;
    };
    let out = replay_text(&EngineConfig::default(), 1, &ents, &usage);
    for rule in Rule::ALL {
        assert!(out.findings.iter().any(|f| f.rule == rule), "the demo has no {} finding", rule.as_str());
    }
    assert_valid_ocsf(&out.findings);
}
