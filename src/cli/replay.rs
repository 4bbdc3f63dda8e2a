//! `bursar replay`: fresh state over a file (embedded mode) or a topic range.

use std::io::{BufRead, BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use bursar::engine::Engine;
use bursar::pipeline::{open_input, replay_file, FileReplay};
use bursar::runtime::replay::load_entitlement_file;
use bursar::sink::Stream;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Usage events as JSON Lines (`-` for stdin).
    #[arg(long, conflicts_with = "topic")]
    pub input: Option<PathBuf>,
    /// Entitlements as JSON Lines, applied in line order before any usage.
    #[arg(long)]
    pub entitlements: Option<PathBuf>,
    /// Partitions to split the input into with Kafka's default partitioner.
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    /// Threads of the replay pipeline (reader, engine shards, writer); default:
    /// the machine's cores. The outputs are the same whatever the count.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Findings (OCSF); `-` for stdout. Default: stdout when no output is named.
    /// Each output file's format follows its extension: `.parquet`, `.csv`,
    /// anything else JSON Lines (docs/report.md); a file gets its name only
    /// once complete.
    #[arg(long)]
    pub findings: Option<PathBuf>,
    /// Window records; `-` for stdout.
    #[arg(long)]
    pub windows: Option<PathBuf>,
    /// Balance records; `-` for stdout.
    #[arg(long)]
    pub balances: Option<PathBuf>,
    /// Rejected records (kind, reason and the original line); `-` for stdout.
    #[arg(long)]
    pub rejected: Option<PathBuf>,
    /// The format of every output file, whatever its extension.
    #[arg(long, value_enum)]
    pub format: Option<super::OutputFormat>,
    /// Rule settings (and, for --topic, Kafka settings) from a bursar.toml.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Re-process a range of this topic instead of a file.
    #[arg(long)]
    pub topic: Option<String>,
    /// Start of the topic range: `earliest` or an RFC 3339 time.
    #[arg(long, default_value = "earliest")]
    pub from: String,
    /// End of the topic range (exclusive), RFC 3339; default: the end at start.
    #[arg(long)]
    pub until: Option<String>,
    /// With --topic: produce findings to this (existing) topic.
    #[arg(long)]
    pub findings_topic: Option<String>,
    /// With --topic: produce window records to this (existing) topic.
    #[arg(long)]
    pub windows_topic: Option<String>,
    /// With --topic: produce balance records to this (existing) topic.
    #[arg(long)]
    pub balances_topic: Option<String>,
    /// With --topic: produce rejected records to this (existing) topic.
    #[arg(long)]
    pub rejected_topic: Option<String>,
    /// Allow writing into the live output topics.
    #[arg(long)]
    pub force_live: bool,
}

pub fn run(a: ReplayArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(a.config.as_deref())?;
    if a.topic.is_some() {
        return super::kafka::replay_topic(a, config);
    }
    let Some(input) = a.input.as_ref() else { bail!("replay needs --input FILE (or - for stdin), or --topic TOPIC") };
    if a.partitions < 1 {
        bail!("--partitions must be at least 1, got {}", a.partitions);
    }
    let threads = match a.threads {
        Some(0) => bail!("--threads must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()).max(2),
    };
    let mut engine = Engine::new(config.engine()?);
    if let Some(path) = &a.entitlements {
        let text = std::fs::read(path).with_context(|| format!("cannot read entitlements {}", path.display()))?;
        let load = load_entitlement_file(&mut engine, &text, threads);
        for (line, reason) in load.skipped {
            warn(&format!("{}:{line}: entitlement skipped: {reason}", path.display()));
        }
        for (line, key) in load.unknown {
            warn(&format!("{}:{line}: unknown entitlement key `{}` is ignored (nearest known key: `{}`)", path.display(), key.path, key.nearest));
        }
    }
    // Inputs are opened before outputs, so a missing input truncates no output file.
    let (reader, total): (Box<dyn BufRead + Send>, Option<u64>) = if input.as_os_str() == "-" {
        (Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())), None)
    } else {
        let file = std::fs::File::open(input).with_context(|| format!("cannot read input {}", input.display()))?;
        let len = file.metadata().ok().map(|m| m.len());
        (open_input(file), len)
    };
    let mut sinks = sinks(&a)?;
    let bar = progress_bar(total);
    let how = FileReplay { partitions: a.partitions, threads };
    let summary = replay_file(engine, how, reader, &mut sinks, |bytes| {
        if let Some(b) = &bar {
            b.set_position(bytes);
        }
    })?;
    sinks.finish()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let stats = &summary.stats;
    eprintln!(
        "bursar: {} records: {} findings, {} windows, {} balances, {} rejected, {} duplicates, {} late",
        summary.records,
        summary.count(Stream::Findings),
        summary.count(Stream::Windows),
        summary.count(Stream::Balances),
        summary.count(Stream::Rejected),
        stats.duplicates,
        stats.late_events
    );
    Ok(ExitCode::SUCCESS)
}

/// The four output flags as sinks; findings to stdout when none is named.
fn sinks(a: &ReplayArgs) -> anyhow::Result<bursar::sink::Sinks> {
    let none_named = a.findings.is_none() && a.windows.is_none() && a.balances.is_none() && a.rejected.is_none();
    let stdout = none_named.then(|| PathBuf::from("-"));
    let findings = if none_named { &stdout } else { &a.findings };
    super::file_sinks([findings, &a.windows, &a.balances, &a.rejected], a.format)
}

/// A byte-based progress bar with ETA on stderr, for large files on a terminal.
fn progress_bar(total: Option<u64>) -> Option<ProgressBar> {
    let total = total?;
    if total < (8 << 20) || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(ProgressStyle::with_template("{spinner} replay [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}").ok()?.progress_chars("=> "));
    Some(bar)
}

/// A warning on stderr (the file modes log nothing else).
fn warn(msg: &str) {
    eprintln!("bursar: warning: {msg}");
}
