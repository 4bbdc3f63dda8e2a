//! Sending engine outputs to their topics and waiting for the broker's
//! acknowledgements (a produced output counts only once acknowledged).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

use super::KafkaError;
use crate::config::Topics;
use crate::emit;
use crate::engine::output::Output;

/// Counts failed deliveries and keeps the first reason; `flush` reports them.
#[derive(Default, Clone)]
pub(crate) struct Delivery {
    failed: Arc<AtomicUsize>,
    first_error: Arc<Mutex<Option<String>>>,
}

impl Delivery {
    /// Forgets failures (of a transaction that was aborted).
    pub fn reset(&self) -> (usize, String) {
        let reason = self.first_error.lock().ok().and_then(|mut e| e.take()).unwrap_or_default();
        (self.failed.swap(0, Ordering::Relaxed), reason)
    }
}

impl ClientContext for Delivery {}

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

pub(crate) type OutputProducer = BaseProducer<Delivery>;

/// Sends one record, waiting for room in librdkafka's queue when it is full.
pub(crate) fn send(producer: &OutputProducer, topic: &str, partition: Option<i32>, key: Option<&[u8]>, value: Option<&[u8]>, headers: Option<OwnedHeaders>) -> Result<(), KafkaError> {
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
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                producer.poll(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(KafkaError::Client { context: format!("producing to {topic}"), source: e }),
        }
    }
}

/// Where each kind of output goes.
#[derive(Debug, Clone)]
pub(crate) struct OutputTopics {
    pub findings: Option<String>,
    pub windows: Option<String>,
    pub balances: Option<String>,
    pub rejected: Option<String>,
    /// Source topic named in rejected-record headers.
    pub source: String,
}

impl OutputTopics {
    pub fn live(t: &Topics) -> OutputTopics {
        OutputTopics {
            findings: Some(t.findings.clone()),
            windows: Some(t.windows.clone()),
            balances: Some(t.balances.clone()),
            rejected: Some(t.rejected.clone()),
            source: t.usage.clone(),
        }
    }
}

/// Produces one engine output to its topic (record timestamps are left to
/// the producer: never an event time, which Kafka may refuse as future).
pub(crate) fn send_output(producer: &OutputProducer, topics: &OutputTopics, output: &Output) -> Result<(), KafkaError> {
    match output {
        Output::Finding(f) => {
            let Some(topic) = &topics.findings else { return Ok(()) };
            let mut headers = OwnedHeaders::new();
            for (k, v) in emit::finding_headers(f) {
                headers = headers.insert(Header { key: k, value: Some(v.as_bytes()) });
            }
            send(producer, topic, None, Some(f.credential.as_bytes()), Some(emit::finding_json(f).as_bytes()), Some(headers))
        }
        Output::Window(w) => match &topics.windows {
            Some(topic) => send(producer, topic, None, Some(w.credential.as_bytes()), Some(emit::window_json(w).as_bytes()), None),
            None => Ok(()),
        },
        Output::Balance(b) => match &topics.balances {
            Some(topic) => send(producer, topic, None, Some(b.credential.as_bytes()), Some(emit::balance_json(b).as_bytes()), None),
            None => Ok(()),
        },
        Output::Rejected(r) => {
            let Some(topic) = &topics.rejected else { return Ok(()) };
            let mut headers = OwnedHeaders::new();
            for (k, v) in emit::rejected_headers(r, &topics.source) {
                headers = headers.insert(Header { key: &k, value: v.as_deref() });
            }
            send(producer, topic, None, r.key.as_deref(), r.value.as_deref(), Some(headers))
        }
    }
}

/// Waits until every record sent so far is acknowledged; fails as soon as
/// one is not (a transactional producer then holds the rest back until the
/// transaction is aborted, so waiting longer would not help). Serves delivery
/// reports in 1 ms steps (rdkafka's own `flush` waits in 100 ms steps).
pub(crate) fn flush(producer: &OutputProducer, delivery: &Delivery) -> Result<(), KafkaError> {
    let deadline = std::time::Instant::now() + FLUSH_TIMEOUT;
    loop {
        producer.poll(Duration::from_millis(1));
        let (failed, reason) = delivery.reset();
        if failed > 0 {
            return Err(KafkaError::Undelivered { count: failed, reason });
        }
        if producer.in_flight_count() == 0 {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(KafkaError::Other(format!("{} output record(s) still unacknowledged after {} s", producer.in_flight_count(), FLUSH_TIMEOUT.as_secs())));
        }
    }
}

/// Longest wait for outputs to be acknowledged (librdkafka retries within
/// `message.timeout.ms`, which fails a record before this).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(330);
