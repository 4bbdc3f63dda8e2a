//! CSV files of one stream (docs/report.md, "Parquet and CSV columns"): a
//! header row, then the typed columns of `sink::columns` as text (times in
//! RFC 3339, credits with 6 decimal places), written with Arrow's CSV writer.

use std::io::Write;
use std::sync::{Arc, Mutex};

use arrow::csv::{Writer, WriterBuilder};
use arrow::record_batch::RecordBatch;

use super::columns::{BatchWriter, Columnar};
use super::Stream;

/// A CSV sink of one stream.
pub type Csv = Columnar<CsvWriter>;

/// Arrow's CSV writer over any writer (a file, stdout), and a handle on
/// that writer to flush it (Arrow's writer gives it back only when dropped).
pub struct CsvWriter {
    csv: Writer<Shared>,
    out: Shared,
}

/// The output shared by the CSV writer and the sink.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<Box<dyn Write + Send>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("the CSV output is poisoned"))?.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().map_err(|_| std::io::Error::other("the CSV output is poisoned"))?.flush()
    }
}

impl Csv {
    /// A sink writing `stream` as CSV to `out`; `what` names it in errors.
    pub fn create(what: impl Into<String>, stream: Stream, out: Box<dyn Write + Send>) -> Csv {
        let out = Shared(Arc::new(Mutex::new(out)));
        let csv = WriterBuilder::new().with_header(true).with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.3fZ".to_string()).build(out.clone());
        Columnar::new(what, stream, CsvWriter { csv, out })
    }
}

impl BatchWriter for CsvWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        self.csv.write(batch).map_err(|e| e.to_string())
    }

    fn flush(&mut self) -> Result<(), String> {
        self.out.flush().map_err(|e| e.to_string())
    }

    fn close(&mut self) -> Result<(), String> {
        self.flush()
    }
}
