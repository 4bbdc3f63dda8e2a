//! A replay's input file read through a memory map (docs/architecture.md,
//! "The path of one record, replayed"): `Lines` lends each line from the
//! page cache, so its bytes are not copied twice first (by the kernel into a
//! read buffer, then into a line buffer). Anything that cannot be mapped (a
//! pipe, an empty or special file) is read through a plain buffered reader
//! instead; the lines, and so the outputs, are the same either way.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

/// A whole file, mapped read-only, read from the front.
pub struct MappedInput {
    map: memmap2::Mmap,
    pos: usize,
}

impl MappedInput {
    /// `file` mapped, or None when it cannot be (not a regular file, empty,
    /// or the map refused).
    pub fn map(file: &File) -> Option<MappedInput> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() == 0 {
            return None;
        }
        // SAFETY: the map is read-only and private to this process. Were the
        // file truncated by another process while it is replayed, a read past
        // its new end would stop the process (SIGBUS), as with ripgrep and
        // other mapping readers; docs/architecture.md names this.
        let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
        // Read once, front to back: the kernel may read ahead and drop behind.
        let _ = map.advise(memmap2::Advice::Sequential);
        Some(MappedInput { map, pos: 0 })
    }
}

impl Read for MappedInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (&self.map[self.pos..]).read(buf)?;
        self.pos += n;
        Ok(n)
    }
}

impl BufRead for MappedInput {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.map[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.map.len());
    }
}

/// The reader of a replay's input file: mapped when it can be, else buffered.
pub fn open_input(file: File) -> Box<dyn BufRead + Send> {
    match MappedInput::map(&file) {
        Some(mapped) => Box::new(mapped),
        None => Box::new(BufReader::with_capacity(1 << 16, file)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Lines;
    use proptest::prelude::*;
    use std::io::Write;

    fn lines_of(reader: impl BufRead) -> Vec<(u64, Vec<u8>)> {
        let mut lines = Lines::new(reader);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match lines.next(&mut buf).expect("read") {
                Some((n, line)) => out.push((n, line.to_vec())),
                None => return out,
            }
        }
    }

    proptest! {
        /// A mapped file gives the same numbered lines as a buffered reader
        /// of it (blank lines, CR LF, a last line without a newline).
        #[test]
        fn a_mapped_file_reads_the_same_lines_as_a_buffered_one(parts in prop::collection::vec(prop::sample::select(vec![&b"{\"a\":1}"[..], b"\n", b"\r\n", b" ", b"x", b"\r"]), 0..60)) {
            let text: Vec<u8> = parts.concat();
            let mut tmp = tempfile::NamedTempFile::new().expect("temp file");
            tmp.write_all(&text).expect("write");
            tmp.flush().expect("flush");
            let file = File::open(tmp.path()).expect("open");
            let mapped = MappedInput::map(&file);
            prop_assert_eq!(mapped.is_some(), !text.is_empty(), "an empty file is not mapped");
            let expected = lines_of(BufReader::with_capacity(3, text.as_slice()));
            prop_assert_eq!(lines_of(open_input(file)), expected);
        }
    }

    #[test]
    fn a_pipe_is_read_through_a_buffer() {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        writer.write_all(b"{\"a\":1}\n\n{\"b\":2}").expect("write");
        drop(writer);
        let file = File::from(std::os::fd::OwnedFd::from(reader));
        assert!(MappedInput::map(&file).is_none());
        assert_eq!(lines_of(open_input(file)), vec![(1, b"{\"a\":1}".to_vec()), (3, b"{\"b\":2}".to_vec())]);
    }
}
