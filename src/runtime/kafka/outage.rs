//! Riding out broker outages (docs/operations.md "Broker outages"): which
//! errors are transient, and the outage itself as a small state machine.
//!
//! `Up` → (a transient error: all brokers down, a timeout, a coordinator or
//! leader that moved, a fenced client) → `Down { since }`: one log line, then
//! rate-limited progress lines while the processor probes the broker and
//! rebuilds its clients with backoff → `Up` when it processes again (one
//! line), or, once `broker_outage` has passed, an error naming the broker
//! (the process exits non-zero).
//!
//! A rebuild is a restart in process: the clients are dropped and made
//! again, the state restored from the changelog and the input read from the
//! committed offsets, so the outputs stay exactly those of an uninterrupted
//! run (at-least-once: byte-identical re-sends at most; exactly-once: the
//! open transaction is aborted when the new producer takes the
//! `transactional.id`).

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::error::{KafkaError, RunError, SetupError};
use super::quiet::{close_in_background, recent_refusal, Quiet};
use crate::config::KafkaConfig;
use crate::sink::SinkError;
use crate::telemetry::{BrokerOutageContinues, BrokerOutageEnded, BrokerOutageStarted, InternalEvent, Metrics, ProcessorMoving, ProcessorStalled};

/// Longest wait of one broker probe: a dead broker is noticed within it.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// librdkafka error codes that a broker restart, a moved coordinator or
/// leader, or a fenced client cause, and that retrying (or rebuilding the
/// clients) outlives.
const TRANSIENT: &[RDKafkaErrorCode] = &[
    RDKafkaErrorCode::AllBrokersDown,
    RDKafkaErrorCode::BrokerTransportFailure,
    RDKafkaErrorCode::OperationTimedOut,
    RDKafkaErrorCode::MessageTimedOut,
    RDKafkaErrorCode::RequestTimedOut,
    RDKafkaErrorCode::NetworkException,
    RDKafkaErrorCode::Resolve,
    RDKafkaErrorCode::CoordinatorNotAvailable,
    RDKafkaErrorCode::CoordinatorLoadInProgress,
    RDKafkaErrorCode::NotCoordinator,
    RDKafkaErrorCode::NotLeaderForPartition,
    RDKafkaErrorCode::LeaderNotAvailable,
    RDKafkaErrorCode::NotEnoughReplicas,
    RDKafkaErrorCode::NotEnoughReplicasAfterAppend,
    RDKafkaErrorCode::RebalanceInProgress,
    RDKafkaErrorCode::IllegalGeneration,
    RDKafkaErrorCode::UnknownMemberId,
    RDKafkaErrorCode::FencedInstanceId,
    RDKafkaErrorCode::ProducerFenced,
    RDKafkaErrorCode::InvalidProducerEpoch,
    RDKafkaErrorCode::ConcurrentTransactions,
    RDKafkaErrorCode::PurgeQueue,
    RDKafkaErrorCode::PurgeInflight,
    RDKafkaErrorCode::Fatal,
    RDKafkaErrorCode::Fenced,
    RDKafkaErrorCode::WaitingForCoordinator,
    RDKafkaErrorCode::TimedOutQueue,
    RDKafkaErrorCode::Retry,
    RDKafkaErrorCode::AssignmentLost,
    RDKafkaErrorCode::PollExceeded,
    RDKafkaErrorCode::RebootstrapRequired,
    RDKafkaErrorCode::BrokerNotAvailable,
    RDKafkaErrorCode::ReplicaNotAvailable,
    RDKafkaErrorCode::PreferredLeaderNotAvailable,
    RDKafkaErrorCode::EligibleLeadersNotAvailable,
    RDKafkaErrorCode::NotController,
    RDKafkaErrorCode::StaleControllerEpoch,
    RDKafkaErrorCode::StaleBrokerEpoch,
    RDKafkaErrorCode::FencedLeaderEpoch,
    RDKafkaErrorCode::UnknownLeaderEpoch,
    RDKafkaErrorCode::OffsetNotAvailable,
    RDKafkaErrorCode::KafkaStorageError,
    RDKafkaErrorCode::UnstableOffsetCommit,
    RDKafkaErrorCode::ThrottlingQuotaExceeded,
    RDKafkaErrorCode::FetchSessionIdNotFound,
    RDKafkaErrorCode::InvalidFetchSessionEpoch,
    RDKafkaErrorCode::FencedMemberEpoch,
    RDKafkaErrorCode::StaleMemberEpoch,
    RDKafkaErrorCode::TransactionCoordinatorFenced,
    RDKafkaErrorCode::UnknownProducerId,
    RDKafkaErrorCode::OperationNotAttempted,
];

/// True for an error code a broker outage causes.
pub(crate) fn transient_code(code: Option<RDKafkaErrorCode>) -> bool {
    code.is_some_and(|c| TRANSIENT.contains(&c))
}

