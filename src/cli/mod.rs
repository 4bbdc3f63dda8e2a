//! Subcommands (README.md). Each file parses nothing itself: clap derives the
//! arguments here and each command is one function.

mod demo;
mod explain;
mod gen;
mod inspect;
mod kafka;
mod replay;
mod report;
mod validate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bursar::config::Config;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "bursar", version, about = "Governs credit-backed AI access keys from their usage stream: burst, banking, dormancy, scope and exposure findings as OCSF 1.7.0.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the engine on the bundled sample data (no broker) and summarise the findings.
    Demo(demo::DemoArgs),
    /// Re-process usage with fresh state: from a JSON Lines file, or a range of a topic.
    Replay(replay::ReplayArgs),
    /// Check usage events or entitlements, with line numbers; exit 1 on any error.
    Validate(validate::ValidateArgs),
    /// Write a seeded synthetic workload with injected anomalies, to files or a topic.
    Gen(gen::GenArgs),
    /// The live processor on Kafka.
    Run(kafka::RunArgs),
    /// Replay the input a finding came from and explain it: the version in force, the state before and after, why, what to do.
    Explain(explain::ExplainArgs),
    /// Pre-flight check: the effective configuration (secrets masked), the broker, every topic, the state.
    Check(kafka::CheckArgs),
    /// Manage Kafka topics.
    Topics {
        #[command(subcommand)]
        command: kafka::TopicsCommand,
    },
    /// The entitlement review of a replay's outputs or of the topics, as one self-contained HTML file.
    Report(report::ReportArgs),
    /// One key's entitlement versions, balance and grants, recent windows and findings.
    Inspect(inspect::InspectArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Gen(a) => gen::run(a),
        Command::Run(a) => kafka::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Check(a) => kafka::check(a),
        Command::Topics { command } => kafka::topics(command),
        Command::Report(a) => report::run(a),
        Command::Inspect(a) => inspect::run(a),
    }
}

/// Loads `--config` when given, else the documented defaults.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

/// The format of a file output (`replay --format`; default: by the file's extension).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// JSON Lines (any extension other than `.parquet` and `.csv`).
    Jsonl,
    /// CSV with a header row (`.csv`).
    Csv,
    /// Apache Parquet (`.parquet`).
    Parquet,
}

impl OutputFormat {
    /// `.parquet` and `.csv` (any case) name their format; anything else is JSON Lines.
    pub fn of_path(path: &Path) -> OutputFormat {
        match path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref() {
            Some("parquet") => OutputFormat::Parquet,
            Some("csv") => OutputFormat::Csv,
            _ => OutputFormat::Jsonl,
        }
    }
}

/// Opens an output file (`-` is stdout) written under a temporary name
/// beside it, which gets its name when complete (`sink::StagedFile`). A
/// path that names something other than a regular file (`/dev/null`, a
/// named pipe) is written directly: it cannot be replaced by a rename.
pub fn create_staged(path: &Path) -> anyhow::Result<(Box<dyn std::io::Write + Send>, Option<bursar::sink::StagedFile>)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::BufWriter::new(std::io::stdout())), None));
    }
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let file = std::fs::OpenOptions::new().write(true).open(path).with_context(|| format!("cannot open {} for writing", path.display()))?;
        return Ok((Box::new(std::io::BufWriter::with_capacity(1 << 16, file)), None));
    }
    let (staged, file) = bursar::sink::StagedFile::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok((Box::new(std::io::BufWriter::with_capacity(1 << 16, file)), Some(staged)))
}

/// The sink of one stream's file output, in `format` or its extension's.
pub fn file_sink(stream: bursar::sink::Stream, path: &Path, format: Option<OutputFormat>) -> anyhow::Result<Box<dyn bursar::sink::Sink>> {
    use bursar::sink::{Csv, JsonLines, Parquet, Staged};
    let what = if path.as_os_str() == "-" { "stdout".to_string() } else { path.display().to_string() };
    let format = format.unwrap_or_else(|| OutputFormat::of_path(path));
    if format == OutputFormat::Parquet && path.as_os_str() == "-" {
        anyhow::bail!("--{} -: Parquet cannot be written to stdout; name a file (or use --format csv or jsonl)", stream.as_str());
    }
    let (out, staged) = create_staged(path)?;
    let sink: Box<dyn bursar::sink::Sink> = match format {
        OutputFormat::Jsonl => Box::new(JsonLines::new(what, out)),
        OutputFormat::Csv => Box::new(Csv::create(what, stream, out)),
        OutputFormat::Parquet => Box::new(Parquet::create(what.clone(), stream, out).with_context(|| format!("cannot start the Parquet file {what}"))?),
    };
    Ok(match staged {
        Some(file) => Box::new(Staged::new(sink, file)),
        None => sink,
    })
}

/// The sinks of the four output flags (`-` is stdout), each in `format` or its extension's.
pub fn file_sinks(paths: [&Option<PathBuf>; 4], format: Option<OutputFormat>) -> anyhow::Result<bursar::sink::Sinks> {
    let mut sinks = bursar::sink::Sinks::new();
    for (stream, path) in bursar::sink::Stream::ALL.into_iter().zip(paths) {
        if let Some(p) = path {
            sinks.set(stream, file_sink(stream, p, format)?);
        }
    }
    Ok(sinks)
}
