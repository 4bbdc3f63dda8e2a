//! `bursar replay --topic`: re-process a range of the usage topic with fresh
//! state (README.md "Running on Kafka"). The range is chosen by record
//! timestamp (Kafka's offsets-for-times), like Kafka Streams' reset tool;
//! every partition is read in offset order, then the input ends (open
//! windows close, final balances). Outputs go to one [`Sinks`]: topics and
//! files alike.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::Message;

use super::entitlements::EntitlementFollower;
use super::error::{KafkaError, RunError, SetupError};
use super::metadata::{offsets_at, partitions_of};
use super::producer::OutputProducer;
use super::outage::probe_broker;
use super::reader::{PartitionReader, PastEnd};
use super::topic_sink::TopicSink;
use super::headers_of;
use crate::config::{Config, KafkaConfig};
use crate::engine::output::Output;
use crate::engine::Engine;
use crate::pipeline::{process_record, InputRecord};
use crate::sink::{Sink, SinkError, Sinks, Stream};
use crate::telemetry::Metrics;

/// Longest wait for the next record of a partition before the replay fails
/// (an open transaction holds a read_committed reader back until it ends).
const STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the range starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFrom {
    Earliest,
    /// Epoch ms of record timestamps.
    Time(i64),
}

pub struct ReplayTopicArgs {
    pub topic: String,
    pub from: ReplayFrom,
    /// Exclusive end (record timestamp, epoch ms); None: the end at start.
    pub until: Option<i64>,
    /// Output topics per stream (each must exist; never a live one unless forced).
    pub topics: BTreeMap<Stream, String>,
    /// Output files (or any other sinks) per stream, beside the topics.
    pub files: Vec<(Stream, Box<dyn Sink>)>,
    /// Allow writing into the live output topics.
    pub force_live: bool,
    pub progress: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TopicReplaySummary {
    pub records: u64,
    pub outputs: u64,
}

/// Refuses a live output topic unless forced, and a missing one: checked
/// before anything is read (a record sent to a missing topic would fail only
/// after the whole range has been processed).
fn check_output_topics(reader: &PartitionReader, config: &Config, args: &ReplayTopicArgs) -> Result<(), SetupError> {
    let t = &config.topics;
    let live = [&t.usage, &t.entitlements, &t.findings, &t.windows, &t.balances, &t.rejected, &t.changelog];
    for name in args.topics.values() {
        if live.contains(&name) && !args.force_live {
            return Err(SetupError::LiveTopic(name.clone()));
        }
        partitions_of(reader.consumer(), name).map_err(|e| match e {
            SetupError::MissingTopic(name) => SetupError::MissingOutputTopic(name),
            other => other,
        })?;
    }
    Ok(())
}

/// The replay's outputs as one `Sinks`: each stream's topic and file.
fn sinks(kafka: &KafkaConfig, args: &mut ReplayTopicArgs) -> Result<Sinks, SetupError> {
    let producer = if args.topics.is_empty() { None } else { Some(Arc::new(OutputProducer::create(&kafka.workload_producer())?)) };
    let mut sinks = Sinks::new();
    if let Some(p) = &producer {
        for (stream, topic) in &args.topics {
            sinks.add(*stream, Box::new(TopicSink::new(p.clone(), topic.as_str(), args.topic.as_str())));
        }
    }
    for (stream, file) in args.files.drain(..) {
        sinks.add(stream, file);
    }
    Ok(sinks)
}

/// The `[start, end)` offsets of each partition of `topic` for the range
/// `[from, until)` of record timestamps (`until` None: the end at start).
pub(crate) fn ranges(reader: &PartitionReader, topic: &str, from: ReplayFrom, until: Option<i64>) -> Result<BTreeMap<i32, (i64, i64)>, KafkaError> {
    let partitions = reader.partitions()?;
    let starts = match from {
        ReplayFrom::Earliest => None,
        ReplayFrom::Time(ms) => Some(offsets_at(reader.consumer(), topic, &partitions, ms)?),
    };
    let ends = until.map(|ms| offsets_at(reader.consumer(), topic, &partitions, ms)).transpose()?;
    let mut ranges = BTreeMap::new();
    for (p, (low, high)) in reader.watermarks(&partitions)? {
        let start = starts.as_ref().map_or(low, |s| s.get(&p).copied().flatten().unwrap_or(high));
        let end = ends.as_ref().map_or(high, |e| e.get(&p).copied().flatten().unwrap_or(high));
        ranges.insert(p, (start.max(low), end.min(high)));
    }
    Ok(ranges)
}

/// The reader of a replayed usage topic (`replay --topic`, `explain
/// --topic`), after a probe of the broker: an unreachable one is named within
/// seconds, as `gen --topic` names it, not after a client's request timeout.
pub(crate) fn usage_reader(kafka: &KafkaConfig, topic: &str) -> Result<PartitionReader, SetupError> {
    probe_broker(kafka)?;
    PartitionReader::new(kafka, true, topic, "the replayed topic", STALL_TIMEOUT)
}

/// A fresh `engine`'s entitlements from the config's entitlements topic: all
/// of it, before any usage is replayed.
pub(crate) fn catch_up_entitlements(config: &Config, kafka: &KafkaConfig, engine: &mut Engine) -> Result<(), KafkaError> {
    EntitlementFollower::new(kafka, &config.topics.entitlements, true, Arc::new(Metrics::new()))?.catch_up(engine)
}

/// Reads `ranges` partition after partition, each in offset order, handing
/// `f` every record with its real partition, offset, key, value, headers and
/// timestamp, until `f` breaks. Returns the records handed on.
pub(crate) fn read_records(reader: &PartitionReader, ranges: &BTreeMap<i32, (i64, i64)>, mut f: impl FnMut(&InputRecord<'_>) -> Result<ControlFlow<()>, KafkaError>) -> Result<(u64, ControlFlow<()>), KafkaError> {
    let mut records = 0;
    for (&p, &(start, end)) in ranges.iter().filter(|(_, (s, e))| s < e) {
        reader.assign([(p, start)])?;
        let mut flow = ControlFlow::Continue(());
        records += reader.read_until(&BTreeMap::from([(p, (start, end))]), PastEnd::Skip, |m| {
            let headers = headers_of(m);
            let record = InputRecord { partition: p, offset: m.offset(), line: None, key: m.key(), value: m.payload(), headers: &headers, timestamp: m.timestamp().to_millis() };
            flow = f(&record)?;
            Ok(flow)
        })?;
        if flow.is_break() {
            return Ok((records, flow));
        }
    }
    Ok((records, ControlFlow::Continue(())))
}

fn progress_bar(total: u64) -> ProgressBar {
    let b = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{spinner} replay [{bar:40}] {pos}/{len} records {per_sec} ETA {eta}") {
        b.set_style(style.progress_chars("=> "));
    }
    b
}

/// Replays `args.topic` into the named sinks; never into a live topic unless forced.
pub fn replay_topic(config: &Config, mut args: ReplayTopicArgs) -> Result<TopicReplaySummary, KafkaError> {
    let kafka = config.kafka_client()?;
    let reader = usage_reader(&kafka, &args.topic)?;
    check_output_topics(&reader, config, &args)?;
    let mut engine = Engine::new(config.engine()?);
    catch_up_entitlements(config, &kafka, &mut engine)?;
    let ranges = ranges(&reader, &args.topic, args.from, args.until)?;
    let total: u64 = ranges.values().map(|(s, e)| (e - s).max(0) as u64).sum();
    let bar = args.progress.then(|| progress_bar(total));
    let mut sinks = sinks(&kafka, &mut args)?;
    let mut summary = TopicReplaySummary::default();
    let mut out = Vec::new();
    let emit = |out: &mut Vec<Output>, sinks: &mut Sinks, summary: &mut TopicReplaySummary| -> Result<(), KafkaError> {
        for o in out.drain(..) {
            sinks.write(&o)?;
            summary.outputs += 1;
        }
        Ok(())
    };
    let (records, _) = read_records(&reader, &ranges, |record| {
        process_record(&mut engine, record, &mut out);
        emit(&mut out, &mut sinks, &mut summary)?;
        if let Some(b) = &bar {
            b.inc(1);
        }
        Ok(ControlFlow::Continue(()))
    })?;
    summary.records = records;
    engine.finish(&mut out);
    emit(&mut out, &mut sinks, &mut summary)?;
    // Replay commits no offsets: its undelivered outputs are worded for it.
    sinks.flush().map_err(|e| match e {
        e @ SinkError::Undelivered { .. } => KafkaError::Run(RunError::ReplayUndelivered { detail: e.to_string() }),
        other => other.into(),
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}
