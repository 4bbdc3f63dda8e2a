//! Output files written under a temporary name in their own directory and
//! renamed to their final name only when complete (README.md, "Outputs"):
//! an error or an interruption mid-replay leaves no half-written file under
//! the final name, and an existing file there stays as it was.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{Sink, SinkError};
use crate::engine::output::Output;

/// A file being written under a temporary name beside its destination.
/// Dropped before [`StagedFile::commit`], the temporary file is removed.
#[derive(Debug)]
pub struct StagedFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl StagedFile {
    /// Creates `.NAME.partial-PID` in `dest`'s directory.
    pub fn create(dest: &Path) -> std::io::Result<(StagedFile, File)> {
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "output".into());
        let tmp = dest.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let file = File::create(&tmp)?;
        Ok((StagedFile { tmp, dest: dest.to_path_buf(), committed: false }, file))
    }

    /// The temporary path (while the file is incomplete).
    pub fn partial_path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the temporary file to its destination.
    pub fn commit(&mut self) -> std::io::Result<()> {
        if !self.committed {
            std::fs::rename(&self.tmp, &self.dest)?;
            self.committed = true;
        }
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A sink whose file gets its final name on `finish`. A sink dropped right
/// after a successful `flush` (nothing written since; the end of every
/// replay) is finished then too, so callers that only flush still get their
/// file; one dropped in any other state (an error, a write not flushed)
/// leaves nothing under the final name.
pub struct Staged {
    inner: Box<dyn Sink>,
    file: StagedFile,
    /// Flushed successfully with nothing written since.
    clean: bool,
}

impl Staged {
    pub fn new(inner: Box<dyn Sink>, file: StagedFile) -> Staged {
        Staged { inner, file, clean: false }
    }

    fn what(&self) -> String {
        self.file.dest.display().to_string()
    }
}

impl Sink for Staged {
    fn write(&mut self, output: &Output) -> Result<(), SinkError> {
        self.clean = false;
        self.inner.write(output)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.clean = false;
        self.inner.flush()?;
        self.clean = true;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.clean = false;
        self.inner.finish()?;
        self.file.commit().map_err(|source| SinkError::Io { what: self.what(), source })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.clean && !self.file.committed {
            if let Err(e) = self.finish() {
                eprintln!("bursar: error: {e}; {} was not written", self.what());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::tests::rejected;
    use crate::sink::JsonLines;

    fn staged(dest: &Path) -> (Staged, PathBuf) {
        let (file, f) = StagedFile::create(dest).unwrap();
        let partial = file.partial_path().to_path_buf();
        (Staged::new(Box::new(JsonLines::new("t", Box::new(f))), file), partial)
    }

    #[test]
    fn a_file_appears_under_its_name_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("rejected.jsonl");
        let (mut s, partial) = staged(&dest);
        s.write(&rejected()).unwrap();
        assert!(partial.exists() && !dest.exists());
        s.finish().unwrap();
        assert!(!partial.exists());
        assert_eq!(std::fs::read_to_string(&dest).unwrap().lines().count(), 1);
    }

    #[test]
    fn a_sink_dropped_mid_write_leaves_the_old_file_and_no_partial_one() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("rejected.jsonl");
        std::fs::write(&dest, "old\n").unwrap();
        let (mut s, partial) = staged(&dest);
        s.write(&rejected()).unwrap();
        drop(s);
        assert!(!partial.exists());
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old\n");
    }

    #[test]
    fn a_sink_dropped_right_after_a_flush_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("rejected.jsonl");
        let (mut s, _) = staged(&dest);
        s.write(&rejected()).unwrap();
        s.flush().unwrap();
        drop(s);
        assert_eq!(std::fs::read_to_string(&dest).unwrap().lines().count(), 1);
    }
}
