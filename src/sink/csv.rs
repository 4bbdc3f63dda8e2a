//! CSV files of one stream (docs/report.md, "Parquet and CSV columns"): a
//! header row, then the typed columns of `sink::columns` as text (times in
//! RFC 3339, credits with 6 decimal places), written with Arrow's CSV writer.

use std::io::Write;
use std::sync::{Arc, Mutex};

use arrow::csv::{Writer, WriterBuilder};
use arrow::record_batch::RecordBatch;

use super::columns::{schema, BatchWriter, Columnar, Nesting};
use super::Stream;

/// A CSV sink of one stream.
pub type Csv = Columnar<CsvWriter>;

/// Arrow's CSV writer over any writer (a file, stdout), and a handle on
/// that writer to flush it (Arrow's writer gives it back only when dropped).
pub struct CsvWriter {
    csv: Writer<Shared>,
    out: Shared,
    /// Written before a stream without records ends, so the file still has its header.
    empty: Option<RecordBatch>,
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
        let empty = Some(RecordBatch::new_empty(schema(stream, Nesting::Flat)));
        Columnar::new(what, stream, Nesting::Flat, CsvWriter { csv, out, empty })
    }
}

impl BatchWriter for CsvWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        self.empty = None;
        self.csv.write(batch).map_err(|e| e.to_string())
    }

    fn flush(&mut self) -> Result<(), String> {
        self.out.flush().map_err(|e| e.to_string())
    }

    fn close(&mut self) -> Result<(), String> {
        if let Some(empty) = self.empty.take() {
            self.csv.write(&empty).map_err(|e| e.to_string())?;
        }
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::output::{Output, WindowRecord};
    use crate::sink::tests::Bytes;
    use crate::sink::Sink;

    fn csv(stream: Stream, outputs: &[Output]) -> String {
        let out = Bytes::default();
        let mut sink = Csv::create("t", stream, Box::new(out.clone()));
        for o in outputs {
            sink.write(o).unwrap();
        }
        sink.finish().unwrap();
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn times_are_rfc3339_and_credits_have_six_decimal_places() {
        let w = WindowRecord { credential: "k".into(), size_ms: 60_000, start: 1_767_225_600_000, end: 1_767_225_660_000, calls: 2, credits: 2_880_000, tokens_in: 5, tokens_out: 0, capabilities: Default::default(), distinct_models: 1 };
        let text = csv(Stream::Windows, &[Output::Window(w)]);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("credential,window,start,end,calls,credits,tokens_in,tokens_out,capabilities,distinct_models"));
        assert_eq!(lines.next(), Some("k,1m,2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,2,2.880000,5,0,{},1"));
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn a_stream_without_records_still_gets_its_header() {
        assert_eq!(csv(Stream::Rejected, &[]), "partition,offset,line,kind,reason,key,value\n");
    }
}
