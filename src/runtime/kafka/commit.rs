//! How a batch becomes durable (README.md "Running on Kafka"): the two
//! delivery guarantees as two types of one trait.
//!
//! - [`AtLeastOnce`]: outputs produced and acknowledged, then the changelog
//!   acknowledged, then the input offsets committed. A failure stops the
//!   processor before it commits; a failed offset commit (a rebalance) is not
//!   fatal: the next owner resumes from the last commit.
//! - [`ExactlyOnce`]: outputs, changelog and input offsets in one Kafka
//!   transaction (KIP-447). An abortable failure (an output the broker
//!   refused, a group generation fenced by a rebalance, a timeout) aborts the
//!   transaction and the processor rewinds the batch (a commit that timed
//!   out is resumed instead: it may still succeed); after `MAX_ABORTS`
//!   aborts in a row it stops; a fatal error (another instance with the same
//!   `transactional.id` fenced this one, or the broker aborted the
//!   transaction itself after an outage longer than
//!   `kafka."transaction.timeout.ms"`) ends the processor at once: the run
//!   loop builds new clients, whose producer takes the `transactional.id`
//!   over, and resumes from the last commit (`outage.rs`).
//!
//! Per batch the processor calls `begin`, sends the outputs, calls
//! `outputs_sent`, sends the changelog, calls `commit_batch`; when any step
//! fails it calls `recover`, which either stops (`Err`) or asks for a rewind.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::producer::Producer;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::TopicPartitionList;

use super::error::{KafkaError, RunError};
use super::producer::OutputProducer;
use super::rebalance::Tracker;
use crate::config::Guarantee;
use crate::telemetry::{CommitFailed, CommitResumed, InternalEvent, Metrics, TransactionAborted, TransactionsExhausted};

/// Aborted transactions in a row before the processor gives up.
const MAX_ABORTS: u32 = 5;

/// Longest wait for a transaction call (librdkafka's own retries happen within).
const TXN_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether a batch's input offsets were committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Committed {
    Yes,
    /// Not committed, not fatal: the next owner resumes from the last commit.
    No,
}

/// One delivery guarantee's part in a batch.
pub(super) trait Commit: Send {
    /// Before the batch's first output.
    fn begin(&mut self, producer: &OutputProducer) -> Result<(), KafkaError>;
    /// After the outputs were sent, before the changelog is.
    fn outputs_sent(&mut self, producer: &OutputProducer) -> Result<(), KafkaError>;
    /// After the changelog was sent: makes the batch durable with `offsets`.
    fn commit_batch(&mut self, producer: &OutputProducer, consumer: &BaseConsumer<Tracker>, offsets: &TopicPartitionList) -> Result<Committed, KafkaError>;
    /// A step failed with `error`: `Ok` when the batch was rolled back and
    /// is to be rewound and processed again, `Err` to stop.
    fn recover(&mut self, producer: &OutputProducer, error: KafkaError) -> Result<(), KafkaError>;
}

/// The commit path of `guarantee`.
pub(super) fn for_guarantee(guarantee: Guarantee, metrics: std::sync::Arc<Metrics>) -> Box<dyn Commit> {
    match guarantee {
        Guarantee::AtLeastOnce => Box::new(AtLeastOnce { metrics }),
        Guarantee::ExactlyOnce => Box::new(ExactlyOnce { metrics, aborts: 0 }),
    }
}

/// Outputs acknowledged, then the changelog, then the offsets committed.
pub(super) struct AtLeastOnce {
    metrics: std::sync::Arc<Metrics>,
}

impl Commit for AtLeastOnce {
    fn begin(&mut self, _: &OutputProducer) -> Result<(), KafkaError> {
        Ok(())
    }

    /// The changelog never gets ahead of the outputs it accounts for.
    fn outputs_sent(&mut self, producer: &OutputProducer) -> Result<(), KafkaError> {
        Ok(producer.flush()?)
    }

    fn commit_batch(&mut self, producer: &OutputProducer, consumer: &BaseConsumer<Tracker>, offsets: &TopicPartitionList) -> Result<Committed, KafkaError> {
        producer.flush()?;
        match consumer.commit(offsets, CommitMode::Sync) {
            Ok(()) => Ok(Committed::Yes),
            // Not fatal: the next owner resumes from the last commit and the changelog skips what it includes.
            Err(e) => {
                CommitFailed { error: &e }.emit(&self.metrics);
                Ok(Committed::No)
            }
        }
    }

    /// Nothing to roll back: stop before committing (a restart re-sends byte-identical outputs).
    fn recover(&mut self, _: &OutputProducer, error: KafkaError) -> Result<(), KafkaError> {
        Err(error)
    }
}

/// Outputs, changelog and offsets in one transaction.
pub(super) struct ExactlyOnce {
    metrics: std::sync::Arc<Metrics>,
    /// Transactions aborted in a row; reset by a commit.
    aborts: u32,
}

