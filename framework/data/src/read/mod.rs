//! Records out of files: one reader per format, each giving the texts as written, their
//! labels, splits and ids where the file has them, and the records it could not read.

pub(crate) mod fasta;
mod jsonl;
mod lines;
mod table;

use crate::config::{Columns, DataConfig, Format};
use crate::source::{Role, SourceFile};
use crate::split::SplitName;
use crate::DataError;

/// One text as the file has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The text, as written.
    pub text: String,
    /// Its label, if the file gives one.
    pub label: Option<String>,
    /// Its split, if the file gives one.
    pub split: Option<SplitName>,
    /// Its id, if the file gives one.
    pub id: Option<String>,
    /// The 1-based line where it starts.
    pub line: usize,
}

/// A record that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The 1-based line where it starts.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// What one file holds.
#[derive(Debug, Clone, Default)]
pub struct FileRecords {
    /// The records read, in file order.
    pub records: Vec<Record>,
    /// The records that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Why the file gives no labels, when it gives none.
    pub unlabeled: Option<String>,
}

/// The records of `file`.
pub fn read(file: &SourceFile, config: &DataConfig) -> Result<FileRecords, DataError> {
    let bytes = file.bytes()?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut out = match file.format {
        Format::Lines | Format::Auto => lines::read(bytes),
        Format::Fasta => fasta::read(file, bytes, &config.fasta)?,
        Format::Csv => table::read(file, bytes, b',', &config.columns)?,
        Format::Tsv => table::read(file, bytes, b'\t', &config.columns)?,
        Format::Jsonl => jsonl::read(file, bytes, &config.columns)?,
    };
    if let (true, Some(first)) = (out.records.is_empty(), out.unreadable.first()) {
        return Err(DataError::NothingReadable {
            path: file.path.clone(),
            line: first.line,
            reason: first.reason.clone(),
            format: file.format.name(),
        });
    }
    if out.records.is_empty() {
        return Err(DataError::EmptyFile(file.path.clone()));
    }
    match &file.role {
        Role::Class(label) => {
            for r in &mut out.records {
                r.label = Some(label.clone());
            }
            out.unlabeled = None;
        }
        Role::Split(split) => {
            for r in &mut out.records {
                r.split = Some(*split);
            }
        }
        Role::Mixed => {}
    }
    Ok(out)
}

/// The columns (or keys) a table or JSON reader looks for, with whether the user named
/// them (a named column must be there; a default one may be absent).
pub(crate) struct Wanted<'a> {
    pub text: (&'a str, bool),
    pub label: (&'a str, bool),
    pub split: (&'a str, bool),
    pub id: (&'a str, bool),
}

impl<'a> Wanted<'a> {
    pub fn new(columns: &'a Columns) -> Self {
        let pick = |named: &'a Option<String>, default: &'a str| match named {
            Some(name) => (name.as_str(), true),
            None => (default, false),
        };
        Self {
            text: pick(&columns.text, "text"),
            label: pick(&columns.label, "label"),
            split: pick(&columns.split, "split"),
            id: pick(&columns.id, "id"),
        }
    }
}

/// The split a cell names, or `None` for a value that is no split.
pub(crate) fn split_value(value: &str) -> Option<SplitName> {
    match value.trim().to_lowercase().as_str() {
        "train" | "training" => Some(SplitName::Train),
        "valid" | "validation" | "val" | "dev" => Some(SplitName::Valid),
        "test" | "testing" => Some(SplitName::Test),
        _ => None,
    }
}

/// The 1-based line of every byte offset's line start, for readers that find records
/// by offset.
pub(crate) fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Lines of `bytes` with their 1-based numbers, without their `\n` or `\r\n` (a final
/// line end starts no line).
pub(crate) fn split_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let lines = (!bytes.is_empty()).then(|| body.split(|&b| b == b'\n'));
    lines
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
}