/// True when a delivery failure's text names a transient code (delivery
/// reports reach the runtime as text: `MessageTimedOut (Local: ...)`).
fn transient_text(reason: &str) -> bool {
    TRANSIENT.iter().any(|c| reason.contains(&format!("{c:?} (")))
}

/// True when rebuilding the clients after a wait may get past `e`; false
/// for what only the operator can fix (a missing topic, refused records,
/// invalid state, configuration).
pub(crate) fn is_transient(e: &KafkaError) -> bool {
    match e {
        KafkaError::Setup(SetupError::Client { source, .. }) | KafkaError::Run(RunError::Client { source, .. }) => transient_code(source.rdkafka_error_code()),
        KafkaError::Run(RunError::Undelivered { reason, .. }) | KafkaError::Run(RunError::Sink(SinkError::Undelivered { reason, .. } | SinkError::Send { reason, .. })) => {
            transient_text(reason)
        }
        KafkaError::Setup(SetupError::Unreachable { .. }) => true,
        KafkaError::Run(RunError::Unacknowledged { .. } | RunError::Stalled { .. } | RunError::Fatal(_) | RunError::NoGroupMetadata | RunError::Fenced(_)) => true,
        _ => false,
    }
}

/// Asks the broker for its metadata within [`PROBE_TIMEOUT`] with a fresh
/// client (the processor's may be the one that failed).
pub(crate) fn probe_broker(kafka: &KafkaConfig) -> Result<(), SetupError> {
    let consumer: BaseConsumer<Quiet> = kafka.reader(false).create_with_context(Quiet).map_err(SetupError::client("creating a client to reach the broker"))?;
    let answer = consumer.fetch_metadata(None, PROBE_TIMEOUT).map(|_| ()).map_err(|source| {
        // A refused password looks like silence to the request; the client
        // reports it as an event, served here (docs/operations.md "Exit codes").
        for _ in 0..3 {
            let _ = consumer.poll(Duration::from_millis(50));
        }
        match recent_refusal(PROBE_TIMEOUT + Duration::from_secs(1)) {
            Some(reason) => SetupError::CredentialsRefused { broker: kafka.bootstrap_servers.clone(), reason },
            None => unreachable(kafka, source),
        }
    });
    close_in_background(consumer);
    answer
}

fn unreachable(kafka: &KafkaConfig, source: RdKafkaError) -> SetupError {
    SetupError::Unreachable { broker: kafka.bootstrap_servers.clone(), waited_secs: PROBE_TIMEOUT.as_secs(), source }
}

/// An admin client's first request (within [`PROBE_TIMEOUT`]) was not
/// answered: refused credentials when the probe finds them, else unreachable
/// with the admin client's own error.
pub(crate) fn unanswered(kafka: &KafkaConfig, source: RdKafkaError) -> SetupError {
    match probe_broker(kafka) {
        Err(refused @ SetupError::CredentialsRefused { .. }) => refused,
        _ => unreachable(kafka, source),
    }
}

/// Whether the broker is reachable, as the processor last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Up,
    /// Down since `since`; `attempts` rebuilds or probes failed.
    Down { since: Instant, attempts: u32 },
}

/// One outage at a time, with its log lines and its deadline.
pub(crate) struct Outage {
    broker: String,
    budget: Duration,
    state: State,
    metrics: Arc<Metrics>,
}

impl Outage {
    pub(crate) fn new(broker: &str, budget: Duration, metrics: Arc<Metrics>) -> Outage {
        Outage { broker: broker.to_string(), budget, state: State::Up, metrics }
    }

    pub(crate) fn active(&self) -> bool {
        matches!(self.state, State::Down { .. })
    }

    /// A transient failure: starts the outage or continues it; an error
    /// naming the broker once it has lasted `broker_outage`.
    pub(crate) fn failed(&mut self, error: &dyn Display) -> Result<(), RunError> {
        let now = Instant::now();
        let error = error.to_string();
        match &mut self.state {
            State::Up => {
                self.state = State::Down { since: now, attempts: 0 };
                BrokerOutageStarted { broker: &self.broker, budget: self.budget, error: &error }.emit(&self.metrics);
            }
            State::Down { since, attempts } => {
                *attempts += 1;
                let lasted = now.duration_since(*since);
                if lasted >= self.budget {
                    return Err(RunError::Outage { broker: self.broker.clone(), lasted_secs: lasted.as_secs(), error });
                }
                BrokerOutageContinues { broker: &self.broker, lasted, left: self.budget - lasted, error: &error }.emit(&self.metrics);
            }
        }
        Ok(())
    }

    /// The processor works again: ends the outage, if any.
    pub(crate) fn ended(&mut self) {
        if let State::Down { since, .. } = self.state {
            BrokerOutageEnded { broker: &self.broker, lasted: since.elapsed() }.emit(&self.metrics);
            self.state = State::Up;
        }
    }

