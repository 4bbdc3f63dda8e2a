//! Where outputs go: one [`Stream`] per kind of output and one [`Sink`]
//! trait that writes an output and flushes with acknowledgement. JSON Lines
//! files ([`JsonLines`]) and Kafka topics (`runtime::kafka::TopicSink`) are
//! implementations; a new format is one more.

mod jsonl;
pub mod columns;
mod csv;
mod parquet;
mod staged;

pub use csv::Csv;
pub use jsonl::JsonLines;
pub use parquet::Parquet;
pub use staged::{Staged, StagedFile};

use crate::engine::output::Output;

/// The four output streams of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    Findings,
    Windows,
    Balances,
    Rejected,
}

impl Stream {
    pub const ALL: [Stream; 4] = [Stream::Findings, Stream::Windows, Stream::Balances, Stream::Rejected];

    /// The stream an output belongs to.
    pub fn of(output: &Output) -> Stream {
        match output {
            Output::Finding(_) => Stream::Findings,
            Output::Window(_) => Stream::Windows,
            Output::Balance(_) => Stream::Balances,
            Output::Rejected(_) => Stream::Rejected,
        }
    }

    /// The name used by flags and file names (`findings`, `windows`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Findings => "findings",
            Stream::Windows => "windows",
            Stream::Balances => "balances",
            Stream::Rejected => "rejected",
        }
    }
}

/// Why a sink failed.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("writing {what}: {source}")]
    Io { what: String, source: std::io::Error },
    /// A destination refused records or did not acknowledge them in time.
    #[error("{count} record(s) to {destination} were not acknowledged ({reason})")]
    Undelivered { destination: String, count: usize, reason: String },
    /// A record could not be handed to its destination at all.
    #[error("cannot send to {destination}: {reason}")]
    Send { destination: String, reason: String },
}

/// A destination of one stream: takes outputs in order, and acknowledges on
/// `flush` that everything written so far is durable (a file is written, a
/// topic acknowledged).
pub trait Sink: Send {
    fn write(&mut self, output: &Output) -> Result<(), SinkError>;
    fn flush(&mut self) -> Result<(), SinkError>;
    /// Flushes and completes the destination (a Parquet footer, a file
    /// renamed to its final name); nothing may be written after.
    fn finish(&mut self) -> Result<(), SinkError> {
        self.flush()
    }
}

/// The sinks of each stream (none, one, or several: a topic and a file);
/// outputs of a stream without a sink are dropped.
#[derive(Default)]
pub struct Sinks {
    sinks: [Vec<Box<dyn Sink>>; 4],
}

impl Sinks {
    pub fn new() -> Sinks {
        Sinks::default()
    }

    /// Makes `sink` the only sink of `stream`.
    pub fn set(&mut self, stream: Stream, sink: Box<dyn Sink>) {
        self.sinks[stream as usize] = vec![sink];
    }

    /// Adds `sink` beside the others of `stream` (each output goes to all, in order).
    pub fn add(&mut self, stream: Stream, sink: Box<dyn Sink>) {
        self.sinks[stream as usize].push(sink);
    }

    pub fn with(mut self, stream: Stream, sink: Box<dyn Sink>) -> Sinks {
        self.add(stream, sink);
        self
    }

    pub fn has(&self, stream: Stream) -> bool {
        !self.sinks[stream as usize].is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.iter().all(Vec::is_empty)
    }

    /// Writes `output` to every sink of its stream.
    pub fn write(&mut self, output: &Output) -> Result<(), SinkError> {
        self.sinks[Stream::of(output) as usize].iter_mut().try_for_each(|s| s.write(output))
    }

    /// Flushes every sink.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        self.sinks.iter_mut().flatten().try_for_each(|s| s.flush())
    }

    /// Finishes every sink (see [`Sink::finish`]): the end of a replay.
    pub fn finish(&mut self) -> Result<(), SinkError> {
        self.sinks.iter_mut().flatten().try_for_each(|s| s.finish())
    }
}

/// Collects outputs in memory, per stream (tests, the demo).
#[derive(Debug, Default, Clone)]
pub struct Collected {
    pub outputs: Vec<Output>,
}

impl Sink for std::sync::Arc<std::sync::Mutex<Collected>> {
    fn write(&mut self, output: &Output) -> Result<(), SinkError> {
        if let Ok(mut c) = self.lock() {
            c.outputs.push(output.clone());
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer whose bytes a test reads back (the file sinks' tests).
    #[derive(Clone, Default)]
    pub(crate) struct Bytes(pub(crate) Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Bytes {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A rejected record (the other sinks' tests use it too).
    pub(crate) fn rejected() -> Output {
        Output::Rejected(crate::engine::output::RejectedRecord {
            partition: 0,
            offset: 1,
            line: Some(2),
            kind: crate::decode::RejectKind::InvalidJson,
            reason: "x".into(),
            key: None,
            value: None,
            headers: Vec::new(),
        })
    }

    #[test]
    fn an_output_goes_to_every_sink_of_its_stream_and_to_no_other() {
        let (a, b, c) = (Arc::new(Mutex::new(Collected::default())), Arc::new(Mutex::new(Collected::default())), Arc::new(Mutex::new(Collected::default())));
        let mut sinks = Sinks::new().with(Stream::Rejected, Box::new(a.clone())).with(Stream::Rejected, Box::new(b.clone())).with(Stream::Findings, Box::new(c.clone()));
        sinks.write(&rejected()).unwrap();
        sinks.flush().unwrap();
        assert_eq!((a.lock().unwrap().outputs.len(), b.lock().unwrap().outputs.len(), c.lock().unwrap().outputs.len()), (1, 1, 0));
        sinks.set(Stream::Rejected, Box::new(c.clone()));
        sinks.write(&rejected()).unwrap();
        assert_eq!((a.lock().unwrap().outputs.len(), c.lock().unwrap().outputs.len()), (1, 1), "set replaces the stream's sinks");
    }
}
