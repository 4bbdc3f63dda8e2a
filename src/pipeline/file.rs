//! File replay as a pipeline of threads with bounded queues (docs/architecture.md,
//! "The path of one record"):
//!
//! ```text
//! reader: read lines, decode, route ──▶ engine shard 0 (partitions p % S == 0) ──▶ merge in file
//!                                   ──▶ engine shard 1 ...                     ──▶ order, encode,
//!                                   ──▶ ...                                    ──▶ write (caller)
//! ```
//!
//! Input is cut into blocks of lines. Every block reaches every shard (each
//! takes the records of its partitions) and each shard answers every block,
//! so the merge puts the outputs of a block back in file order by record
//! index: the streams are byte-identical to a single thread whatever the
//! number of threads. At the end each shard closes its partitions; their
//! outputs are written in partition order, as a single engine writes them.

use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::{apply_record, apply_record_known, Decoded, InputRecord};
use super::partitioner::partition_for;
use crate::decode::{decode_usage_keyed, is_blank};
use crate::engine::output::Output;
use crate::engine::partition::Prefetch;
use crate::engine::{Engine, Stats};
use crate::sink::{SinkError, Sinks, Stream};

/// Lines per block handed between threads.
const BLOCK_LINES: usize = 2048;
/// Blocks in flight per queue.
const QUEUE: usize = 4;
/// Records between the stages of a credential's prefetch, and between the
/// last and its processing.
const PREFETCH_AHEAD: usize = 4;

/// Counts of one replay.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Input records (non-blank lines).
    pub records: u64,
    pub bytes: u64,
    /// Outputs per stream, indexed like `Stream::ALL`.
    pub outputs: [u64; 4],
    /// The engine's counters, summed over its shards.
    pub stats: Stats,
}

impl ReplaySummary {
    pub fn count(&self, stream: Stream) -> u64 {
        self.outputs[stream as usize]
    }
}

/// Why a file replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("reading the input: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A bug: an engine shard stopped unexpectedly; its outputs are incomplete.
    #[error("an engine thread of the replay stopped unexpectedly; the outputs are incomplete")]
    ShardFailed,
}

/// How to run a file replay.
#[derive(Debug, Clone, Copy)]
pub struct FileReplay {
    /// Partitions the input is split into (Kafka's default partitioner).
    pub partitions: i32,
    /// Threads: 1 runs everything on the calling thread; more run a reader,
    /// up to `threads` engine shards (never more than partitions), the
    /// caller's thread for merging and encoding, and a writer per output file.
    pub threads: usize,
}

/// One decoded record of a block: its index in the block, partition, line.
struct Item {
    index: u32,
    partition: i32,
    decoded: Decoded,
}

/// The outputs of one block from one shard, in emission order, and for each
/// record that had some its index in the block and how many.
#[derive(Default)]
struct OutBlock {
    outputs: Vec<Output>,
    records: Vec<(u32, u32)>,
}

/// Replays JSON Lines from `reader` through `engine` (entitlements loaded),
/// writing every output to `sinks` in emission order; then ends the input.
pub fn replay_file<R: BufRead + Send>(engine: Engine, how: FileReplay, reader: R, sinks: &mut Sinks, progress: impl FnMut(u64)) -> Result<ReplaySummary, ReplayError> {
    let partitions = how.partitions.max(1);
    let shards = if how.threads <= 1 { 0 } else { how.threads.min(partitions as usize) };
    if shards == 0 {
        return sequential(engine, partitions, reader, sinks, progress);
    }
    parallel(engine, partitions, shards, reader, sinks, progress)
}

/// The record lines of a JSON Lines input, numbered physically from 1, and
/// the bytes read (for progress). Public for `bursar explain`, which
/// replays a file record by record.
pub struct Lines<R> {
    reader: R,
    line_no: u64,
    bytes: u64,
    /// Bytes of the line returned last, still in the reader's buffer:
    /// consumed at the next call, once the caller is done with the line.
    pending: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Lines<R> {
        Lines { reader, line_no: 0, bytes: 0, pending: 0 }
    }

