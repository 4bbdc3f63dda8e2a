//! Kafka commands: `run`, `check`, `topics create`, `replay --topic`,
//! `gen --topic`, and the topic range `explain --topic` shares. Exit codes
//! of `run`, `check` and `topics create`: docs/operations.md "Exit codes".

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use bursar::config::Config;
use bursar::gen::{entitlements_iter, usage, GenSpec};
use bursar::model::time::parse_rfc3339_any;
use bursar::runtime::kafka::{self, ReplayFrom, ReplayTopicArgs};
use bursar::sink::{Sink, Stream};
use bursar::telemetry::{bind, init_logging, serve_on, Metrics, Readiness};
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// bursar.toml (README.md "Configuration"); `kafka."bootstrap.servers"` is required.
    #[arg(long)]
    pub config: PathBuf,
    /// Start usage partitions that have committed offsets but no state in the
    /// changelog anyway, with empty state: their credentials' windows,
    /// balances, banked credit, duplicate memory and idle timers are thrown
    /// away (docs/operations.md "Lost state").
    #[arg(long)]
    pub reset_state: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// bursar.toml (README.md "Configuration"); `kafka."bootstrap.servers"` is required.
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum TopicsCommand {
    /// Create every topic with its partitions and cleanup policy; check those that exist.
    Create {
        /// bursar.toml: topic names, `topics.partitions`, `topics.replication_factor`, `[kafka]`.
        #[arg(long)]
        config: PathBuf,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?)
}

/// Prints a Kafka command's error and returns its documented exit code.
fn failed(e: kafka::KafkaError) -> ExitCode {
    let code = e.exit_code();
    eprintln!("bursar: {}", crate::message(&anyhow::Error::new(e)));
    ExitCode::from(code)
}

/// The live processor: SIGTERM/SIGINT finish the batch, flush and commit.
pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&a.config)?;
    config.kafka_client()?;
    let runtime_config = config.runtime()?;
    init_logging(runtime_config.log_format);
    let addr = runtime_config.metrics_addr;
    let rt = runtime()?;
    // Bound first: an address in use stops the program before it reads anything.
    let listener = rt.block_on(bind(addr))?;
    let shutdown = Arc::new(AtomicBool::new(false));
    let metrics = Arc::new(Metrics::new());
    let ready = Arc::new(Readiness::default());
    {
        let shutdown = shutdown.clone();
        rt.spawn(async move {
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term => {},
            }
            tracing::info!("Shutdown requested: finishing the batch.");
            shutdown.store(true, Ordering::SeqCst);
        });
    }
    let (m, r) = (metrics.clone(), ready.clone());
    rt.spawn(async move {
        if let Err(e) = serve_on(listener, m, r).await {
            tracing::error!(error = %e, "Metrics server stopped.");
        }
    });
    let options = kafka::RunOptions { reset_state: a.reset_state, ready };
    match kafka::run_with(config, options, shutdown, metrics) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            tracing::error!(error = %e, retryable = e.retryable(), exit_code = e.exit_code(), "Processor stopped.");
            Ok(failed(e))
        }
    }
}

/// `bursar check`: the configuration with secrets masked, then the
/// pre-flight check of `run` (docs/operations.md "Pre-flight check").
pub fn check(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&a.config)?;
    config.kafka_client()?;
    println!("# Effective configuration of {} (secrets masked)", a.config.display());
    println!("{}", bursar::config::masked_toml(&config)?);
    let report = match kafka::preflight(&config, false) {
        Ok(r) => r,
        Err(e) => return Ok(failed(e)),
    };
    println!("# Broker {} reached", config.bootstrap_servers()?);
    for t in &report.topics {
        println!("ok      {t}");
    }
    for w in &report.warnings {
        println!("warning {w}");
    }
    for p in &report.problems {
        println!("problem {p}");
    }
    if report.problems.is_empty() {
        println!("# Pre-flight check passed");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("bursar: the pre-flight check found {} problem(s), each shown above with its fix; `run` would refuse to start", report.problems.len());
    Ok(ExitCode::from(kafka::exit::PREFLIGHT))
}

