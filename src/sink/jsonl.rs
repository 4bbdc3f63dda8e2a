//! JSON Lines: each output encoded once, straight into a buffer; full
//! buffers are written by a thread of their own, so the kernel's copy of the
//! bytes overlaps with encoding the next ones. Outputs handed over by value
//! (`Sink::write_owned`, the file replay) are encoded on that thread too:
//! the streams of a replay then encode in parallel with each other and with
//! the engine, in order within each stream.

use std::io::Write;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

use super::{Sink, SinkError};
use crate::emit;
use crate::engine::output::Output;

/// Bytes gathered before a buffer is written.
const BLOCK: usize = 1 << 20;
/// Buffers (or batches of outputs) in flight to the writer.
const IN_FLIGHT: usize = 4;
/// Outputs handed over by value gathered before they go to the writer.
const BATCH: usize = 1024;

enum Job {
    /// Encoded lines, written as they are.
    Write(Vec<u8>),
    /// Outputs to encode (in order, after everything sent before them).
    Encode(Vec<Output>),
    Flush(Sender<std::io::Result<()>>),
}

/// A JSON Lines sink over any writer (a file, stdout, a pipe).
pub struct JsonLines {
    what: String,
    buf: Vec<u8>,
    /// Outputs handed over by value, not yet sent to the writer.
    batch: Vec<Output>,
    jobs: Option<Sender<Job>>,
    /// Emptied buffers coming back from the writer, to be filled again.
    spare: Receiver<Vec<u8>>,
    /// Emptied batches coming back from the writer.
    spare_batches: Receiver<Vec<Output>>,
    writer: Option<JoinHandle<std::io::Result<()>>>,
}

impl JsonLines {
    /// `what` names the destination in errors (a path, "stdout").
    pub fn new(what: impl Into<String>, out: Box<dyn Write + Send>) -> JsonLines {
        let (jobs, rx) = bounded::<Job>(IN_FLIGHT);
        let (give_back, spare) = bounded::<Vec<u8>>(IN_FLIGHT + 1);
        let (give_back_batch, spare_batches) = bounded::<Vec<Output>>(IN_FLIGHT + 1);
        let back = Returns { buffers: give_back, batches: give_back_batch };
        let writer = std::thread::Builder::new().name("bursar-writer".into()).spawn(move || write_loop(out, rx, back)).ok();
        JsonLines { what: what.into(), buf: Vec::new(), batch: Vec::new(), jobs: Some(jobs), spare, spare_batches, writer }
    }

    fn send(&mut self, job: Job) -> Result<(), SinkError> {
        match &self.jobs {
            Some(jobs) if jobs.send(job).is_ok() => Ok(()),
            _ => Err(self.failed()),
        }
    }

    /// Sends the outputs gathered by value to the writer.
    fn send_batch(&mut self) -> Result<(), SinkError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let next = self.spare_batches.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        self.send(Job::Encode(full))
    }

    fn failed(&mut self) -> SinkError {
        // The writer stopped: its own error says why.
        self.jobs = None;
        let source = match self.writer.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => std::io::Error::other("the writer thread stopped"),
        };
        SinkError::Io { what: self.what.clone(), source }
    }

    fn hand_over(&mut self) -> Result<(), SinkError> {
        let next = self.spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(BLOCK + 64 * 1024));
        let full = std::mem::replace(&mut self.buf, next);
        self.send(Job::Write(full))
    }
}

/// Emptied buffers and batches, back from the writer for reuse.
struct Returns {
    buffers: Sender<Vec<u8>>,
    batches: Sender<Vec<Output>>,
}

/// The writer thread: writes blocks in order and answers every flush. After
/// a failed write it keeps answering (with that error) until the sink is dropped.
fn write_loop(mut out: Box<dyn Write + Send>, jobs: Receiver<Job>, back: Returns) -> std::io::Result<()> {
    let copy = |e: &std::io::Error| std::io::Error::new(e.kind(), e.to_string());
    let mut failed: Option<std::io::Error> = None;
    // Lines this thread encoded, not yet written.
    let mut encoded: Vec<u8> = Vec::new();
    // After a failed write nothing more is written.
    fn put(out: &mut dyn Write, bytes: &[u8], failed: &mut Option<std::io::Error>) {
        if failed.is_none() && !bytes.is_empty() {
            if let Err(e) = out.write_all(bytes) {
                *failed = Some(e);
            }
        }
    }
    for job in jobs {
        match job {
            Job::Encode(mut outputs) => {
                if encoded.capacity() == 0 {
                    encoded.reserve(BLOCK + 64 * 1024);
                }
                for o in outputs.drain(..) {
                    emit::encode_into(&o, &mut encoded);
                    encoded.push(b'\n');
                    if encoded.len() >= BLOCK {
                        put(&mut *out, &encoded, &mut failed);
                        encoded.clear();
                    }
                }
                let _ = back.batches.try_send(outputs);
            }
            Job::Write(mut block) => {
                put(&mut *out, &encoded, &mut failed);
                encoded.clear();
                put(&mut *out, &block, &mut failed);
                block.clear();
                let _ = back.buffers.try_send(block);
            }
            Job::Flush(done) => {
                put(&mut *out, &encoded, &mut failed);
                encoded.clear();
                let r = match &failed {
                    Some(e) => Err(copy(e)),
                    None => out.flush(),
                };
                if let (Err(e), None) = (&r, &failed) {
                    failed = Some(copy(e));
                }
                let _ = done.send(r);
            }
        }
    }
    put(&mut *out, &encoded, &mut failed);
    match failed {
        Some(e) => Err(e),
        None => out.flush(),
    }
}

