//! JSON Lines: each output encoded once, straight into a buffer that is
//! written out in large blocks (by a writer thread when one is given).

use std::io::Write;

use super::{Sink, SinkError};
use crate::emit;
use crate::engine::output::Output;

/// Bytes gathered before a write.
const BLOCK: usize = 1 << 20;

/// A JSON Lines sink over any writer (a file, stdout, a pipe).
pub struct JsonLines {
    what: String,
    buf: Vec<u8>,
    out: Box<dyn Write + Send>,
}

impl JsonLines {
    /// `what` names the destination in errors (a path, "stdout").
    pub fn new(what: impl Into<String>, out: Box<dyn Write + Send>) -> JsonLines {
        JsonLines { what: what.into(), buf: Vec::with_capacity(BLOCK + 64 * 1024), out }
    }

    fn io(&self) -> impl Fn(std::io::Error) -> SinkError + '_ {
        move |source| SinkError::Io { what: self.what.clone(), source }
    }

    /// Appends one encoded line to the buffer.
    pub fn push(&mut self, output: &Output) {
        self.buf.extend_from_slice(emit::encode(output).as_bytes());
        self.buf.push(b'\n');
    }

    /// The bytes buffered so far, taken (for a writer thread).
    pub fn take_block(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK + 64 * 1024))
    }
}

impl Sink for JsonLines {
    fn write(&mut self, output: &Output) -> Result<(), SinkError> {
        self.push(output);
        if self.buf.len() >= BLOCK {
            self.out.write_all(&self.buf).map_err(|e| SinkError::Io { what: self.what.clone(), source: e })?;
            self.buf.clear();
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        let r = self.out.write_all(&self.buf).and_then(|_| self.out.flush());
        self.buf.clear();
        r.map_err(self.io())
    }
}
