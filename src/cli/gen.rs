//! `bursar gen`: a seeded synthetic workload with injected anomalies, to files or a topic.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use bursar::gen::{entitlements_iter, usage, GenSpec};
use clap::Args;

#[derive(Args, Debug)]
pub struct GenArgs {
    /// Seed of every random choice: the same seed gives the same workload.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Usage lines to generate (duplicates and malformed lines included).
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Distinct credentials.
    #[arg(long, default_value_t = 1_000)]
    pub credentials: u64,
    /// Days of event time the workload spans, from 2026-01-01 (at least 1).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: u32,
    /// No injected anomalies.
    #[arg(long)]
    pub no_anomalies: bool,
    /// No malformed lines.
    #[arg(long)]
    pub no_bad_lines: bool,
    /// Usage JSON Lines output (`-` for stdout).
    #[arg(long, default_value = "usage.jsonl", conflicts_with = "topic")]
    pub out: PathBuf,
    /// Entitlements JSON Lines output.
    #[arg(long, default_value = "entitlements.jsonl", conflicts_with = "topic")]
    pub entitlements_out: PathBuf,
    /// Produce to this Kafka topic instead of files (entitlements go to `topics.entitlements`).
    #[arg(long)]
    pub topic: Option<String>,
    /// bursar.toml with `[kafka]` settings, for --topic.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(a: GenArgs) -> anyhow::Result<ExitCode> {
    let spec = GenSpec {
        seed: a.seed,
        events: a.events,
        credentials: a.credentials,
        days: a.days,
        anomalies: !a.no_anomalies,
        bad_lines: !a.no_bad_lines,
        ..GenSpec::default()
    };
    if spec.credentials == 0 {
        bail!("--credentials must be at least 1");
    }
    if let Some(topic) = &a.topic {
        let config = super::load_config(a.config.as_deref())?;
        return super::kafka::gen_to_topic(&config, topic, &spec);
    }
    let mut ents = super::create_output(&a.entitlements_out)?;
    let mut n_ents = 0u64;
    for line in entitlements_iter(&spec) {
        ents.write_all(line.as_bytes())?;
        ents.write_all(b"\n")?;
        n_ents += 1;
    }
    ents.flush()?;
    let mut out = super::create_output(&a.out)?;
    let mut n = 0u64;
    for line in usage(&spec) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    eprintln!("bursar: wrote {n} usage lines to {} and {n_ents} entitlement lines to {}", a.out.display(), a.entitlements_out.display());
    Ok(ExitCode::SUCCESS)
}
