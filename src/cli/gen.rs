//! `bursar gen`: a seeded synthetic workload with injected anomalies, to files or a topic.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use bursar::gen::{entitlements_iter, usage, GenSpec, Shape};
use clap::Args;

#[derive(Args, Debug)]
pub struct GenArgs {
    /// Seed of every random choice: the same seed gives the same workload.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Usage lines to generate (duplicates and malformed lines included).
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Traffic pattern: `sparse` (many keys, each used every few hours over --days)
    /// or `dense` (few keys over --hours, Pareto-distributed call rates).
    #[arg(long, value_enum, default_value_t = ShapeArg::Sparse)]
    pub shape: ShapeArg,
    /// Distinct credentials [default: 1000; 500 with --shape dense].
    #[arg(long)]
    pub credentials: Option<u64>,
    /// Days of event time a sparse workload spans, from 2026-01-01 (at least 1) [default: 120].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: Option<u32>,
    /// Hours of event time a dense workload spans, from 2026-01-01 (at least 1) [default: 6].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub hours: Option<u32>,
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

/// `--shape`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeArg {
    Sparse,
    Dense,
}

pub fn run(a: GenArgs) -> anyhow::Result<ExitCode> {
    let shape = match a.shape {
        ShapeArg::Sparse => Shape::Sparse,
        ShapeArg::Dense => Shape::Dense,
    };
    match shape {
        Shape::Sparse if a.hours.is_some() => bail!("--hours sets the span of --shape dense; a sparse workload spans --days"),
        Shape::Dense if a.days.is_some() => bail!("--days sets the span of --shape sparse; a dense workload spans --hours"),
        _ => {}
    }
    let defaults = GenSpec::default();
    let spec = GenSpec {
        seed: a.seed,
        events: a.events,
        credentials: a.credentials.unwrap_or(shape.default_credentials()),
        days: a.days.unwrap_or(defaults.days),
        hours: a.hours.unwrap_or(defaults.hours),
        shape,
        anomalies: !a.no_anomalies,
        bad_lines: !a.no_bad_lines,
        ..defaults
    };
    if spec.credentials == 0 {
        bail!("--credentials must be at least 1");
    }
    if let Some(topic) = &a.topic {
        let config = super::load_config(a.config.as_deref())?;
        return super::kafka::gen_to_topic(&config, topic, &spec);
    }
    // Entitlements first: a reader that waits for the usage file finds both complete.
    let n_ents = write_lines(&a.entitlements_out, entitlements_iter(&spec))?;
    let n = write_lines(&a.out, usage(&spec))?;
    eprintln!("bursar: wrote {n} usage lines to {} and {n_ents} entitlement lines to {}", a.out.display(), a.entitlements_out.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes `lines` to `path` (`-`: stdout) under a temporary name, renamed
/// when complete (README.md, "Outputs"); returns how many were written.
fn write_lines<S: AsRef<str>>(path: &std::path::Path, lines: impl Iterator<Item = S>) -> anyhow::Result<u64> {
    let (mut out, staged) = super::create_staged(path)?;
    let failed = || format!("cannot write {}", path.display());
    let mut n = 0u64;
    for line in lines {
        out.write_all(line.as_ref().as_bytes()).with_context(failed)?;
        out.write_all(b"\n").with_context(failed)?;
        n += 1;
    }
    out.flush().with_context(failed)?;
    drop(out);
    if let Some(mut file) = staged {
        file.commit().with_context(failed)?;
    }
    Ok(n)
}
