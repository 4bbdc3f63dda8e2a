//! The producer of outputs and changelog records: sends with back-pressure
//! and counts an output only once the broker acknowledged it (rust-rdkafka's
//! at_least_once example: store an offset only after its outputs are acknowledged).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use super::error::{RunError, SetupError};
use crate::config::{Guarantee, KafkaConfig};

/// Longest wait for outputs to be acknowledged (librdkafka retries within
/// `message.timeout.ms`, which fails a record before this).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(330);

/// Longest wait for `init_transactions`.
const INIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Counts failed deliveries and keeps the first reason; `flush` reports them.
#[derive(Default, Clone)]
pub(crate) struct Delivery {
    failed: Arc<AtomicUsize>,
    first_error: Arc<Mutex<Option<String>>>,
}

impl Delivery {
    /// Takes the failures counted so far, with the first reason.
    fn take(&self) -> (usize, String) {
        let reason = self.first_error.lock().ok().and_then(|mut e| e.take()).unwrap_or_default();
        (self.failed.swap(0, Ordering::Relaxed), reason)
    }
}

impl ClientContext for Delivery {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        super::quiet::client_log(level, fac, log_message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        super::quiet::client_error(&error, reason);
    }
}

impl ProducerContext for Delivery {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            if self.failed.fetch_add(1, Ordering::Relaxed) == 0 {
                if let Ok(mut first) = self.first_error.lock() {
                    *first = Some(e.to_string());
                }
            }
        }
    }
}

/// A producer whose `flush` is an acknowledgement.
pub(crate) struct OutputProducer {
    inner: BaseProducer<Delivery>,
    /// The producer's effective `message.max.bytes` (rejected records are cut to it).
    max_message_bytes: usize,
}

impl OutputProducer {
    /// A producer with `settings` (one of `KafkaConfig`'s producers).
    pub fn create(settings: &ClientConfig) -> Result<OutputProducer, SetupError> {
        let inner = settings.create_with_context(Delivery::default()).map_err(SetupError::client("creating the producer"))?;
        let max_message_bytes = settings.get("message.max.bytes").and_then(|v| v.trim().parse().ok()).unwrap_or(crate::emit::rejected_cut::DEFAULT_MAX_MESSAGE_BYTES);
        Ok(OutputProducer { inner, max_message_bytes })
    }

    /// The largest record this producer sends (`message.max.bytes`, librdkafka's default 1,000,000).
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// The processor's producer (`KafkaConfig::output_producer`); under
    /// exactly_once its transactions initialised, with a clear error when the
    /// broker has none.
    pub fn for_outputs(kafka: &KafkaConfig) -> Result<OutputProducer, SetupError> {
        let mut settings = kafka.output_producer();
        // Only failures are reported (all `Delivery` counts): an
        // acknowledged record leaves the in-flight count without a report
        // to serve, which was a tenth of the processor's time on a busy stream.
        settings.set("delivery.report.only.error", "true");
        let producer = OutputProducer::create(&settings)?;
        if kafka.guarantee == Guarantee::ExactlyOnce {
            producer.inner.init_transactions(INIT_TIMEOUT).map_err(|e| match e.rdkafka_error_code() {
                Some(RDKafkaErrorCode::OperationTimedOut | RDKafkaErrorCode::AllBrokersDown | RDKafkaErrorCode::BrokerTransportFailure) => {
                    SetupError::Client { context: "initialising transactions".into(), source: e }
                }
                _ => SetupError::NoTransactions(e.to_string()),
            })?;
        }
        Ok(producer)
    }

    /// The librdkafka producer (transactions).
    pub fn inner(&self) -> &BaseProducer<Delivery> {
        &self.inner
    }

    /// Forgets delivery failures (of a transaction that was aborted).
    pub fn forget_failures(&self) {
        self.inner.context().take();
    }

    /// Sends one record, waiting for room in librdkafka's queue when it is full.
    pub fn send(&self, topic: &str, partition: Option<i32>, key: Option<&[u8]>, value: Option<&[u8]>, headers: Option<OwnedHeaders>) -> Result<(), RunError> {
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(v) = value {
            record = record.payload(v);
        }
        if let Some(p) = partition {
            record = record.partition(p);
        }
        if let Some(h) = headers {
            record = record.headers(h);
        }
        loop {
            match self.inner.send(record) {
                Ok(()) => return Ok(()),
                Err((rdkafka::error::KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    self.inner.poll(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(RunError::Client { context: format!("producing to {topic}"), source: e }),
            }
        }
    }

    /// Serves delivery reports without waiting.
    pub fn poll(&self) {
        self.inner.poll(Duration::ZERO);
    }

    /// Waits until every record sent so far is acknowledged; fails as soon as
    /// one is not (a transactional producer then holds the rest back until the
    /// transaction is aborted, so waiting longer would not help). Serves
    /// delivery reports in 1 ms steps (rdkafka's own `flush` waits in 100 ms steps).
    pub fn flush(&self) -> Result<(), RunError> {
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        loop {
            self.inner.poll(Duration::from_millis(1));
            let (failed, reason) = self.inner.context().take();
            if failed > 0 {
                return Err(RunError::Undelivered { count: failed, reason });
            }
            if self.inner.in_flight_count() == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(RunError::Unacknowledged { count: self.inner.in_flight_count() as usize, waited_secs: FLUSH_TIMEOUT.as_secs() });
            }
        }
    }
}