impl Sink for JsonLines {
    fn write(&mut self, output: &Output) -> Result<(), SinkError> {
        // After whatever was handed over by value (the writer keeps the order).
        self.send_batch()?;
        if self.buf.capacity() == 0 {
            self.buf.reserve(BLOCK + 64 * 1024);
        }
        emit::encode_into(output, &mut self.buf);
        self.buf.push(b'\n');
        if self.buf.len() >= BLOCK {
            self.hand_over()?;
        }
        Ok(())
    }

    fn write_owned(&mut self, output: Output) -> Result<(), SinkError> {
        if !self.buf.is_empty() {
            self.hand_over()?;
        }
        if self.batch.capacity() == 0 {
            self.batch.reserve(BATCH);
        }
        self.batch.push(output);
        if self.batch.len() >= BATCH {
            self.send_batch()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.send_batch()?;
        if !self.buf.is_empty() {
            self.hand_over()?;
        }
        let (done, wait) = bounded(1);
        let sent = self.jobs.as_ref().is_some_and(|j| j.send(Job::Flush(done)).is_ok());
        match (sent, wait.recv()) {
            (true, Ok(Ok(()))) => Ok(()),
            (true, Ok(Err(source))) => Err(SinkError::Io { what: self.what.clone(), source }),
            _ => Err(self.failed()),
        }
    }
}

impl Drop for JsonLines {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::tests::Bytes as Shared;

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn rejected(i: i64) -> Output {
        Output::Rejected(crate::engine::output::RejectedRecord {
            partition: 0,
            offset: i,
            line: Some(i as u64 + 1),
            kind: crate::engine::output::RejectKind::InvalidJson,
            reason: "x".repeat(200),
            key: None,
            value: Some(b"{".to_vec()),
            headers: Vec::new(),
        })
    }

    #[test]
    fn every_line_is_written_in_order_once_flushed() {
        let out = Shared::default();
        let mut s = JsonLines::new("test", Box::new(out.clone()));
        for i in 0..20_000 {
            s.write(&rejected(i)).unwrap();
        }
        s.flush().unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let offsets: Vec<i64> = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["offset"].as_i64().unwrap()).collect();
        assert_eq!(offsets, (0..20_000).collect::<Vec<_>>());
    }

    #[test]
    fn outputs_by_reference_and_by_value_keep_their_order() {
        let out = Shared::default();
        let mut s = JsonLines::new("test", Box::new(out.clone()));
        // Runs of each kind, longer and shorter than a batch and a block.
        let mut i = 0;
        for run in [1, 3000, 7, 1, 2048, 5000, 1, 1] {
            for _ in 0..run {
                if (i / 3) % 2 == 0 { s.write_owned(rejected(i)).unwrap() } else { s.write(&rejected(i)).unwrap() }
                i += 1;
            }
            if run == 7 {
                s.flush().unwrap();
            }
        }
        s.flush().unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let offsets: Vec<i64> = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["offset"].as_i64().unwrap()).collect();
        assert_eq!(offsets, (0..i).collect::<Vec<_>>());
        let mut by_ref = Vec::new();
        (0..i).for_each(|k| crate::sink::tests::encode_line(&rejected(k), &mut by_ref));
        assert_eq!(text.as_bytes(), &by_ref[..], "the same bytes as encoding each in turn");
    }

    #[test]
    fn a_write_error_of_outputs_by_value_is_reported_with_the_destination() {
        let mut s = JsonLines::new("out.jsonl", Box::new(Broken));
        s.write_owned(rejected(0)).unwrap();
        let e = s.flush().unwrap_err().to_string();
        assert!(e.contains("out.jsonl") && e.contains("disk full"), "{e}");
    }

    #[test]
    fn a_write_error_is_reported_with_the_destination() {
        let mut s = JsonLines::new("out.jsonl", Box::new(Broken));
        s.write(&rejected(0)).unwrap();
        let e = s.flush().unwrap_err().to_string();
        assert!(e.contains("out.jsonl") && e.contains("disk full"), "{e}");
    }
}
