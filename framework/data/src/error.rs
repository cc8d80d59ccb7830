//! What stops a user's data from being read, each with what to do.

use std::path::PathBuf;

/// Data that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A `[data]` field holds a value it may not.
    #[error("invalid value for `{field}`: {reason}")]
    Invalid {
        /// The dotted field (`data.min_len`).
        field: String,
        /// What is wrong and what would do.
        reason: String,
    },
    /// Nothing is at the path, or it is the wrong kind of thing.
    #[error("no data at {path} ({field}): {reason}")]
    Missing {
        /// The path as resolved.
        path: PathBuf,
        /// The field that named it.
        field: &'static str,
        /// What was expected there and what to do.
        reason: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file holds no record at all.
    #[error("{0} is empty: every class file needs at least one text")]
    EmptyFile(PathBuf),
    /// A file holds records, and none reads.
    #[error("{path} has no readable record: line {line}, {reason} (is it text in UTF-8 of the format it is read as, {format}?)")]
    NothingReadable {
        /// The file.
        path: PathBuf,
        /// The first unreadable record's line.
        line: usize,
        /// Why it does not read.
        reason: String,
        /// The format it was read as.
        format: &'static str,
    },
    /// A file's layout is not what its format needs (a missing column, no header).
    #[error("{path}: {reason}")]
    Layout {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to set.
        reason: String,
    },
    /// A record names a split that does not exist.
    #[error("{path}, line {line}: split {value:?} is none of train, valid (or validation, dev), test: fix the value, or name another column with data.columns.split")]
    BadSplit {
        /// The file.
        path: PathBuf,
        /// The 1-based line where the record starts.
        line: usize,
        /// The value found.
        value: String,
    },
    /// The filters kept nothing.
    #[error("no text of {origin} was kept ({why}): see `xp data` for what was dropped and why")]
    NothingKept {
        /// Where the texts were read.
        origin: String,
        /// The counts by reason.
        why: String,
    },
    /// The corpus built into the binary does not unpack.
    #[error(transparent)]
    Embedded(#[from] xp_corpus::UnpackError),
}
