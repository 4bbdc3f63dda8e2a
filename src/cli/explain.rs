//! `bursar explain`: replays the input a finding came from, a file or a
//! topic, record by record through the same engine as `replay`, until the
//! record that produced the finding, and prints in words what it rests on:
//! the version in force, the credential's state before and after that
//! record, why the rule fired, what to do, and what the configured tuning
//! does with it (docs/semantics.md, "Why-facts and remediation"; README.md,
//! "Explaining a finding").

mod words;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use bursar::config::Config;
use bursar::decode::secrets::{is_raw_secret, redacted_id};
use bursar::engine::credential::CredState;
use bursar::engine::output::Output;
use bursar::engine::Engine;
use bursar::model::time::format_rfc3339 as time;
use bursar::model::UsageEvent;
use bursar::pipeline::{apply_record, decode_line, decode_record, open_input, Decoded, Lines};
use bursar::rules::Finding;
use bursar::runtime::kafka::{explain_topic, ReplayFrom, TopicRange, TopicRead};
use bursar::runtime::replay::load_entitlements;
use clap::{ArgGroup, Args};

#[derive(Args, Debug)]
#[command(
    group(ArgGroup::new("source").required(true).args(["input", "topic"])),
    after_help = "Examples (README.md, \"Explaining a finding\"):\n  \
    bursar explain --credential KEY --uid UID --input usage.jsonl --entitlements entitlements.jsonl --partitions 6 --config bursar.toml\n  \
    bursar explain --credential KEY --uid UID --topic --config bursar.toml --from 2026-11-01T00:00:00Z"
)]
pub struct ExplainArgs {
    /// The finding's credential (`unmapped.bursar.credential`; a raw secret is redacted first).
    #[arg(long)]
    pub credential: String,
    /// The finding's uid (`finding_info.uid`).
    #[arg(long)]
    pub uid: String,
    /// Usage events as JSON Lines: the input the finding came from.
    #[arg(long, conflicts_with = "topic")]
    pub input: Option<PathBuf>,
    /// With --input: entitlements as JSON Lines, as given to the run that
    /// produced the finding (with --topic they come from the config's
    /// entitlements topic).
    #[arg(long, conflicts_with = "topic")]
    pub entitlements: Option<PathBuf>,
    /// The bursar.toml of that run (rule settings and tuning; for --topic
    /// also the Kafka settings and the entitlements topic).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// With --input: partitions of that run (Kafka's default partitioner). A
    /// topic's records keep the partition they were produced to.
    #[arg(long, default_value_t = 1, conflicts_with = "topic")]
    pub partitions: i32,
    /// Replay a range of this topic instead of a file, as `replay --topic`
    /// does; without a name, the usage topic of --config (`[topics] usage`).
    #[arg(long, value_name = "TOPIC", num_args = 0..=1, requires = "config")]
    pub topic: Option<Option<String>>,
    /// With --topic: start of the range, `earliest` or an RFC 3339 time.
    #[arg(long, default_value = "earliest", requires = "topic")]
    pub from: String,
    /// With --topic: end of the range (exclusive), RFC 3339; default: the end at start.
    #[arg(long, requires = "topic")]
    pub until: Option<String>,
}

/// Where the replayed records come from.
pub(crate) enum Source {
    File(PathBuf),
    Topic(TopicRange),
}

/// Where a record sits: its partition and offset, and its line in a file.
#[derive(Debug, Clone, Copy)]
struct At {
    partition: i32,
    offset: i64,
    line: Option<u64>,
}

/// What the replay found: the finding, the record that produced it and the states around it.
pub(crate) struct Found {
    finding: Finding,
    at: At,
    /// The record's event, when it was the credential's own.
    event: Option<UsageEvent>,
    /// The record's event time and credential when another credential's record moved the watermark.
    other: Option<(String, i64)>,
    watermark: (Option<i64>, Option<i64>),
    before: Option<CredState>,
    after: Option<CredState>,
}

pub fn run(a: ExplainArgs) -> anyhow::Result<ExitCode> {
    let credential = if is_raw_secret(&a.credential) { redacted_id(&a.credential) } else { a.credential.clone() };
    let config = super::load_config(a.config.as_deref())?;
    let mut engine_config = config.engine()?;
    // Replay untuned, so a finding the tuning drops is still found; its fate is reported.
    let tuning = std::mem::take(&mut engine_config.tuning);
    let mut engine = Engine::new(engine_config.clone());
    let mut search = Search { uid: &a.uid, credential: &credential, out: Vec::new() };
    let (found, source) = match (&a.topic, &a.input) {
        (Some(name), _) => {
            let (from, until) = super::kafka::topic_range(&a.from, a.until.as_deref())?;
            let range = TopicRange { topic: name.clone().unwrap_or_else(|| config.topics.usage.clone()), from, until };
            (from_topic(&config, &mut engine, &mut search, &range)?, Source::Topic(range))
        }
        (None, Some(path)) => (from_file(&mut engine, &mut search, path, &a)?, Source::File(path.clone())),
        (None, None) => bail!("explain needs --input FILE or --topic [TOPIC]"),
    };
    print!("{}", words::report(&found, &source, &engine_config, &tuning, a.config.as_deref()));
    Ok(ExitCode::SUCCESS)
}

