//! Where outputs go: one [`Stream`] per kind of output and one [`Sink`]
//! trait that writes an output and flushes with acknowledgement. JSON Lines
//! files ([`JsonLines`]) and Kafka topics (`runtime::kafka::TopicSink`) are
//! implementations; a new format is one more.

mod jsonl;

pub use jsonl::JsonLines;

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

/// Why a sink failed; `retryable` when writing again may succeed.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("writing {what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("{0}")]
    Delivery(String),
}

/// A destination of one stream: takes outputs in order, and acknowledges on
/// `flush` that everything written so far is durable (a file is written, a
/// topic acknowledged).
pub trait Sink: Send {
    fn write(&mut self, output: &Output) -> Result<(), SinkError>;
    fn flush(&mut self) -> Result<(), SinkError>;
}

/// One optional sink per stream; outputs of a stream without a sink are dropped.
#[derive(Default)]
pub struct Sinks {
    sinks: [Option<Box<dyn Sink>>; 4],
}

impl Sinks {
    pub fn new() -> Sinks {
        Sinks::default()
    }

    /// Sets (or replaces) the sink of `stream`.
    pub fn set(&mut self, stream: Stream, sink: Box<dyn Sink>) {
        self.sinks[stream as usize] = Some(sink);
    }

    pub fn with(mut self, stream: Stream, sink: Box<dyn Sink>) -> Sinks {
        self.set(stream, sink);
        self
    }

    pub fn has(&self, stream: Stream) -> bool {
        self.sinks[stream as usize].is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.iter().all(Option::is_none)
    }

    /// Writes `output` to its stream's sink, if any.
    pub fn write(&mut self, output: &Output) -> Result<(), SinkError> {
        match &mut self.sinks[Stream::of(output) as usize] {
            Some(s) => s.write(output),
            None => Ok(()),
        }
    }

    /// Flushes every sink.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        for s in self.sinks.iter_mut().flatten() {
            s.flush()?;
        }
        Ok(())
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