pub fn topics(c: TopicsCommand) -> anyhow::Result<ExitCode> {
    let TopicsCommand::Create { config } = c;
    let config = Config::load(&config)?;
    let outcome = match runtime()?.block_on(kafka::create_topics(&config)) {
        Ok(o) => o,
        Err(e) => return Ok(failed(e)),
    };
    let mut mismatched = Vec::new();
    for o in outcome {
        match o {
            kafka::TopicOutcome::Created(t) => println!("created {t}"),
            kafka::TopicOutcome::Existed(t) => println!("exists  {t}"),
            kafka::TopicOutcome::KeepsLess { topic, warning } => {
                println!("exists  {topic}");
                eprintln!("bursar: warning: topic {topic} {warning}");
            }
            kafka::TopicOutcome::Mismatch { topic, problem } => {
                println!("differs {topic}");
                eprintln!("bursar: topic {topic} exists but {problem}");
                mismatched.push(topic);
            }
        }
    }
    if !mismatched.is_empty() {
        eprintln!("bursar: {} existing topic(s) differ from what bursar needs: {} (fix each as shown above)", mismatched.len(), mismatched.join(", "));
        return Ok(ExitCode::from(kafka::exit::PREFLIGHT));
    }
    Ok(ExitCode::SUCCESS)
}

fn time_arg(name: &str, s: &str) -> anyhow::Result<i64> {
    parse_rfc3339_any(s).with_context(|| format!("--{name} must be `earliest` or an RFC 3339 time, got {s:?}"))
}

/// The `--from` and `--until` of a topic range (`replay --topic`, `explain --topic`).
pub fn topic_range(from: &str, until: Option<&str>) -> anyhow::Result<(ReplayFrom, Option<i64>)> {
    let start = if from == "earliest" { ReplayFrom::Earliest } else { ReplayFrom::Time(time_arg("from", from)?) };
    let end = until.map(|u| time_arg("until", u)).transpose()?;
    if let (ReplayFrom::Time(start), Some(end)) = (start, end) {
        if start >= end {
            anyhow::bail!("--from must be before --until (the range is [from, until)), got {from} and {}", until.unwrap_or_default());
        }
    }
    Ok((start, end))
}

/// `replay --topic`: fresh state over a range of the topic.
pub fn replay_topic(a: super::replay::ReplayArgs, config: Config) -> anyhow::Result<ExitCode> {
    let topic = a.topic.clone().unwrap_or_default();
    let (from, until) = topic_range(&a.from, a.until.as_deref())?;
    let mut topics = std::collections::BTreeMap::new();
    let mut files: Vec<(Stream, Box<dyn Sink>)> = Vec::new();
    let named = [(Stream::Findings, &a.findings_topic, &a.findings), (Stream::Windows, &a.windows_topic, &a.windows), (Stream::Balances, &a.balances_topic, &a.balances), (Stream::Rejected, &a.rejected_topic, &a.rejected)];
    for (stream, topic, file) in named {
        if let Some(t) = topic {
            topics.insert(stream, t.clone());
        }
        if let Some(p) = file {
            files.push((stream, super::file_sink(stream, p, a.format)?));
        }
    }
    if topics.is_empty() && files.is_empty() {
        anyhow::bail!("replay --topic needs an output: --findings-topic T (or --windows-topic, ...) or --findings FILE (or --windows FILE, ...)");
    }
    let args = ReplayTopicArgs { topic, from, until, topics, files, force_live: a.force_live, progress: std::io::IsTerminal::is_terminal(&std::io::stderr()) };
    let s = kafka::replay_topic(&config, args)?;
    eprintln!("bursar: replayed {} records, {} outputs", s.records, s.outputs);
    Ok(ExitCode::SUCCESS)
}

/// `gen --topic`: the workload to Kafka (entitlements to `topics.entitlements` first).
pub fn gen_to_topic(config: &Config, topic: &str, spec: &GenSpec) -> anyhow::Result<ExitCode> {
    let ents = kafka::produce_entitlements(config, &config.topics.entitlements, entitlements_iter(spec))?;
    let n = kafka::produce_lines(config, topic, usage(spec))?;
    eprintln!("bursar: produced {ents} entitlement records to {} and {n} usage records to {topic}", config.topics.entitlements);
    Ok(ExitCode::SUCCESS)
}
