//! `bursar replay --topic`: re-process a range of the usage topic with fresh
//! state (SPEC §5–§6). The range is chosen by record timestamp (Kafka's
//! offsets-for-times), like Kafka Streams' reset tool; every partition is read
//! in offset order, then the input ends (open windows close, final balances).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::entitlements::{partitions_of, EntitlementFollower};
use super::output::{flush, send_output, Delivery, OutputProducer, OutputTopics};
use super::{headers_of, positions, watermarks, KafkaError};
use crate::config::Config;
use crate::engine::output::Output;
use crate::engine::Engine;
use crate::pipeline::{process_record, InputRecord};
use crate::sink::Sinks;

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
    /// Output topics (None: not written to a topic).
    pub findings_topic: Option<String>,
    pub windows_topic: Option<String>,
    pub balances_topic: Option<String>,
    pub rejected_topic: Option<String>,
    /// Output files (or other sinks), beside the topics.
    pub files: Sinks,
    /// Allow writing into the live output topics.
    pub force_live: bool,
    pub progress: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    pub records: u64,
    pub outputs: u64,
}

fn offsets_at(consumer: &BaseConsumer, topic: &str, partitions: &[i32], at: i64) -> Result<BTreeMap<i32, Option<i64>>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for &p in partitions {
        tpl.add_partition_offset(topic, p, Offset::Offset(at)).map_err(KafkaError::client("building a time query"))?;
    }
    let found = consumer.offsets_for_times(tpl, Duration::from_secs(30)).map_err(KafkaError::client("looking up offsets for times"))?;
    Ok(found.elements().iter().map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { Some(o) } else { None })).collect())
}

/// Refuses a live output topic unless forced, and a missing one: checked
/// before anything is read (a record sent to a missing topic would fail only
/// after the whole range has been processed).
fn check_output_topics(consumer: &BaseConsumer, config: &Config, args: &ReplayTopicArgs) -> Result<(), KafkaError> {
    let t = &config.topics;
    let live = [&t.usage, &t.entitlements, &t.findings, &t.windows, &t.balances, &t.rejected, &t.changelog];
    let outputs = [&args.findings_topic, &args.windows_topic, &args.balances_topic, &args.rejected_topic];
    for name in outputs.into_iter().flatten() {
        if live.contains(&name) && !args.force_live {
            return Err(KafkaError::LiveTopic(name.clone()));
        }
        partitions_of(consumer, name).map_err(|e| match e {
            KafkaError::MissingTopic(name) => KafkaError::MissingOutputTopic(name),
            other => other,
        })?;
    }
    Ok(())
}

/// Replays `args.topic` into the named sinks; never into a live topic unless forced.
pub fn replay_topic(config: &Config, mut args: ReplayTopicArgs) -> Result<ReplaySummary, KafkaError> {
    let kafka = config.kafka_client()?;
    let consumer: BaseConsumer = kafka.reader(true).create().map_err(KafkaError::client("creating the replay consumer"))?;
    check_output_topics(&consumer, config, &args)?;
    let partitions = partitions_of(&consumer, &args.topic)?;
    let mut engine = Engine::new(config.engine()?);
    EntitlementFollower::new(config, true)?.catch_up(&mut engine)?;
    let mut ranges = BTreeMap::new();
    let starts = match args.from {
        ReplayFrom::Earliest => None,
        ReplayFrom::Time(ms) => Some(offsets_at(&consumer, &args.topic, &partitions, ms)?),
    };
    let ends = args.until.map(|ms| offsets_at(&consumer, &args.topic, &partitions, ms)).transpose()?;
    for (p, (low, high)) in watermarks(&consumer, &args.topic, &partitions)? {
        let start = starts.as_ref().map_or(low, |s| s.get(&p).copied().flatten().unwrap_or(high));
        let end = ends.as_ref().map_or(high, |e| e.get(&p).copied().flatten().unwrap_or(high));
        ranges.insert(p, (start.max(low), end.min(high)));
    }
    let total: u64 = ranges.values().map(|(s, e)| (e - s).max(0) as u64).sum();
    let bar = args.progress.then(|| {
        let b = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template("{spinner} replay [{bar:40}] {pos}/{len} records {per_sec} ETA {eta}") {
            b.set_style(style.progress_chars("=> "));
        }
        b
    });
    let topics = OutputTopics {
        findings: args.findings_topic.clone(),
        windows: args.windows_topic.clone(),
        balances: args.balances_topic.clone(),
        rejected: args.rejected_topic.clone(),
        source: args.topic.clone(),
    };
    let delivery = Delivery::default();
    let producer: OutputProducer = kafka
        .workload_producer()
        .create_with_context(delivery.clone())
        .map_err(KafkaError::client("creating the producer"))?;
    let mut summary = ReplaySummary::default();
    let mut out = Vec::new();
    let emit = |out: &mut Vec<Output>, files: &mut Sinks, summary: &mut ReplaySummary| -> Result<(), KafkaError> {
        for o in out.drain(..) {
            send_output(&producer, &topics, &o)?;
            files.write(&o)?;
            summary.outputs += 1;
        }
        Ok(())
    };
    for (&p, &(start, end)) in &ranges {
        if start >= end {
            continue;
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&args.topic, p, Offset::Offset(start)).map_err(KafkaError::client("assigning"))?;
        consumer.assign(&tpl).map_err(KafkaError::client("assigning"))?;
        let mut next = start;
        let mut progress = Instant::now();
        while next < end {
            let Some(m) = consumer.poll(Duration::from_millis(200)) else {
                // Transaction markers and aborted records are never delivered but move the position.
                let position = positions(&consumer).get(&p).copied().unwrap_or(next);
                if position > next {
                    next = position;
                    progress = Instant::now();
                } else if progress.elapsed() > STALL_TIMEOUT {
                    return Err(KafkaError::Other(format!("partition {p} of {} stopped at offset {next} before {end}", args.topic)));
                }
                continue;
            };
            progress = Instant::now();
            let m = m.map_err(KafkaError::client("reading the topic"))?;
            if m.offset() >= end {
                break;
            }
            next = m.offset() + 1;
            let headers = headers_of(&m);
            let record = InputRecord { partition: p, offset: m.offset(), line: None, key: m.key(), value: m.payload(), headers: &headers };
            process_record(&mut engine, &record, &mut out);
            emit(&mut out, &mut args.files, &mut summary)?;
            summary.records += 1;
            if let Some(b) = &bar {
                b.inc(1);
            }
        }
    }
    engine.finish(&mut out);
    emit(&mut out, &mut args.files, &mut summary)?;
    // Replay commits no offsets: its undelivered outputs are worded for it.
    flush(&producer, &delivery).map_err(|e| match e {
        KafkaError::Undelivered { count, reason } => KafkaError::ReplayUndelivered { count, reason },
        other => other,
    })?;
    args.files.flush()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}