/// The file the finding came from, split into partitions as `replay --input` splits it.
fn from_file(engine: &mut Engine, search: &mut Search<'_>, path: &Path, a: &ExplainArgs) -> anyhow::Result<Found> {
    if a.partitions < 1 {
        bail!("--partitions must be at least 1 (the partitions of the run that produced the finding)");
    }
    if let Some(path) = &a.entitlements {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let skipped = load_entitlements(engine, &text);
        if !skipped.is_empty() {
            eprintln!("bursar: {} entitlement lines skipped (`bursar validate --kind entitlement` lists them).", skipped.len());
        }
    }
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let max = engine.config().max_value_bytes;
    let mut lines = Lines::new(open_input(file));
    let mut offsets = vec![0i64; a.partitions as usize];
    let mut buf = Vec::new();
    while let Some((line, text)) = lines.next(&mut buf).with_context(|| format!("cannot read {}", path.display()))? {
        let (partition, decoded) = decode_line(text, line, a.partitions, max);
        let offset = offsets[partition as usize];
        offsets[partition as usize] += 1;
        if let ControlFlow::Break(found) = search.step(engine, At { partition, offset, line: Some(line) }, decoded) {
            return found;
        }
    }
    bail!(
        "no finding {} of credential {} in {} with {} partition(s): give the --entitlements, --config and --partitions of the run that produced it",
        search.uid,
        search.credential,
        path.display(),
        a.partitions
    )
}

/// The topic range the finding came from, read as `replay --topic` reads it.
fn from_topic(config: &Config, engine: &mut Engine, search: &mut Search<'_>, range: &TopicRange) -> anyhow::Result<Found> {
    let (found, read) = explain_topic(config, engine, range, |engine, record| {
        let decoded = decode_record(record, engine.config());
        search.step(engine, At { partition: record.partition, offset: record.offset, line: None }, decoded)
    })?;
    match found {
        Some(found) => found,
        None => bail!(
            "no finding {} of credential {} in topic {} {}: give the --config of the run that produced it (its entitlements topic and rule settings) and a --from/--until range that holds the finding's record",
            search.uid,
            search.credential,
            range.topic,
            range_words(range, &read)
        ),
    }
}

/// The range read, in words: its times and each partition's offsets.
fn range_words(range: &TopicRange, read: &TopicRead) -> String {
    let from = match range.from {
        ReplayFrom::Earliest => "the earliest record".to_string(),
        ReplayFrom::Time(t) => time(t),
    };
    let until = range.until.map_or("the end".to_string(), time);
    let offsets: Vec<String> = read.ranges.iter().map(|(p, (s, e))| format!("partition {p} offsets {s} to {e}")).collect();
    format!("from {from} until {until} ({}; {} records read)", if offsets.is_empty() { "no partitions".to_string() } else { offsets.join(", ") }, read.records)
}

/// The search for one finding, fed the records of either source in the
/// order of the run that produced it.
struct Search<'a> {
    uid: &'a str,
    credential: &'a str,
    out: Vec<Output>,
}

impl Search<'_> {
    /// Applies one decoded record and breaks when its outputs hold the
    /// finding (with the states around it), or the finding of another credential.
    fn step(&mut self, engine: &mut Engine, at: At, decoded: Decoded) -> ControlFlow<anyhow::Result<Found>> {
        let credential = self.credential;
        let event = match &decoded {
            Decoded::Event(e) => Some(e.clone()),
            Decoded::Rejected(_) => None,
        };
        let own = event.as_ref().is_some_and(|e| *e.credential == *credential);
        let watched = own || engine.id_of(at.partition, credential).is_some();
        let before = if watched { state_of(engine, at.partition, credential) } else { None };
        let wm_before = engine.partition_state(at.partition).and_then(|p| p.meta.watermark);
        apply_record(engine, at.partition, at.offset, decoded, &mut self.out);
        let Some(finding) = self.out.drain(..).find_map(|o| match o {
            Output::Finding(f) if f.uid() == self.uid => Some(*f),
            _ => None,
        }) else {
            return ControlFlow::Continue(());
        };
        if finding.credential != credential {
            let c = &finding.credential;
            return ControlFlow::Break(Err(anyhow::anyhow!("finding {} is of credential {c}, not {credential}: run again with --credential {c}", self.uid)));
        }
        let wm_after = engine.partition_state(at.partition).and_then(|p| p.meta.watermark);
        let other = if own { None } else { event.as_ref().map(|e| (e.credential.to_string(), e.time)) };
        let after = state_of(engine, at.partition, credential);
        ControlFlow::Break(Ok(Found { finding, at, event: event.filter(|_| own), other, watermark: (wm_before, wm_after), before, after }))
    }
}

fn state_of(engine: &Engine, partition: i32, credential: &str) -> Option<CredState> {
    engine.partition_state(partition)?.credentials().find(|(c, _)| *c == credential).map(|(_, s)| s.clone())
}
