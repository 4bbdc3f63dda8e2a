//! Subcommands (README.md). Each file parses nothing itself: clap derives the
//! arguments here and each command is one function.

mod demo;
mod explain;
mod gen;
mod kafka;
mod replay;
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
    }
}

/// Loads `--config` when given, else the documented defaults.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

/// Opens a JSON Lines output file (`-` is stdout).
pub fn create_output(path: &PathBuf) -> anyhow::Result<Box<dyn std::io::Write + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::BufWriter::new(std::io::stdout())));
    }
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(std::io::BufWriter::with_capacity(1 << 16, file)))
}

/// The JSON Lines sinks of the four output flags (`-` is stdout).
pub fn file_sinks(paths: [&Option<PathBuf>; 4]) -> anyhow::Result<bursar::sink::Sinks> {
    let mut sinks = bursar::sink::Sinks::new();
    for (stream, path) in bursar::sink::Stream::ALL.into_iter().zip(paths) {
        if let Some(p) = path {
            let what = if p.as_os_str() == "-" { "stdout".to_string() } else { p.display().to_string() };
            sinks.set(stream, Box::new(bursar::sink::JsonLines::new(what, create_output(p)?)));
        }
    }
    Ok(sinks)
}