    /// The next record line and its line number; blank lines are skipped.
    /// A line wholly inside the reader's buffer (every line of a mapped
    /// file) is lent from there; one that crosses the buffer's end is
    /// gathered into `buf`.
    pub fn next<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> std::io::Result<Option<(u64, &'a [u8])>> {
        loop {
            self.reader.consume(std::mem::take(&mut self.pending));
            let found = loop {
                match self.reader.fill_buf() {
                    Ok(available) => break memchr::memchr(b'\n', available).map(|i| (i + 1, is_blank(trim_end(&available[..i + 1])))),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if let Some((n, blank)) = found {
                self.line_no += 1;
                self.bytes += n as u64;
                if blank {
                    self.reader.consume(n);
                    continue;
                }
                self.pending = n;
                // Still in the buffer: fill_buf returns it again without reading.
                let available = self.reader.fill_buf()?;
                return Ok(Some((self.line_no, trim_end(&available[..n]))));
            }
            buf.clear();
            let n = read_line(&mut self.reader, buf)?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            self.bytes += n as u64;
            if is_blank(trim_end(buf)) {
                continue;
            }
            return Ok(Some((self.line_no, trim_end(buf))));
        }
    }
}

/// `line` without its newline and a carriage return before it.
fn trim_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `BufRead::read_until(b'\n')`, with a vectorised search for the newline
/// (`memchr`; the standard library's searches a word at a time).
fn read_line<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (done, used) = match memchr::memchr(b'\n', available) {
            Some(i) => (true, i + 1),
            None => (available.is_empty(), available.len()),
        };
        buf.extend_from_slice(&available[..used]);
        reader.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

/// Decodes one line in one pass: its partition (from the raw credential, the
/// line's key) and the decoded record (offset 0: set by the engine).
pub fn decode_line(line: &[u8], line_no: u64, partitions: i32, max: usize) -> (i32, Decoded) {
    let d = decode_usage_keyed(line, &[], max);
    let key = d.key_hint.as_deref().map(str::as_bytes);
    let partition = if partitions == 1 { 0 } else { partition_for(key, partitions) };
    // A file line has no record timestamp: `max_event_lead` does not apply.
    let record = InputRecord { partition, offset: 0, line: Some(line_no), key, value: Some(line), headers: &[], timestamp: None };
    (partition, Decoded::of(&record, d.event))
}

fn count(summary: &mut ReplaySummary, o: &Output) {
    summary.outputs[Stream::of(o) as usize] += 1;
}

fn sequential<R: BufRead>(mut engine: Engine, partitions: i32, reader: R, sinks: &mut Sinks, mut progress: impl FnMut(u64)) -> Result<ReplaySummary, ReplayError> {
    let max = engine.config().max_value_bytes;
    let mut lines = Lines::new(reader);
    let mut offsets = vec![0i64; partitions as usize];
    let mut summary = ReplaySummary::default();
    let mut buf = Vec::with_capacity(1024);
    let mut out = Vec::with_capacity(16);
    while let Some((line_no, line)) = lines.next(&mut buf)? {
        let (partition, decoded) = decode_line(line, line_no, partitions, max);
        let offset = offsets[partition as usize];
        offsets[partition as usize] += 1;
        apply_record(&mut engine, partition, offset, decoded, &mut out);
        summary.records += 1;
        // By reference, then cleared: an output is not moved again to be written.
        for o in &out {
            count(&mut summary, o);
            sinks.write(o)?;
        }
        out.clear();
        if summary.records % 4096 == 0 {
            progress(lines.bytes);
        }
    }
    engine.finish(&mut out);
    for o in out.drain(..) {
        count(&mut summary, &o);
        sinks.write(&o)?;
    }
    sinks.flush()?;
    summary.bytes = lines.bytes;
    summary.stats = engine.stats().clone();
    progress(lines.bytes);
    Ok(summary)
}

/// The reader thread: blocks of decoded records, split by shard.
fn read_blocks<R: BufRead>(reader: R, partitions: i32, max: usize, to_shards: Vec<Sender<Vec<Item>>>, spare: Vec<Receiver<Vec<Item>>>, bytes: &AtomicU64, records: &AtomicU64) -> std::io::Result<()> {
    let shards = to_shards.len();
    let mut lines = Lines::new(reader);
    let mut buf = Vec::with_capacity(1024);
    loop {
        // Vectors the shards processed come back, so blocks reuse their
        // memory; their records are freed here, on the thread that made them.
        let mut parts: Vec<Vec<Item>> = spare
            .iter()
            .map(|rx| match rx.try_recv() {
                Ok(mut used) => {
                    used.clear();
                    used
                }
                Err(_) => Vec::with_capacity(BLOCK_LINES / shards + 16),
            })
            .collect();
        let mut n = 0u32;
        let mut done = false;
        while (n as usize) < BLOCK_LINES {
            let Some((line_no, line)) = lines.next(&mut buf)? else {
                done = true;
                break;
            };
            let (partition, decoded) = decode_line(line, line_no, partitions, max);
            parts[partition as usize % shards].push(Item { index: n, partition, decoded });
            n += 1;
        }
        records.fetch_add(u64::from(n), Ordering::Relaxed);
        bytes.store(lines.bytes, Ordering::Relaxed);
        if n > 0 {
            for (tx, part) in to_shards.iter().zip(parts) {
                if tx.send(part).is_err() {
                    return Ok(()); // the writer stopped; its error is reported
                }
            }
        }
        if done {
            return Ok(());
        }
    }
}

/// One engine shard: its partitions' records of every block, then their end.
struct ShardQueues {
    input: Receiver<Vec<Item>>,
    /// Processed input vectors back to the reader (which frees their records).
    input_back: Sender<Vec<Item>>,
    output: Sender<OutBlock>,
    /// Emptied answer vectors back from the writer.
    output_back: Receiver<OutBlock>,
}

fn run_shard(mut engine: Engine, partitions: i32, shard: usize, shards: usize, q: ShardQueues) -> (Stats, Vec<(i32, Vec<Output>)>) {
    let mut offsets = vec![0i64; partitions as usize];
    let mut out = Vec::new();
    let mut ahead = Vec::with_capacity(BLOCK_LINES);
    for block in q.input.iter() {
        let mut answer = q.output_back.try_recv().unwrap_or_else(|_| OutBlock { outputs: Vec::with_capacity(block.len() * 4), records: Vec::with_capacity(block.len()) });
        // The block's known credentials, looked up together so their cache
        // misses overlap; each is prefetched a few records before its turn.
        ahead.clear();
        ahead.extend(block.iter().map(|i| match &i.decoded {
            Decoded::Event(e) => engine.id_of(i.partition, &e.credential).map(|id| (i.partition, id)),
            Decoded::Rejected(_) => None,
        }));
        for (j, item) in block.iter().enumerate() {
            for (stage, distance) in [(Prefetch::Slot, 3 * PREFETCH_AHEAD), (Prefetch::State, 2 * PREFETCH_AHEAD), (Prefetch::Rules, PREFETCH_AHEAD)] {
                if let Some(Some((p, id))) = ahead.get(j + distance) {
                    engine.prefetch(*p, *id, stage);
                }
            }
            let offset = offsets[item.partition as usize];
            offsets[item.partition as usize] += 1;
            let before = answer.outputs.len();
            let known = ahead.get(j).copied().flatten().map(|(_, id)| id);
            apply_record_known(&mut engine, item.partition, offset, &item.decoded, known, &mut answer.outputs);
            let n = (answer.outputs.len() - before) as u32;
            if n > 0 {
                answer.records.push((item.index, n));
            }
        }
        let _ = q.input_back.try_send(block);
        if q.output.send(answer).is_err() {
            break;
        }
    }
    let mut ends = Vec::new();
    for p in (0..partitions).filter(|p| *p as usize % shards == shard) {
        engine.finish_partition(p, &mut out);
        ends.push((p, std::mem::take(&mut out)));
    }
    (engine.stats().clone(), ends)
}

fn parallel<R: BufRead + Send>(engine: Engine, partitions: i32, shards: usize, reader: R, sinks: &mut Sinks, mut progress: impl FnMut(u64)) -> Result<ReplaySummary, ReplayError> {
    let max = engine.config().max_value_bytes;
    let bytes = AtomicU64::new(0);
    let records = AtomicU64::new(0);
    let mut summary = ReplaySummary::default();
    std::thread::scope(|scope| -> Result<(), ReplayError> {
        let (mut to_shards, mut from_shards, mut handles, mut spare_in, mut back_out) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for shard in 0..shards {
            let (tx_in, rx_in) = bounded::<Vec<Item>>(QUEUE);
            let (tx_in_back, rx_in_back) = bounded::<Vec<Item>>(QUEUE + 2);
            let (tx_out, rx_out) = bounded::<OutBlock>(QUEUE);
            let (tx_out_back, rx_out_back) = bounded::<OutBlock>(QUEUE + 2);
            let shard_engine = engine.fresh_copy();
            let q = ShardQueues { input: rx_in, input_back: tx_in_back, output: tx_out, output_back: rx_out_back };
            let thread = std::thread::Builder::new().name(format!("bursar-engine-{shard}"));
            handles.push(thread.spawn_scoped(scope, move || run_shard(shard_engine, partitions, shard, shards, q)).map_err(ReplayError::Read)?);
            to_shards.push(tx_in);
            spare_in.push(rx_in_back);
            from_shards.push(rx_out);
            back_out.push(tx_out_back);
        }
        let (bytes, records) = (&bytes, &records);
        let reader = std::thread::Builder::new().name("bursar-read".into()).spawn_scoped(scope, move || read_blocks(reader, partitions, max, to_shards, spare_in, bytes, records)).map_err(ReplayError::Read)?;
        let mut written = Ok(());
        'blocks: loop {
            let mut blocks = Vec::with_capacity(shards);
            for rx in &from_shards {
                match rx.recv() {
                    Ok(b) => blocks.push(b),
                    Err(_) => break 'blocks, // input ended
                }
            }
            let mut write = |o: &Output| {
                count(&mut summary, o);
                sinks.write(o)
            };
            if let Err(e) = merge(&mut blocks, &mut write) {
                written = Err(e);
                break 'blocks;
            }
            for (block, back) in blocks.into_iter().zip(&back_out) {
                let _ = back.try_send(block);
            }
            progress(bytes.load(Ordering::Relaxed));
        }
        drop(from_shards);
        let read = reader.join().unwrap_or_else(|_| Err(std::io::Error::other("the reader thread panicked")));
        let mut ends: Vec<(i32, Vec<Output>)> = Vec::new();
        let mut failed = false;
        for h in handles {
            match h.join() {
                Ok((stats, end)) => {
                    summary.stats.add(&stats);
                    ends.extend(end);
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            return Err(ReplayError::ShardFailed);
        }
        written?;
        read?;
        ends.sort_by_key(|(p, _)| *p);
        for o in ends.into_iter().flat_map(|(_, outs)| outs) {
            count(&mut summary, &o);
            sinks.write(&o)?;
        }
        sinks.flush()?;
        Ok(())
    })?;
    summary.records = records.load(Ordering::Relaxed);
    summary.bytes = bytes.load(Ordering::Relaxed);
    progress(summary.bytes);
    Ok(summary)
}

/// Writes the shards' answers to one block in record order (a record's
/// outputs all come from one shard, in emission order), emptying them.
fn merge(blocks: &mut [OutBlock], write: &mut impl FnMut(&Output) -> Result<(), SinkError>) -> Result<(), SinkError> {
    if let [only] = blocks {
        for o in &only.outputs {
            write(o)?;
        }
        only.outputs.clear();
        only.records.clear();
        return Ok(());
    }
    // Per shard: the next record to write, and where its outputs start.
    let mut heads = vec![(0usize, 0usize); blocks.len()];
    loop {
        let next = (0..blocks.len()).filter(|s| heads[*s].0 < blocks[*s].records.len()).min_by_key(|s| blocks[*s].records[heads[*s].0].0);
        let Some(s) = next else { break };
        let (record, start) = heads[s];
        let n = blocks[s].records[record].1 as usize;
        for o in &blocks[s].outputs[start..start + n] {
            write(o)?;
        }
        heads[s] = (record + 1, start + n);
    }
    for b in blocks.iter_mut() {
        b.outputs.clear();
        b.records.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Across buffer boundaries, with and without a final newline: the
        /// same lines, bytes and line numbers as `read_until`.
        #[test]
        fn lines_are_read_as_read_until_reads_them(text in "[ab\r\n]{0,200}", capacity in 1usize..40) {
            let mut ours = Vec::new();
            let mut lines = Lines::new(std::io::BufReader::with_capacity(capacity, text.as_bytes()));
            let mut buf = Vec::new();
            while let Some((no, line)) = lines.next(&mut buf).unwrap() {
                ours.push((no, line.to_vec()));
            }
            prop_assert_eq!(lines.bytes, text.len() as u64);
            let mut expected = Vec::new();
            for (i, line) in text.as_bytes().split_inclusive(|b| *b == b'\n').enumerate() {
                let line = line.strip_suffix(b"\n").unwrap_or(line);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !is_blank(line) {
                    expected.push((i as u64 + 1, line.to_vec()));
                }
            }
            prop_assert_eq!(ours, expected);
        }
    }
}
