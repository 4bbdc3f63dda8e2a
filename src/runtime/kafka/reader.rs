//! The one partition reader: a consumer that assigns partitions itself and
//! reads each to a given end offset, past transaction markers and aborted
//! records (never delivered to a read_committed reader, but they move its
//! position). The changelog restore, the entitlements table,
//! `replay --topic` and `explain --topic` all read through it (README.md
//! "Running on Kafka").

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::error::{KafkaError, RunError, SetupError};
use super::metadata::{partitions_of, positions, watermarks};
use super::outage::transient_code;
use super::quiet::Quiet;
use crate::config::KafkaConfig;

/// What becomes of a record delivered at or past its partition's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PastEnd {
    /// Handed on like the others (a table that keeps following its topic).
    Deliver,
    /// Dropped: the read covers exactly [start, end).
    Skip,
}

/// A reader of one topic's partitions.
pub(crate) struct PartitionReader {
    consumer: BaseConsumer<Quiet>,
    topic: String,
    /// Names the topic's role in errors ("the changelog", ...).
    what: &'static str,
    /// Longest wait without progress (a record, or a position that moved).
    stall: Duration,
}

impl PartitionReader {
    /// A reader of `topic`; `read_committed` hides aborted transactions' records.
    pub fn new(kafka: &KafkaConfig, read_committed: bool, topic: &str, what: &'static str, stall: Duration) -> Result<PartitionReader, SetupError> {
        let consumer = kafka.reader(read_committed).create_with_context(Quiet).map_err(SetupError::client(format!("creating the reader of {what}")))?;
        Ok(PartitionReader { consumer, topic: topic.to_string(), what, stall })
    }

    pub fn consumer(&self) -> &BaseConsumer<Quiet> {
        &self.consumer
    }

    /// The topic's partitions (a clear error when it does not exist).
    pub fn partitions(&self) -> Result<Vec<i32>, SetupError> {
        partitions_of(&self.consumer, &self.topic)
    }

    /// First and end offsets of `partitions` (the end is the last stable
    /// offset for a read_committed reader).
    pub fn watermarks(&self, partitions: &[i32]) -> Result<BTreeMap<i32, (i64, i64)>, RunError> {
        watermarks(&self.consumer, &self.topic, partitions)
    }

    /// Assigns exactly `starts` (partition to first offset), replacing any assignment.
    pub fn assign(&self, starts: impl IntoIterator<Item = (i32, i64)>) -> Result<(), RunError> {
        let mut tpl = TopicPartitionList::new();
        for (p, offset) in starts {
            tpl.add_partition_offset(&self.topic, p, Offset::Offset(offset)).map_err(RunError::client(format!("assigning {}", self.what)))?;
        }
        self.consumer.assign(&tpl).map_err(RunError::client(format!("assigning {}", self.what)))
    }

    /// Drops the assignment (no fetching in the background).
    pub fn release(&self) -> Result<(), RunError> {
        self.consumer.unassign().map_err(RunError::client(format!("releasing {}", self.what)))
    }

    /// Reads the assigned partitions until each partition of `ranges`
    /// (partition to `[start, end)`) reached its end, handing each record to
    /// `f` (records at or past their end as `past_end` says). A partition
    /// ends when a record at `end - 1` arrives or its position reaches `end`
    /// (markers and aborted records move it). Returns the records handed on.
    pub fn read_to_end(&self, ranges: &BTreeMap<i32, (i64, i64)>, past_end: PastEnd, mut f: impl FnMut(&BorrowedMessage<'_>) -> Result<(), KafkaError>) -> Result<u64, KafkaError> {
        self.read_until(ranges, past_end, |m| f(m).map(ControlFlow::Continue))
    }

    /// [`PartitionReader::read_to_end`] that stops at the first record for
    /// which `f` breaks (`explain` stops at the record it looks for).
    pub fn read_until(&self, ranges: &BTreeMap<i32, (i64, i64)>, past_end: PastEnd, mut f: impl FnMut(&BorrowedMessage<'_>) -> Result<ControlFlow<()>, KafkaError>) -> Result<u64, KafkaError> {
        let mut next: BTreeMap<i32, i64> = ranges.iter().filter(|(_, (s, e))| s < e).map(|(p, (s, _))| (*p, *s)).collect();
        let end = |p: &i32| ranges.get(p).map_or(i64::MIN, |r| r.1);
        let mut handed = 0u64;
        let mut progress = Instant::now();
        loop {
            next.retain(|p, n| *n < end(p));
            if next.is_empty() {
                return Ok(handed);
            }
            let Some(m) = self.consumer.poll(Duration::from_millis(100)) else {
                for (p, position) in positions(&self.consumer) {
                    if let Some(n) = next.get_mut(&p).filter(|n| position > **n) {
                        *n = position;
                        progress = Instant::now();
                    }
                }
                if progress.elapsed() > self.stall {
                    let at = next.iter().map(|(p, n)| format!("partition {p} offset {n} of {}", end(p))).collect::<Vec<_>>().join(", ");
                    return Err(RunError::Stalled { what: self.what.to_string(), topic: self.topic.clone(), at, stalled_secs: self.stall.as_secs() }.into());
                }
                continue;
            };
            let m = match m {
                Ok(m) => m,
                // Informational (librdkafka reconnects on its own): the stall bounds the wait.
                Err(e) if self.informational(&e) => continue,
                Err(e) => return Err(RunError::client(format!("reading {}", self.what))(e).into()),
            };
            progress = Instant::now();
            let p = m.partition();
            if past_end == PastEnd::Deliver || m.offset() < end(&p) && ranges.contains_key(&p) {
                handed += 1;
                if f(&m)?.is_break() {
                    return Ok(handed);
                }
            }
            if let Some(n) = next.get_mut(&p) {
                *n = (*n).max(m.offset() + 1);
            }
        }
    }

    /// Hands on whatever records have arrived, without waiting; informational
    /// errors (a broker down, a timeout: librdkafka reconnects on its own) go
    /// to `on_error`. Returns the records handed on.
    pub fn poll_now(&self, mut f: impl FnMut(&BorrowedMessage<'_>), mut on_error: impl FnMut(&RdKafkaError)) -> Result<u64, RunError> {
        let mut handed = 0;
        while let Some(m) = self.consumer.poll(Duration::ZERO) {
            match m {
                Ok(m) => {
                    f(&m);
                    handed += 1;
                }
                Err(e) if self.informational(&e) => on_error(&e),
                Err(e) => return Err(RunError::client(format!("reading {}", self.what))(e)),
            }
        }
        Ok(handed)
    }

    /// True for an error of a broker outage while the client itself is
    /// sound (it was not fenced or failed fatally).
    fn informational(&self, e: &RdKafkaError) -> bool {
        transient_code(e.rdkafka_error_code()) && self.consumer.client().fatal_error().is_none()
    }
}
