//! How a batch fills (README.md "Configuration", `batch_linger`;
//! docs/semantics.md "Live processing").
//!
//! A batch takes records until it holds `batch_size`, until its linger
//! passed, or until a rebalance. The linger counts from the previous batch's
//! close, not from this one's start: records that queued while the previous
//! batch was committed have waited already ([`linger_deadline`]).
//!
//! Under at_least_once the records go through the engine while the batch
//! fills, each time the consumer's queue runs dry or [`CHUNK`] records are
//! waiting, and their outputs are sent at once: consuming, processing and
//! producing overlap, and a finding does not wait for its batch to close.
//! The commit (outputs acknowledged, changelog, offsets) still comes at the
//! batch's end. Under exactly_once the outputs are visible only at commit,
//! so the records wait for the complete batch, as a transaction cannot take
//! back a revoked partition's outputs without aborting the rest.
//!
//! A revocation ends the batch: the revoked partitions' records are dropped
//! from it (their offsets are not committed, their state is dropped) and
//! their new owner resumes from the last commit with the changelog's state.
//! Under at_least_once the outputs of those already processed are sent
//! again by the new owner, byte-identical, as after a crash.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::message::OwnedMessage;
use rdkafka::Message;

use super::Processor;
use crate::runtime::kafka::error::KafkaError;

/// Records waiting before the engine takes them while a batch fills
/// (at_least_once): large enough to decode on two threads
/// (`pipeline::decode_records`), small enough that outputs flow.
const CHUNK: usize = 2048;

/// Longest single wait for a record (a shutdown waits for it).
const POLL_AT_MOST: Duration = Duration::from_millis(100);

/// Consumed records, each with the instant it was consumed (for the latency
/// metric), and how many of them went through the engine already.
#[derive(Default)]
pub(in crate::runtime::kafka) struct Batch {
    pub(super) records: Vec<OwnedMessage>,
    pub(super) consumed: Vec<Instant>,
    /// `records[..processed]` went through the engine and their outputs were sent.
    pub(super) processed: usize,
}

impl Batch {
    fn waiting(&self) -> usize {
        self.records.len() - self.processed
    }

    /// Keeps the records `keep` says (in order), `processed` counting the kept ones.
    fn retain(self, keep: &[bool]) -> Batch {
        let mut kept = Batch::default();
        for (i, ((m, t), k)) in self.records.into_iter().zip(self.consumed).zip(keep).enumerate() {
            if *k {
                kept.records.push(m);
                kept.consumed.push(t);
                if i < self.processed {
                    kept.processed += 1;
                }
            }
        }
        kept
    }
}

/// When a batch stops waiting for records: `linger` after the previous
/// batch stopped filling (`closed`), never later than `linger` from `now`.
/// Past it, the batch takes only the records already queued.
fn linger_deadline(closed: Option<Instant>, now: Instant, linger: Duration) -> Instant {
    closed.map_or(now + linger, |closed| (closed + linger).clamp(now, now + linger))
}

impl Processor {
    /// Polls records until the batch is full, the linger passed, a
    /// rebalance revoked partitions, or (no record yet, or while streaming)
    /// assigned some; then drops the records of revoked partitions.
    pub(in crate::runtime::kafka) fn fill(&mut self, batch_size: usize, linger: Duration, shutdown: &AtomicBool) -> Result<Batch, KafkaError> {
        let mut batch = Batch::default();
        // One clock reading per record: the time it was consumed is also the
        // time the linger is measured against (the clock is a visible cost
        // at hundreds of thousands of records a second).
        let started = Instant::now();
        let mut now = started;
        let deadline = linger_deadline(self.closed, now, linger);
        // The linger bounds the wait for records, not the engine's work on
        // them: time spent streaming extends the fill, so a backlog still
        // fills batches of `batch_size` (as many commits as without streaming).
        let mut streaming_time = Duration::ZERO;
        while batch.records.len() < batch_size && !shutdown.load(Ordering::SeqCst) && now < started + linger + streaming_time {
            let waiting = self.streaming && batch.waiting() > 0;
            // Short polls: a shutdown is noticed within `POLL_AT_MOST` whatever the linger.
            let polled = self.consumer.poll(if waiting { Duration::ZERO } else { deadline.saturating_duration_since(now).min(POLL_AT_MOST) });
            now = Instant::now();
            let dry = polled.is_none();
            match polled {
                Some(Ok(m)) => {
                    batch.records.push(m.detach());
                    batch.consumed.push(now);
                }
                Some(Err(e)) => self.consumer_error(&e)?,
                // Past the deadline, the batch takes only what is queued already.
                None if !waiting && now >= deadline => break,
                None => {}
            }
            // A revocation ends the batch (before its records are processed);
            // so does an assignment while the batch is empty (the new
            // partitions are restored, and the processor ready, at once,
            // while the consumer fetches their records) or while streaming.
            let tracker = self.consumer.context();
            if tracker.take_revoke_seen() || (batch.records.is_empty() || self.streaming) && tracker.assignment_waiting() {
                break;
            }
            // The queue ran dry, or a chunk is waiting: through the engine now.
            if waiting && dry || self.streaming && batch.waiting() >= CHUNK {
                self.stream(&mut batch)?;
                let after = Instant::now();
                streaming_time += after - now;
                now = after;
            }
        }
        self.closed = Some(now);
        self.handle_revocations();
        let tracker = self.consumer.context();
        let keep: Vec<bool> = batch.records.iter().map(|m| !tracker.revoked_contains(m.partition())).collect();
        tracker.clear_revoked();
        if keep.iter().all(|k| *k) {
            return Ok(batch);
        }
        Ok(batch.retain(&keep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINGER: Duration = Duration::from_millis(100);

    #[test]
    fn the_first_batch_waits_a_whole_linger() {
        let now = Instant::now();
        assert_eq!(linger_deadline(None, now, LINGER), now + LINGER);
    }

    #[test]
    fn the_linger_counts_from_the_previous_batch_close() {
        let closed = Instant::now();
        // The previous batch took 30 ms to commit: 70 ms are left.
        let now = closed + Duration::from_millis(30);
        assert_eq!(linger_deadline(Some(closed), now, LINGER), closed + LINGER);
    }

    #[test]
    fn a_commit_longer_than_the_linger_leaves_no_wait() {
        let closed = Instant::now();
        let now = closed + Duration::from_millis(250);
        assert_eq!(linger_deadline(Some(closed), now, LINGER), now);
    }

    fn message(partition: i32, offset: i64) -> OwnedMessage {
        OwnedMessage::new(None, None, "t".into(), rdkafka::Timestamp::NotAvailable, partition, offset, None)
    }

    #[test]
    fn dropping_revoked_records_keeps_the_count_of_processed_ones() {
        let records: Vec<OwnedMessage> = [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3)].iter().map(|(p, o)| message(*p, *o)).collect();
        let consumed = vec![Instant::now(); records.len()];
        // Three went through the engine; partition 1 was revoked.
        let batch = Batch { records, consumed, processed: 3 };
        let keep: Vec<bool> = batch.records.iter().map(|m| m.partition() != 1).collect();
        let kept = batch.retain(&keep);
        let left: Vec<(i32, i64)> = kept.records.iter().map(|m| (m.partition(), m.offset())).collect();
        assert_eq!(left, vec![(0, 1), (0, 2), (0, 3)]);
        assert_eq!(kept.processed, 2, "(0,1) and (0,2) were processed, (0,3) was not");
        assert_eq!(kept.consumed.len(), 3);
        assert_eq!(kept.waiting(), 1);
    }
}