impl Commit for ExactlyOnce {
    fn begin(&mut self, producer: &OutputProducer) -> Result<(), KafkaError> {
        producer.inner().begin_transaction().map_err(RunError::client("beginning a transaction"))?;
        Ok(())
    }

    fn outputs_sent(&mut self, _: &OutputProducer) -> Result<(), KafkaError> {
        Ok(())
    }

    fn commit_batch(&mut self, producer: &OutputProducer, consumer: &BaseConsumer<Tracker>, offsets: &TopicPartitionList) -> Result<Committed, KafkaError> {
        let group = consumer.group_metadata().ok_or(RunError::NoGroupMetadata)?;
        producer.inner().send_offsets_to_transaction(offsets, &group, TXN_TIMEOUT).map_err(RunError::client("sending offsets to the transaction"))?;
        // Every record acknowledged first: a refused one fails the batch at once.
        producer.flush()?;
        commit_transaction(producer, &self.metrics)?;
        self.aborts = 0;
        Ok(Committed::Yes)
    }

    fn recover(&mut self, producer: &OutputProducer, error: KafkaError) -> Result<(), KafkaError> {
        if let Some(fatal) = fatal(producer) {
            return Err(fatal.into());
        }
        self.aborts += 1;
        if self.aborts > MAX_ABORTS {
            TransactionsExhausted { aborts: MAX_ABORTS }.emit(&self.metrics);
            return Err(error);
        }
        TransactionAborted { error: &error, attempt: self.aborts }.emit(&self.metrics);
        // The abort itself can leave the producer fatal: a broker back from
        // an outage longer than the transaction timeout has aborted the
        // transaction already (INVALID_TXN_STATE, the producer's epoch is stale).
        abort_transaction(producer).map_err(|e| fatal(producer).unwrap_or(e))?;
        producer.forget_failures();
        std::thread::sleep(Duration::from_millis(250 << self.aborts.min(6)));
        Ok(())
    }
}

/// The producer's fatal error, if it has one: it can make no more
/// transactions, only new clients can (`RunError::Fatal` is transient).
fn fatal(producer: &OutputProducer) -> Option<RunError> {
    producer.inner().client().fatal_error().map(|(code, reason)| RunError::Fatal(format!("{code:?}: {reason}")))
}

/// Commits the open transaction. A commit that times out (the broker is
/// down, or its coordinator moved) is still in flight inside the client:
/// it must be resumed, not aborted (an abort then fails with "conflicting
/// commit_transaction API call"), so it is called again, up to
/// `MAX_ABORTS` more times of `TXN_TIMEOUT` each (as long as the default
/// `broker_outage`). Any other failure goes to `recover` as before.
fn commit_transaction(producer: &OutputProducer, metrics: &Metrics) -> Result<(), RunError> {
    let mut resumed = 0;
    loop {
        match producer.inner().commit_transaction(TXN_TIMEOUT) {
            Ok(()) => return Ok(()),
            Err(RdKafkaError::Transaction(e)) if e.is_retriable() && !e.txn_requires_abort() && resumed < MAX_ABORTS => {
                resumed += 1;
                CommitResumed { error: &e, attempt: resumed }.emit(metrics);
            }
            Err(e) => return Err(RunError::Client { context: "committing the transaction".into(), source: e }),
        }
    }
}

/// Aborts the open transaction. The purged outputs' delivery reports wait
/// in the producer's event queue, which only this thread serves: so abort
/// with a short timeout, serve the queue, and try again. A commit that timed
/// out (a broker outage) is still under way and refuses the abort: it is
/// called again, which finishes it once the broker answers; committed after
/// all, the batch is not aborted (the rewind reads the committed offsets and
/// the changelog's state back, this batch's included).
fn abort_transaction(producer: &OutputProducer) -> Result<(), RunError> {
    let deadline = Instant::now() + TXN_TIMEOUT;
    loop {
        match producer.inner().abort_transaction(Duration::from_millis(200)) {
            Ok(()) => return Ok(()),
            Err(RdKafkaError::Transaction(e)) if e.code() == RDKafkaErrorCode::Conflict && Instant::now() < deadline => {
                if producer.inner().commit_transaction(Duration::from_millis(200)).is_ok() {
                    return Ok(());
                }
                producer.inner().poll(Duration::from_millis(100))
            }
            // Timed out (retriable, "retry call to resume"): serve delivery reports, call again.
            Err(RdKafkaError::Transaction(e)) if (e.is_retriable() || e.code() == RDKafkaErrorCode::OperationTimedOut) && Instant::now() < deadline => {
                producer.inner().poll(Duration::from_millis(100))
            }
            Err(e) => return Err(RunError::Client { context: "aborting a transaction".into(), source: e }),
        }
    }
}
