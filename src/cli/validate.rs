//! `bursar validate`: line-numbered errors, exit status 1 on any; unknown
//! entitlement keys are warnings (exit 0) unless `--strict`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bursar::validate::{validate_report, Kind};
use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KindArg {
    Usage,
    Entitlement,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// What the file holds.
    #[arg(long, value_enum)]
    pub kind: KindArg,
    /// JSON Lines file, or `-` for standard input.
    pub file: PathBuf,
    /// Largest accepted usage record in bytes (as `max_value_bytes`).
    #[arg(long, default_value_t = 65_536)]
    pub max_value_bytes: usize,
    /// Treat warnings (unknown entitlement keys) as errors: exit status 1.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(a: ValidateArgs) -> anyhow::Result<ExitCode> {
    let (name, text) = if a.file.as_os_str() == "-" {
        let mut text = Vec::new();
        std::io::stdin().lock().read_to_end(&mut text).context("cannot read standard input")?;
        ("stdin".to_string(), text)
    } else {
        (a.file.display().to_string(), std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?)
    };
    let kind = match a.kind {
        KindArg::Usage => Kind::Usage,
        KindArg::Entitlement => Kind::Entitlement,
    };
    let report = validate_report(kind, &text, a.max_value_bytes);
    for e in &report.errors {
        println!("{name}:{}: {}: {}", e.line, e.kind, e.reason);
    }
    for w in &report.warnings {
        println!("{name}:{}: warning: {}", w.line, w.message);
    }
    println!("{} records checked, {} invalid, {} warnings", report.checked, report.errors.len(), report.warnings.len());
    let failed = !report.errors.is_empty() || (a.strict && !report.warnings.is_empty());
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
