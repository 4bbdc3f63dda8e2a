//! Kafka topics as a [`Sink`]: one [`TopicSink`] per output stream, encoding
//! each output as its topic carries it (README.md "Outputs"); `flush` waits
//! for the broker's acknowledgements. A rejected record too large for the
//! producer is cut to fit (docs/semantics.md "Bad input").

use std::sync::Arc;

use rdkafka::message::{Header, OwnedHeaders};

use super::error::RunError;
use super::producer::OutputProducer;
use crate::config::Topics;
use crate::emit;
use crate::emit::rejected_cut;
use crate::engine::output::Output;
use crate::sink::{Sink, SinkError, Sinks, Stream};

/// One output stream to one topic, through a producer the sinks share.
pub struct TopicSink {
    producer: Arc<OutputProducer>,
    topic: String,
    /// Source topic named in rejected-record headers (`bursar.source.topic`).
    source: String,
    /// Each value is encoded once into this reused buffer (librdkafka copies it).
    buf: Vec<u8>,
}

impl TopicSink {
    pub(crate) fn new(producer: Arc<OutputProducer>, topic: impl Into<String>, source: impl Into<String>) -> TopicSink {
        TopicSink { producer, topic: topic.into(), source: source.into(), buf: Vec::with_capacity(4096) }
    }

    /// Every stream to its live topic (`topics.findings`, ...).
    pub(crate) fn live(producer: &Arc<OutputProducer>, topics: &Topics) -> Sinks {
        let mut sinks = Sinks::new();
        for (stream, topic) in [(Stream::Findings, &topics.findings), (Stream::Windows, &topics.windows), (Stream::Balances, &topics.balances), (Stream::Rejected, &topics.rejected)] {
            sinks.set(stream, Box::new(TopicSink::new(producer.clone(), topic.as_str(), topics.usage.as_str())));
        }
        sinks
    }

    /// Produces one output (record timestamps are left to the producer: never
    /// an event time, which Kafka may refuse as future).
    fn send(&mut self, output: &Output) -> Result<(), RunError> {
        let (p, topic) = (&self.producer, self.topic.as_str());
        let buf = &mut self.buf;
        buf.clear();
        match output {
            Output::Finding(f) => {
                let mut headers = OwnedHeaders::new();
                for (k, v) in emit::finding_headers(f) {
                    headers = headers.insert(Header { key: k, value: Some(v.as_bytes()) });
                }
                emit::write_finding(f, buf);
                p.send(topic, None, Some(f.credential.as_bytes()), Some(buf), Some(headers))
            }
            Output::Window(w) => {
                emit::write_window(w, buf);
                p.send(topic, None, Some(w.credential.as_bytes()), Some(buf), None)
            }
            Output::Balance(b) => {
                emit::write_balance(b, buf);
                p.send(topic, None, Some(b.credential.as_bytes()), Some(buf), None)
            }
            Output::Rejected(r) => {
                // Cut to fit the producer's limit, so no record stalls its partition.
                let t = rejected_cut::for_topic(r, &self.source, p.max_message_bytes());
                let mut headers = OwnedHeaders::new();
                for (k, v) in &t.headers {
                    headers = headers.insert(Header { key: k, value: v.as_deref() });
                }
                p.send(topic, None, t.key, t.value, Some(headers))
            }
        }
    }
}

impl Sink for TopicSink {
    fn write(&mut self, output: &Output) -> Result<(), SinkError> {
        self.send(output).map_err(|e| SinkError::Send { destination: self.topic.clone(), reason: e.to_string() })
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.producer.flush().map_err(|e| match e {
            RunError::Undelivered { count, reason } => SinkError::Undelivered { destination: self.topic.clone(), count, reason },
            RunError::Unacknowledged { count, waited_secs } => SinkError::Undelivered { destination: self.topic.clone(), count, reason: format!("still unacknowledged after {waited_secs} s") },
            other => SinkError::Send { destination: self.topic.clone(), reason: other.to_string() },
        })
    }
}
