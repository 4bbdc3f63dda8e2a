//! `bursar validate` as a command: standard input (`-`), unknown entitlement
//! keys as warnings (exit 0) or, with `--strict`, errors (exit 1).

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `bursar validate ARGS` with `stdin`; returns the exit code and stdout.
fn validate(args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bursar")).arg("validate").args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

const GOOD: &str = r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z"}"#;
const MISSPELT: &str = r#"{"credential":"k","owner":"o","updated_at":"2026-05-01T00:00:00Z","sope":{"models":["a"]}}"#;

#[test]
fn validate_reads_standard_input_and_an_unknown_key_is_a_warning_unless_strict() {
    let text = format!("{GOOD}\n\n{MISSPELT}\n");
    let (code, out) = validate(&["--kind", "entitlement", "-"], &text);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stdin:3: warning: unknown key `sope` is ignored (the nearest known key is `scope`)"), "{out}");
    assert!(out.contains("2 records checked, 0 invalid, 1 warnings"), "{out}");
    let (code, out) = validate(&["--kind", "entitlement", "--strict", "-"], &text);
    assert_eq!(code, 1, "--strict makes a warning fail: {out}");
    let (code, out) = validate(&["--kind", "entitlement", "--strict", "-"], &format!("{GOOD}\n"));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn an_invalid_usage_line_on_standard_input_exits_1_with_its_line_number() {
    let (code, out) = validate(&["--kind", "usage", "-"], "not json\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("stdin:1: invalid_json"), "{out}");
}
