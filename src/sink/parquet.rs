//! Parquet files of one stream (docs/report.md, "Parquet and CSV columns"):
//! the typed columns of `sink::columns`, one row group per batch, Snappy
//! compression, written with the Apache Arrow `parquet` crate.

use std::io::Write;

use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::columns::{schema, BatchWriter, Columnar, Nesting};
use super::Stream;

/// A Parquet sink of one stream.
pub type Parquet = Columnar<ParquetWriter>;

/// An Arrow writer of Parquet; closed (footer written) by `finish`.
pub struct ParquetWriter(Option<ArrowWriter<Box<dyn Write + Send>>>);

impl Parquet {
    /// A sink writing `stream` as Parquet to `out`; `what` names it in errors.
    pub fn create(what: impl Into<String>, stream: Stream, out: Box<dyn Write + Send>) -> Result<Parquet, parquet::errors::ParquetError> {
        let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        let writer = ArrowWriter::try_new(out, schema(stream, Nesting::Nested), Some(props))?;
        Ok(Columnar::new(what, stream, Nesting::Nested, ParquetWriter(Some(writer))))
    }
}

impl BatchWriter for ParquetWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let w = self.0.as_mut().ok_or("the Parquet file is already closed")?;
        w.write(batch).map_err(|e| e.to_string())?;
        // One row group per batch: a reader can skip by row group statistics.
        w.flush().map_err(|e| e.to_string())
    }

    fn flush(&mut self) -> Result<(), String> {
        match self.0.as_mut() {
            Some(w) => w.flush().map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    fn close(&mut self) -> Result<(), String> {
        match self.0.take() {
            Some(w) => {
                let mut inner = w.into_inner().map_err(|e| e.to_string())?;
                inner.flush().map_err(|e| e.to_string())
            }
            None => Ok(()),
        }
    }
}
