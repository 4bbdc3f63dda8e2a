//! The typed column layout of each stream for the columnar formats (Parquet,
//! CSV; docs/report.md, "Parquet and CSV columns"): times as
//! `Timestamp(ms, UTC)`, credits as `Decimal128(38, 6)`, never floats.
//! Findings keep the OCSF top-level member names; nested OCSF objects are
//! JSON text columns under their own names. A balance's grants are a list
//! of structs in Parquet and JSON text in CSV (which has no nesting).

use std::sync::Arc;

use arrow::array::{ArrayBuilder, ArrayRef, BooleanBuilder, Decimal128Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder, StructBuilder, TimestampMillisecondBuilder, UInt64Builder};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use super::Stream;
use crate::emit;
use crate::engine::output::{BalanceRecord, GrantView, Output, RejectedRecord, WindowRecord};
use crate::model::credits;
use crate::model::time::{format_duration, format_rfc3339, month_label, month_start};

/// Rows gathered before they become one record batch (a Parquet row group).
pub(crate) const BATCH_ROWS: usize = 64 * 1024;

/// The time zone of every timestamp column.
const UTC: &str = "+00:00";

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Epoch milliseconds, UTC.
    Time,
    /// Micro-credits as a decimal with 6 places.
    Credits,
    U64,
    I64,
    I32,
    Bool,
    /// A balance's live grants: month, amount, remaining, expires.
    Grants,
}

/// Whether a format holds nested values (Parquet) or only flat ones (CSV:
/// nested values as JSON text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Nested,
    Flat,
}

/// The members of one grant in a nested `grants` column.
fn grant_fields() -> Fields {
    Fields::from(vec![
        Field::new("month", DataType::Utf8, false),
        Field::new("amount", Kind::Credits.data_type(Nesting::Flat), false),
        Field::new("remaining", Kind::Credits.data_type(Nesting::Flat), false),
        Field::new("expires", Kind::Time.data_type(Nesting::Flat), false),
    ])
}

impl Kind {
    fn data_type(self, nesting: Nesting) -> DataType {
        match self {
            Kind::Grants if nesting == Nesting::Nested => DataType::List(Arc::new(Field::new("item", DataType::Struct(grant_fields()), true))),
            Kind::Grants => DataType::Utf8,
            Kind::Text => DataType::Utf8,
            Kind::Time => DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into())),
            Kind::Credits => DataType::Decimal128(38, 6),
            Kind::U64 => DataType::UInt64,
            Kind::I64 => DataType::Int64,
            Kind::I32 => DataType::Int32,
            Kind::Bool => DataType::Boolean,
        }
    }
}

/// The columns of `stream`: name, kind, nullable.
pub fn layout(stream: Stream) -> &'static [(&'static str, Kind, bool)] {
    use Kind::*;
    match stream {
        Stream::Windows => &[
            ("credential", Text, false), ("window", Text, false), ("start", Time, false), ("end", Time, false), ("calls", U64, false),
            ("credits", Credits, false), ("tokens_in", I64, false), ("tokens_out", I64, false), ("capabilities", Text, false), ("distinct_models", U64, false),
        ],
        Stream::Balances => &[
            ("credential", Text, false), ("as_of", Time, false), ("month", Text, false), ("available_at_start", Credits, false), ("banked_at_start", Credits, false),
            ("used", Credits, false), ("used_banked", Credits, false), ("remaining", Credits, false), ("overage", Credits, false), ("granted_total", Credits, false),
            ("burned_total", Credits, false), ("expired_total", Credits, false), ("grants", Grants, false),
        ],
        Stream::Findings => &[
            ("activity_id", I32, false), ("activity_name", Text, false), ("category_uid", I32, false), ("category_name", Text, false), ("class_uid", I32, false),
            ("class_name", Text, false), ("type_uid", I64, false), ("type_name", Text, false), ("severity_id", I32, false), ("severity", Text, false),
            ("status_id", I32, false), ("status", Text, false), ("status_detail", Text, true), ("is_alert", Bool, false), ("time", Time, false), ("metadata", Text, false),
            ("finding_info", Text, false), ("remediation", Text, true), ("evidences", Text, true), ("resources", Text, true), ("observables", Text, true), ("unmapped", Text, true),
        ],
        Stream::Rejected => &[
            ("partition", I32, false), ("offset", I64, false), ("line", U64, true), ("kind", Text, false), ("reason", Text, false), ("key", Text, true), ("value", Text, true),
        ],
    }
}

