//! `bursar validate`: line-numbered errors, exit status 1 on any.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bursar::validate::{validate_text, Kind};
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
    /// JSON Lines file.
    pub file: PathBuf,
    /// Largest accepted usage record in bytes (as `max_value_bytes`).
    #[arg(long, default_value_t = 65_536)]
    pub max_value_bytes: usize,
}

pub fn run(a: ValidateArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let kind = match a.kind {
        KindArg::Usage => Kind::Usage,
        KindArg::Entitlement => Kind::Entitlement,
    };
    let (checked, errors) = validate_text(kind, &text, a.max_value_bytes);
    for e in &errors {
        println!("{}:{}: {}: {}", a.file.display(), e.line, e.kind, e.reason);
    }
    println!("{} records checked, {} invalid", checked, errors.len());
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
