//! Where `report` and `inspect` read bursar's outputs from: JSON Lines files
//! (streamed, never loaded whole), or topics read from their start to their
//! end at the time of reading (docs/report.md, "Sources").

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::ReportError;
use crate::config::Config;

/// Bytes read from a file at a time.
const CHUNK: usize = 8 << 20;
/// Longest wait for a topic read to move before it fails.
const STALL: Duration = Duration::from_secs(30);

/// One kind of record `report` and `inspect` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Entitlements,
    Findings,
    Windows,
    Balances,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Entitlements, Kind::Findings, Kind::Windows, Kind::Balances];

    /// The flag that names its file (`--findings`, ...).
    pub fn flag(self) -> &'static str {
        match self {
            Kind::Entitlements => "entitlements",
            Kind::Findings => "findings",
            Kind::Windows => "windows",
            Kind::Balances => "balances",
        }
    }
}

/// Files or topics.
pub enum Source {
    /// JSON Lines files by kind (any may be absent).
    Files { entitlements: Option<PathBuf>, findings: Option<PathBuf>, windows: Option<PathBuf>, balances: Option<PathBuf> },
    /// The topics of a bursar.toml (entitlements, findings, windows, balances).
    Topics(Box<Config>),
}

/// What [`Source::each`] hands each record to: its key and value.
pub type OnRecord<'a> = dyn FnMut(Option<&[u8]>, Option<&[u8]>) + 'a;

impl Source {
    /// Hands every record of `kind` to `f` as (record key, value): a file line
    /// has no key; a topic record with a null value (a tombstone) has no value.
    /// With `key`, only records that may belong to that credential: a file
    /// line that contains `needle` (the caller checks the record itself), a
    /// topic record keyed by `key`.
    pub fn each(&self, kind: Kind, key: Option<(&[u8], &[u8])>, f: &mut OnRecord<'_>) -> Result<(), ReportError> {
        match self {
            Source::Files { entitlements, findings, windows, balances } => {
                let path = match kind {
                    Kind::Entitlements => entitlements,
                    Kind::Findings => findings,
                    Kind::Windows => windows,
                    Kind::Balances => balances,
                };
                match path {
                    Some(p) => each_line(p, key.map(|k| k.1), &mut |line| f(None, Some(line))),
                    None => Ok(()),
                }
            }
            Source::Topics(config) => {
                let t = &config.topics;
                let topic = match kind {
                    Kind::Entitlements => &t.entitlements,
                    Kind::Findings => &t.findings,
                    Kind::Windows => &t.windows,
                    Kind::Balances => &t.balances,
                };
                each_record(config, topic, key.map(|k| k.0), f)
            }
        }
    }
}

/// Streams the lines of a file to `f`; with `needle`, only lines containing
/// it (found with a SIMD substring search, so a large file is scanned at
/// memory speed and only matching lines are parsed).
pub fn each_line(path: &Path, needle: Option<&[u8]>, f: &mut dyn FnMut(&[u8])) -> Result<(), ReportError> {
    let io = |source| ReportError::Read { path: path.to_path_buf(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let finder = needle.map(memchr::memmem::Finder::new);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    loop {
        let kept = buf.len();
        buf.resize(kept + CHUNK, 0);
        let n = file.read(&mut buf[kept..]).map_err(io)?;
        buf.truncate(kept + n);
        let end = if n == 0 { buf.len() } else { memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1) };
        let whole = &buf[..end];
        match &finder {
            Some(finder) => {
                let mut at = 0;
                while let Some(hit) = finder.find(&whole[at..]) {
                    let hit = at + hit;
                    let start = memchr::memrchr(b'\n', &whole[..hit]).map_or(0, |i| i + 1);
                    let stop = memchr::memchr(b'\n', &whole[hit..]).map_or(whole.len(), |i| hit + i);
                    f(&whole[start..stop]);
                    at = stop;
                }
            }
            None => whole.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).for_each(&mut *f),
        }
        buf.drain(..end);
        if n == 0 {
            return Ok(());
        }
    }
}

/// Reads `topic` from its start to its end (as of now) to `f`; with `key`,
/// only records with that key.
fn each_record(config: &Config, topic: &str, key: Option<&[u8]>, f: &mut OnRecord<'_>) -> Result<(), ReportError> {
    let kafka = |what: &str, e: rdkafka::error::KafkaError| ReportError::Kafka { topic: topic.to_string(), reason: format!("{what}: {e}") };
    let client = config.kafka_client().map_err(|e| ReportError::Config(e.to_string()))?;
    let consumer: BaseConsumer = client.reader(true).create().map_err(|e| kafka("creating a reader", e))?;
    let timeout = Duration::from_secs(10);
    let meta = consumer.fetch_metadata(Some(topic), timeout).map_err(|e| kafka("reading metadata", e))?;
    let partitions: Vec<i32> = meta.topics().iter().flat_map(|t| t.partitions().iter().map(|p| p.id())).collect();
    if partitions.is_empty() {
        return Err(ReportError::Kafka { topic: topic.to_string(), reason: "the topic does not exist (create it with `bursar topics create --config FILE`)".into() });
    }
    let mut tpl = TopicPartitionList::new();
    let mut ends = std::collections::BTreeMap::new();
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, timeout).map_err(|e| kafka("reading offsets", e))?;
        if low < high {
            ends.insert(p, high);
            tpl.add_partition_offset(topic, p, Offset::Offset(low)).map_err(|e| kafka("assigning", e))?;
        }
    }
    consumer.assign(&tpl).map_err(|e| kafka("assigning", e))?;
    let mut progress = Instant::now();
    while !ends.is_empty() {
        match consumer.poll(Duration::from_millis(100)) {
            Some(m) => {
                let m = m.map_err(|e| kafka("reading", e))?;
                progress = Instant::now();
                if ends.get(&m.partition()).is_some_and(|end| m.offset() < *end) && key.is_none_or(|k| m.key() == Some(k)) {
                    f(m.key(), m.payload());
                }
                if ends.get(&m.partition()).is_some_and(|end| m.offset() + 1 >= *end) {
                    ends.remove(&m.partition());
                }
            }
            None => {
                // Transaction markers end a partition without a record.
                if let Ok(pos) = consumer.position() {
                    for e in pos.elements_for_topic(topic) {
                        if let (Offset::Offset(o), Some(end)) = (e.offset(), ends.get(&e.partition())) {
                            if o >= *end {
                                ends.remove(&e.partition());
                                progress = Instant::now();
                            }
                        }
                    }
                }
                if progress.elapsed() > STALL {
                    return Err(ReportError::Kafka { topic: topic.to_string(), reason: format!("no progress for {}s", STALL.as_secs()) });
                }
            }
        }
    }
    Ok(())
}