/// The Arrow schema of `stream`.
pub fn schema(stream: Stream, nesting: Nesting) -> SchemaRef {
    Arc::new(Schema::new(layout(stream).iter().map(|(name, kind, null)| Field::new(*name, kind.data_type(nesting), *null)).collect::<Vec<_>>()))
}

enum Builder {
    Text(StringBuilder),
    Time(TimestampMillisecondBuilder),
    Credits(Decimal128Builder),
    U64(UInt64Builder),
    I64(Int64Builder),
    I32(Int32Builder),
    Bool(BooleanBuilder),
    Grants(ListBuilder<StructBuilder>),
}

impl Builder {
    fn new(kind: Kind, nesting: Nesting) -> Builder {
        match kind {
            Kind::Grants if nesting == Nesting::Nested => {
                let members: Vec<Box<dyn ArrayBuilder>> = vec![
                    Box::new(StringBuilder::new()),
                    Box::new(Decimal128Builder::new().with_data_type(Kind::Credits.data_type(nesting))),
                    Box::new(Decimal128Builder::new().with_data_type(Kind::Credits.data_type(nesting))),
                    Box::new(TimestampMillisecondBuilder::new().with_timezone(UTC)),
                ];
                Builder::Grants(ListBuilder::new(StructBuilder::new(grant_fields(), members)))
            }
            Kind::Text | Kind::Grants => Builder::Text(StringBuilder::new()),
            Kind::Time => Builder::Time(TimestampMillisecondBuilder::new().with_timezone(UTC)),
            Kind::Credits => Builder::Credits(Decimal128Builder::new().with_data_type(Kind::Credits.data_type(nesting))),
            Kind::U64 => Builder::U64(UInt64Builder::new()),
            Kind::I64 => Builder::I64(Int64Builder::new()),
            Kind::I32 => Builder::I32(Int32Builder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Credits(b) => Arc::new(b.finish()),
            Builder::U64(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Grants(b) => Arc::new(b.finish()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Builder::Text(b) => b.len(),
            Builder::Time(b) => b.len(),
            Builder::Credits(b) => b.len(),
            Builder::U64(b) => b.len(),
            Builder::I64(b) => b.len(),
            Builder::I32(b) => b.len(),
            Builder::Bool(b) => b.len(),
            Builder::Grants(b) => b.len(),
        }
    }
}

/// One value of a row; `Int` goes to any integer column, `Null` to any nullable one.
enum Value<'a> {
    Text(&'a str),
    Time(i64),
    Credits(i64),
    Int(i64),
    Bool(bool),
    Grants(&'a [GrantView]),
    Null,
}

/// Rows of one stream being gathered into a record batch.
pub struct Columns {
    stream: Stream,
    schema: SchemaRef,
    builders: Vec<Builder>,
}

impl Columns {
    pub fn new(stream: Stream, nesting: Nesting) -> Columns {
        Columns { stream, schema: schema(stream, nesting), builders: layout(stream).iter().map(|(_, k, _)| Builder::new(*k, nesting)).collect() }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    pub fn rows(&self) -> usize {
        self.builders.first().map_or(0, Builder::len)
    }

    /// Appends one output of this stream (an output of another stream is ignored).
    pub fn push(&mut self, output: &Output) {
        let mut row = Row { builders: &mut self.builders, at: 0 };
        match (self.stream, output) {
            (Stream::Windows, Output::Window(w)) => window_row(&mut row, w),
            (Stream::Balances, Output::Balance(b)) => balance_row(&mut row, b),
            (Stream::Findings, Output::Finding(f)) => finding_row(&mut row, &emit::finding_json(f)),
            (Stream::Rejected, Output::Rejected(r)) => rejected_row(&mut row, r),
            _ => {}
        }
    }

    /// The rows gathered so far as one batch (None when there are none).
    pub fn take_batch(&mut self) -> Result<Option<RecordBatch>, arrow::error::ArrowError> {
        if self.rows() == 0 {
            return Ok(None);
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        RecordBatch::try_new(self.schema.clone(), columns).map(Some)
    }
}

/// Appends values to the builders in column order.
struct Row<'b> {
    builders: &'b mut [Builder],
    at: usize,
}

impl Row<'_> {
    fn put(&mut self, v: Value<'_>) -> &mut Self {
        if let Some(b) = self.builders.get_mut(self.at) {
            match (b, v) {
                (Builder::Text(b), Value::Text(s)) => b.append_value(s),
                (Builder::Time(b), Value::Time(t)) => b.append_value(t),
                (Builder::Credits(b), Value::Credits(c)) => b.append_value(c as i128),
                (Builder::U64(b), Value::Int(i)) => b.append_value(i.max(0) as u64),
                (Builder::I64(b), Value::Int(i)) => b.append_value(i),
                (Builder::I32(b), Value::Int(i)) => b.append_value(i as i32),
                (Builder::Bool(b), Value::Bool(x)) => b.append_value(x),
                (Builder::Text(b), Value::Grants(g)) => b.append_value(grants_json(g)),
                (Builder::Grants(b), Value::Grants(g)) => append_grants(b, g),
                (Builder::Text(b), _) => b.append_null(),
                (Builder::Time(b), _) => b.append_null(),
                (Builder::Credits(b), _) => b.append_null(),
                (Builder::U64(b), _) => b.append_null(),
                (Builder::I64(b), _) => b.append_null(),
                (Builder::I32(b), _) => b.append_null(),
                (Builder::Bool(b), _) => b.append_null(),
                (Builder::Grants(b), _) => b.append(false),
            }
        }
        self.at += 1;
        self
    }
}

fn window_row(row: &mut Row<'_>, w: &WindowRecord) {
    let caps: serde_json::Map<String, serde_json::Value> = w.capabilities.iter().map(|(c, n)| (c.to_string(), (*n).into())).collect();
    let caps = serde_json::Value::Object(caps).to_string();
    row.put(Value::Text(&w.credential)).put(Value::Text(&format_duration(w.size_ms))).put(Value::Time(w.start)).put(Value::Time(w.end));
    row.put(Value::Int(w.calls as i64)).put(Value::Credits(w.credits)).put(Value::Int(w.tokens_in)).put(Value::Int(w.tokens_out));
    row.put(Value::Text(&caps)).put(Value::Int(w.distinct_models as i64));
}

/// Grants as JSON text, as the JSON Lines balance record has them.
fn grants_json(grants: &[GrantView]) -> String {
    let list: Vec<serde_json::Value> = grants
        .iter()
        .map(|g| serde_json::json!({"month": month_label(g.month), "amount": credits::format(g.amount), "remaining": credits::format(g.remaining), "expires": format_rfc3339(month_start(g.expires))}))
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// Appends one list of grants to a nested `grants` column.
fn append_grants(list: &mut ListBuilder<StructBuilder>, grants: &[GrantView]) {
    let members = list.values();
    for g in grants {
        if let Some(b) = members.field_builder::<StringBuilder>(0) {
            b.append_value(month_label(g.month));
        }
        for (i, c) in [(1, g.amount), (2, g.remaining)] {
            if let Some(b) = members.field_builder::<Decimal128Builder>(i) {
                b.append_value(c as i128);
            }
        }
        if let Some(b) = members.field_builder::<TimestampMillisecondBuilder>(3) {
            b.append_value(month_start(g.expires));
        }
        members.append(true);
    }
    list.append(true);
}

fn balance_row(row: &mut Row<'_>, b: &BalanceRecord) {
    row.put(Value::Text(&b.credential)).put(Value::Time(b.as_of)).put(Value::Text(&month_label(b.month)));
    for c in [b.available_at_start, b.banked_at_start, b.used, b.used_banked, b.remaining, b.overage, b.granted_total, b.burned_total, b.expired_total] {
        row.put(Value::Credits(c));
    }
    row.put(Value::Grants(&b.grants));
}

/// A finding's OCSF JSON, member by member: scalars typed, objects and arrays as JSON text.
fn finding_row(row: &mut Row<'_>, json: &str) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    for (name, kind, _) in layout(Stream::Findings) {
        let member = &v[*name];
        let text;
        let value = match (kind, member) {
            (_, serde_json::Value::Null) => Value::Null,
            (Kind::Time, m) => m.as_i64().map_or(Value::Null, Value::Time),
            (Kind::Bool, m) => m.as_bool().map_or(Value::Null, Value::Bool),
            (Kind::I32 | Kind::I64 | Kind::U64, m) => m.as_i64().map_or(Value::Null, Value::Int),
            (_, serde_json::Value::String(s)) => Value::Text(s),
            (_, m) => {
                text = m.to_string();
                Value::Text(&text)
            }
        };
        row.put(value);
    }
}

fn rejected_row(row: &mut Row<'_>, r: &RejectedRecord) {
    let key = r.key.as_deref().map(String::from_utf8_lossy);
    let value = r.value.as_deref().map(String::from_utf8_lossy);
    row.put(Value::Int(r.partition as i64)).put(Value::Int(r.offset)).put(r.line.map_or(Value::Null, |l| Value::Int(l as i64)));
    row.put(Value::Text(r.kind.as_str())).put(Value::Text(&r.reason));
    row.put(key.as_deref().map_or(Value::Null, Value::Text)).put(value.as_deref().map_or(Value::Null, Value::Text));
}

/// Where record batches go: a Parquet or CSV writer.
pub trait BatchWriter: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), String>;
    /// Makes what was written so far reach the underlying writer.
    fn flush(&mut self) -> Result<(), String>;
    /// Writes what ends the file (a Parquet footer); nothing may follow.
    fn close(&mut self) -> Result<(), String>;
}

/// A sink of one stream in a columnar format: rows gathered into batches of
/// [`BATCH_ROWS`], each handed to the format's writer.
pub struct Columnar<W: BatchWriter> {
    what: String,
    columns: Columns,
    out: W,
    closed: bool,
}

impl<W: BatchWriter> Columnar<W> {
    pub fn new(what: impl Into<String>, stream: Stream, nesting: Nesting, out: W) -> Columnar<W> {
        Columnar { what: what.into(), columns: Columns::new(stream, nesting), out, closed: false }
    }

    fn error(&self, reason: impl std::fmt::Display) -> super::SinkError {
        super::SinkError::Io { what: self.what.clone(), source: std::io::Error::other(reason.to_string()) }
    }

    fn write_batch(&mut self) -> Result<(), super::SinkError> {
        match self.columns.take_batch() {
            Ok(Some(batch)) => self.out.write(&batch).map_err(|e| self.error(e)),
            Ok(None) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }
}

impl<W: BatchWriter> super::Sink for Columnar<W> {
    fn write(&mut self, output: &Output) -> Result<(), super::SinkError> {
        if self.closed {
            return Err(self.error("the file is already complete"));
        }
        self.columns.push(output);
        if self.columns.rows() >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), super::SinkError> {
        if self.closed {
            return Ok(());
        }
        self.write_batch()?;
        self.out.flush().map_err(|e| self.error(e))
    }

    fn finish(&mut self) -> Result<(), super::SinkError> {
        if self.closed {
            return Ok(());
        }
        self.write_batch()?;
        self.closed = true;
        self.out.close().map_err(|e| self.error(e))
    }
}