    /// Waits before the next attempt (250 ms doubling to 5 s), returning
    /// early when `shutdown` is set.
    pub(crate) fn back_off(&self, shutdown: &AtomicBool) {
        let attempts = match self.state {
            State::Down { attempts, .. } => attempts,
            State::Up => 0,
        };
        let wait = Duration::from_millis(250u64 << attempts.min(5)).min(Duration::from_secs(5));
        let until = Instant::now() + wait;
        while Instant::now() < until && !shutdown.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Notices a processor that makes no progress because a call to the broker
/// blocks (an offset commit waits for its coordinator): one line after
/// [`STALL_AFTER`], one when it moves again. The run loop `beat`s.
pub(crate) struct Watchdog {
    beat: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    started: Instant,
}

/// How long without a beat before the watchdog says so.
pub(crate) const STALL_AFTER: Duration = Duration::from_secs(10);

impl Watchdog {
    pub(crate) fn start(broker: &str, metrics: Arc<Metrics>) -> Watchdog {
        let (beat, stop, started) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)), Instant::now());
        let (b, s, broker) = (beat.clone(), stop.clone(), broker.to_string());
        let spawned = std::thread::Builder::new().name("bursar-watchdog".into()).spawn(move || {
            let mut stalled = false;
            while !s.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(500));
                let quiet = started.elapsed().saturating_sub(Duration::from_millis(b.load(Ordering::SeqCst)));
                match (stalled, quiet >= STALL_AFTER) {
                    (false, true) => {
                        stalled = true;
                        ProcessorStalled { broker: &broker, quiet }.emit(&metrics);
                    }
                    (true, false) => {
                        stalled = false;
                        ProcessorMoving { broker: &broker }.emit(&metrics);
                    }
                    _ => {}
                }
            }
        });
        if spawned.is_err() {
            tracing::debug!("No watchdog thread: stalls are not reported.");
        }
        Watchdog { beat, stop, started }
    }

    /// The processor made a step.
    pub(crate) fn beat(&self) {
        self.beat.store(self.started.elapsed().as_millis() as u64, Ordering::SeqCst);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_restarts_are_transient_and_refusals_are_not() {
        let down = KafkaError::Run(RunError::Client { context: "x".into(), source: rdkafka::error::KafkaError::MessageConsumption(RDKafkaErrorCode::AllBrokersDown) });
        assert!(is_transient(&down));
        let missing = KafkaError::Run(RunError::Client { context: "x".into(), source: rdkafka::error::KafkaError::MessageConsumption(RDKafkaErrorCode::UnknownTopicOrPartition) });
        assert!(!is_transient(&missing));
        let timed_out = rdkafka::error::KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut).to_string();
        assert!(is_transient(&KafkaError::Run(RunError::Sink(SinkError::Undelivered { destination: "t".into(), count: 1, reason: timed_out }))));
        let refused = rdkafka::error::KafkaError::MessageProduction(RDKafkaErrorCode::TopicAuthorizationFailed).to_string();
        assert!(!is_transient(&KafkaError::Run(RunError::Undelivered { count: 1, reason: refused })));
        assert!(!is_transient(&KafkaError::Setup(SetupError::MissingTopic("t".into()))));
    }

    #[test]
    fn an_outage_logs_its_start_and_fails_once_its_budget_is_spent() {
        let mut o = Outage::new("h:1", Duration::from_millis(200), Arc::new(Metrics::new()));
        assert!(!o.active());
        o.failed(&"down").unwrap();
        assert!(o.active());
        o.failed(&"still down").unwrap();
        std::thread::sleep(Duration::from_millis(250));
        let err = o.failed(&"still down").unwrap_err().to_string();
        assert!(err.contains("h:1") && err.contains("still down"), "{err}");
        o.ended();
        assert!(!o.active());
    }

    #[test]
    fn the_metrics_count_outages_and_show_one_while_it_lasts() {
        let metrics = Arc::new(Metrics::new());
        let mut o = Outage::new("h:1", Duration::from_secs(60), metrics.clone());
        let text = metrics.render();
        assert!(text.contains("bursar_broker_unreachable 0") && text.contains("bursar_broker_outages_total 0"), "{text}");
        o.failed(&"down").unwrap();
        o.failed(&"still down").unwrap();
        let text = metrics.render();
        assert!(text.contains("bursar_broker_unreachable 1") && text.contains("bursar_broker_outages_total 1"), "one outage, however many failures: {text}");
        o.ended();
        o.ended();
        assert!(metrics.render().contains("bursar_broker_unreachable 0"));
        o.failed(&"down again").unwrap();
        let text = metrics.render();
        assert!(text.contains("bursar_broker_unreachable 1") && text.contains("bursar_broker_outages_total 2"), "{text}");
    }
}
