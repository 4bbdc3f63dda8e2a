//! Sending engine outputs to their topics and waiting for the broker's
//! acknowledgements (a produced output counts only once acknowledged).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

use super::KafkaError;
use crate::config::Topics;
use crate::emit;
use crate::engine::output::Output;

/// Counts failed deliveries; the batch loop checks it after each flush.
#[derive(Default, Clone)]
pub(crate) struct Delivery {
    pub failed: Arc<AtomicUsize>,
}

impl ClientContext for Delivery {}

impl ProducerContext for Delivery {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "Output record not delivered.");
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
                headers = headers.insert(Header { key: &k, value: Some(&v) });
            }
            send(producer, topic, None, r.key.as_deref(), Some(&r.value), Some(headers))
        }
    }
}

/// Waits until every record sent so far is acknowledged (or failed).
pub(crate) fn flush(producer: &OutputProducer, delivery: &Delivery) -> Result<(), KafkaError> {
    producer.flush(Duration::from_secs(60)).map_err(KafkaError::client("flushing outputs"))?;
    let failed = delivery.failed.swap(0, Ordering::Relaxed);
    if failed > 0 {
        return Err(KafkaError::Undelivered(failed));
    }
    Ok(())
}
