//! An event file open for appending: events are framed as records, buffered, and
//! reach the disk at [`EventWriter::flush`]. A file is only ever appended to or cut
//! back to a whole record, so a reader sees every record written before a crash.

use crate::event;
use crate::proto::Message;
use crate::record::{frame, records};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// An event file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} TensorBoard event file {path}: {source}")]
pub struct EventFileError {
    /// `read` or `write`.
    pub action: &'static str,
    /// The file.
    pub path: PathBuf,
    /// The cause.
    pub source: std::io::Error,
}

/// Appends events to one file.
pub struct EventWriter {
    file: BufWriter<File>,
    path: PathBuf,
    len: u64,
}

impl EventWriter {
    /// Starts `path` afresh with its version record.
    pub fn create(path: &Path) -> Result<Self, EventFileError> {
        let file = File::create(path).map_err(|e| error("write", path, e))?;
        let mut writer = Self::wrap(file, path, 0);
        writer.write_record(&event::file_version(now()))?;
        writer.flush()?;
        Ok(writer)
    }

    /// Opens `path` to go on from where it stood when it was `len` bytes long: what was
    /// written later (after a run's last resume point, before it stopped) is cut off, to
    /// be written again, and so is anything from the first damaged record on. A missing
    /// file, or no whole record within `len`, starts afresh.
    pub fn resume(path: &Path, len: u64) -> Result<Self, EventFileError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Self::create(path),
            Err(e) => return Err(error("read", path, e)),
        };
        let mut kept = 0u64;
        for (framed, _) in records(&bytes) {
            let end = kept + framed.len() as u64;
            if end > len {
                break;
            }
            kept = end;
        }
        if kept == 0 {
            return Self::create(path);
        }
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| error("write", path, e))?;
        file.set_len(kept).map_err(|e| error("write", path, e))?;
        Self::open_end(file, path, kept)
    }

    /// Opens `path` to add events after its last record (creating it when missing).
    pub fn append(path: &Path) -> Result<Self, EventFileError> {
        if !path.exists() {
            return Self::create(path);
        }
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| error("write", path, e))?;
        let len = file.metadata().map_err(|e| error("read", path, e))?.len();
        Self::open_end(file, path, len)
    }

    fn open_end(mut file: File, path: &Path, len: u64) -> Result<Self, EventFileError> {
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(len))
            .map_err(|e| error("write", path, e))?;
        Ok(Self::wrap(file, path, len))
    }

    fn wrap(file: File, path: &Path, len: u64) -> Self {
        Self {
            file: BufWriter::new(file),
            path: path.to_path_buf(),
            len,
        }
    }

    /// The file's length once everything written is flushed: what
    /// [`EventWriter::resume`] takes to go on from here.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing, not even the version record, is written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one event at `step` with `values` (see [`crate::event`] and
    /// [`crate::hparams`] for what they can be).
    pub fn write(&mut self, step: u64, values: Vec<Message>) -> Result<(), EventFileError> {
        self.write_record(&event::summary(now(), step, values))
    }

    /// Writes one event at `step` with a scalar per `(tag, value)`.
    pub fn scalars<'a>(
        &mut self,
        step: u64,
        values: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Result<(), EventFileError> {
        let values = values
            .into_iter()
            .map(|(tag, v)| event::scalar(tag, v as f32))
            .collect();
        self.write(step, values)
    }

    fn write_record(&mut self, data: &[u8]) -> Result<(), EventFileError> {
        let record = frame(data);
        self.file
            .write_all(&record)
            .map_err(|e| error("write", &self.path, e))?;
        self.len += record.len() as u64;
        Ok(())
    }

    /// Hands the buffered records to the system.
    pub fn flush(&mut self) -> Result<(), EventFileError> {
        self.file.flush().map_err(|e| error("write", &self.path, e))
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        // Errors surface through `flush`; a writer dropped on an error path keeps what
        // it can.
        let _ = self.file.flush();
    }
}

fn error(action: &'static str, path: &Path, source: std::io::Error) -> EventFileError {
    EventFileError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Seconds since the Unix epoch, as events state their wall time.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::read_varint_field;

    fn steps(path: &Path) -> Vec<Option<u64>> {
        let bytes = std::fs::read(path).expect("read");
        records(&bytes)
            .into_iter()
            .map(|(_, data)| read_varint_field(data, event::STEP_FIELD))
            .collect()
    }

    #[test]
    fn a_resumed_file_drops_what_was_written_after_its_length_was_taken(
    ) -> Result<(), EventFileError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.out.tfevents.test");
        let mut writer = EventWriter::create(&path)?;
        writer.scalars(10, [("loss", 0.1)])?;
        writer.scalars(20, [("loss", 0.05)])?;
        writer.flush()?;
        let at_20 = writer.len();
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), at_20);
        writer.scalars(20, [("best/loss", 0.05)])?;
        writer.scalars(30, [("loss", 0.01)])?;
        drop(writer);
        let mut writer = EventWriter::resume(&path, at_20)?;
        writer.scalars(30, [("loss", 0.5)])?;
        writer.flush()?;
        assert_eq!(steps(&path), [None, Some(10), Some(20), Some(30)]);
        // A record cut short by a kill is dropped with what follows it.
        let len = std::fs::metadata(&path).expect("stat").len();
        let file = OpenOptions::new().write(true).open(&path).expect("open");
        file.set_len(len - 5).expect("truncate");
        let mut writer = EventWriter::resume(&path, len)?;
        writer.scalars(40, [("loss", 0.25)])?;
        drop(writer);
        assert_eq!(steps(&path), [None, Some(10), Some(20), Some(40)]);
        Ok(())
    }

    #[test]
    fn append_adds_after_the_last_record_and_creates_a_missing_file() -> Result<(), EventFileError>
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.out.tfevents.test");
        EventWriter::append(&path)?.scalars(1, [("a", 1.0)])?;
        EventWriter::append(&path)?.scalars(2, [("a", 2.0)])?;
        assert_eq!(steps(&path), [None, Some(1), Some(2)]);
        Ok(())
    }
}
