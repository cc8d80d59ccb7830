//! `[data]`: where the texts are, how they become tokens, what is kept, how they split.
//!
//! Fields left unset take the reference's values on the corpus built into xp (folded to
//! ASCII, names of 4..=11 characters, the whole corpus's alphabet) and neutral values on
//! a user's own data (every character as written, every length, the training split's
//! alphabet): see [`DataConfig::reading`].

use crate::DataError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use xp_format::{Form, Normalization, TokenUnit};

/// `[data]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// A folder with one file per class (its name without the extension is the label),
    /// one text per line (FASTA files: one record per sequence). Every file is read
    /// but hidden ones, which are listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// A glob of class files (`words/*.txt`), read as `dir`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<String>,
    /// One file of every text: CSV, TSV, FASTA, JSONL, or plain lines (`format`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The training texts, when the split is the user's own: with `valid_file` and
    /// `test_file`, each of the same format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_file: Option<PathBuf>,
    /// The validation texts of the user's own split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_file: Option<PathBuf>,
    /// The test texts of the user's own split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_file: Option<PathBuf>,
    /// Read the corpus built into xp: what a run records when it read no file.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub embedded: bool,
    /// How files are read: `auto` (from each file's extension), `lines`, `csv`, `tsv`,
    /// `fasta` or `jsonl`.
    #[serde(skip_serializing_if = "Format::is_auto")]
    pub format: Format,
    /// The columns (CSV, TSV) or keys (JSONL) of the text, label, split and id.
    #[serde(skip_serializing_if = "Columns::is_default")]
    pub columns: Columns,
    /// Where a FASTA header holds the label.
    #[serde(skip_serializing_if = "FastaConfig::is_default")]
    pub fasta: FastaConfig,
    /// `none`, `nfc`, `nfkc` or `ascii` (the reference's folding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalize: Option<Form>,
    /// Lower-case every text (after `normalize`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lowercase: bool,
    /// `chars` (one token per Unicode scalar value) or `graphemes` (per grapheme
    /// cluster).
    #[serde(skip_serializing_if = "is_chars")]
    pub tokens: TokenUnit,
    /// `train`: the training split's tokens and `[UNK]` for any other; `all`: every
    /// kept text's tokens, validation and test included, no `[UNK]` (the reference's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alphabet: Option<Alphabet>,
    /// Shortest kept text, in tokens after normalisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_len: Option<usize>,
    /// Longest kept text, in tokens; unset on a user's data: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
    /// What a text longer than `max_len` becomes: `drop` or `truncate` (its first
    /// `max_len` tokens); counted either way.
    #[serde(skip_serializing_if = "TooLong::is_drop")]
    pub too_long: TooLong,
    /// Later copies of a text under the same label: `keep` or `drop`; counted either way.
    #[serde(skip_serializing_if = "Policy::is_keep")]
    pub duplicates: Policy,
    /// Every copy of a text found under two or more labels: `keep` or `drop`.
    #[serde(skip_serializing_if = "Policy::is_keep")]
    pub conflicts: Policy,
    /// Fraction of the non-test texts for validation (a split of xp's own).
    pub valid: f64,
    /// Fraction of all texts for test (a split of xp's own).
    pub test: f64,
    /// Keep each distinct text on one side of xp's own split.
    pub dedup: bool,
}

fn is_chars(unit: &TokenUnit) -> bool {
    *unit == TokenUnit::Chars
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dir: None,
            files: None,
            path: None,
            train_file: None,
            valid_file: None,
            test_file: None,
            embedded: false,
            format: Format::Auto,
            columns: Columns::default(),
            fasta: FastaConfig::default(),
            normalize: None,
            lowercase: false,
            tokens: TokenUnit::Chars,
            alphabet: None,
            min_len: None,
            max_len: None,
            too_long: TooLong::Drop,
            duplicates: Policy::Keep,
            conflicts: Policy::Keep,
            valid: 0.1,
            test: 0.1,
            dedup: false,
        }
    }
}

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// From the extension: `.csv`, `.tsv`/`.tab`, `.fasta`/`.fa`/`.faa`/`.fna`/`.fas`,
    /// `.jsonl`/`.ndjson`; anything else is plain lines.
    #[default]
    Auto,
    /// One text per line.
    Lines,
    /// Comma-separated with a header row.
    Csv,
    /// Tab-separated with a header row.
    Tsv,
    /// FASTA: `>header` lines, each followed by its sequence over one or more lines.
    Fasta,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    fn is_auto(&self) -> bool {
        *self == Self::Auto
    }

    /// The format of `path`: this one, or for `auto` the one its extension says.
    pub fn of(self, path: &Path) -> Self {
        if self != Self::Auto {
            return self;
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" => Self::Csv,
            "tsv" | "tab" => Self::Tsv,
            "fasta" | "fa" | "faa" | "fna" | "fas" | "ffn" => Self::Fasta,
            "jsonl" | "ndjson" => Self::Jsonl,
            _ => Self::Lines,
        }
    }

    /// Its name in an experiment file.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Lines => "lines",
            Self::Csv => "csv",
            Self::Tsv => "tsv",
            Self::Fasta => "fasta",
            Self::Jsonl => "jsonl",
        }
    }
}

/// `[data.columns]`: column names (CSV, TSV) or keys (JSONL).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Columns {
    /// The text; default `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The label; default `label`, and a file without that column is unlabeled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The split (`train`, `valid`, `test`); default `split`, used where present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// An id carried into the test predictions; default `id`, used where present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Columns {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// `[data.fasta]`: where a header holds the label (a FASTA file of its own; in a class
/// folder the file names the class). The id is the header's first word.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct FastaConfig {
    /// The label is this field of the header (1-based, after `>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_field: Option<usize>,
    /// What separates the header's fields: default any whitespace (`"|"` for UniProt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
    /// The label is the first capture group of this regular expression on the header
    /// (`"OS=(.+?) OX="`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_pattern: Option<String>,
}

impl FastaConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the header gives labels.
    pub fn labels(&self) -> bool {
        self.label_field.is_some() || self.label_pattern.is_some()
    }
}

/// Which texts the alphabet is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alphabet {
    /// The training split's tokens, and `[UNK]` for any other.
    Train,
    /// Every kept text's tokens, validation and test included; no `[UNK]`.
    All,
}

/// What a text longer than `max_len` becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TooLong {
    /// It is dropped.
    #[default]
    Drop,
    /// It keeps its first `max_len` tokens.
    Truncate,
}

impl TooLong {
    fn is_drop(&self) -> bool {
        *self == Self::Drop
    }
}

/// Keep or drop what a rule finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Kept (and counted).
    #[default]
    Keep,
    /// Dropped (and counted).
    Drop,
}

impl Policy {
    fn is_keep(&self) -> bool {
        *self == Self::Keep
    }
}

/// The settings that differ between the corpus built into xp and a user's data, as
/// they apply to this experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// How texts become tokens.
    pub normalization: Normalization,
    /// Which texts the alphabet is made of.
    pub alphabet: Alphabet,
    /// Shortest kept text, in tokens.
    pub min_len: usize,
    /// Longest kept text, in tokens (`None`: no limit).
    pub max_len: Option<usize>,
}

/// The keys of `[data]` that hold paths of files to read.
pub const PATH_KEYS: [&str; 6] = [
    "dir",
    "files",
    "path",
    "train_file",
    "valid_file",
    "test_file",
];

impl DataConfig {
    /// True when no file is named: the corpus built into xp is read.
    pub fn reads_embedded(&self) -> bool {
        self.dir.is_none()
            && self.files.is_none()
            && self.path.is_none()
            && self.train_file.is_none()
    }

    /// The settings in force: those the experiment states, the reference's for the
    /// corpus built into xp, neutral ones for a user's data.
    pub fn reading(&self) -> Reading {
        let (form, alphabet, min_len, max_len) = match self.reads_embedded() {
            true => (Form::Ascii, Alphabet::All, 4, Some(11)),
            false => (Form::None, Alphabet::Train, 1, None),
        };
        Reading {
            normalization: Normalization {
                form: self.normalize.unwrap_or(form),
                lowercase: self.lowercase,
                tokens: self.tokens,
            },
            alphabet: self.alphabet.unwrap_or(alphabet),
            min_len: self.min_len.unwrap_or(min_len),
            max_len: self.max_len.or(max_len),
        }
    }

    /// States every setting [`DataConfig::reading`] fills in, so that the experiment a
    /// run records reads the same way whatever the defaults of a later xp.
    pub fn settle(&mut self) {
        let reading = self.reading();
        self.normalize = Some(reading.normalization.form);
        self.alphabet = Some(reading.alphabet);
        self.min_len = Some(reading.min_len);
        self.max_len = reading.max_len;
        if self.reads_embedded() {
            self.embedded = true;
        }
    }

    /// What an experiment recorded by an xp older than these settings meant: texts
    /// folded to ASCII over the whole corpus's alphabet, the only way it read them.
    pub fn as_recorded_before_normalization(&mut self) {
        if self.normalize.is_none() {
            self.normalize = Some(Form::Ascii);
            self.alphabet.get_or_insert(Alphabet::All);
        }
    }

    /// Checks what the types cannot; an error names the field.
    pub fn validate(&self) -> Result<(), DataError> {
        let invalid = |field: &str, reason: String| DataError::Invalid {
            field: format!("data.{field}"),
            reason,
        };
        let named: Vec<&str> = [
            ("dir", self.dir.is_some()),
            ("files", self.files.is_some()),
            ("path", self.path.is_some()),
            ("train_file", self.train_file.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        if named.len() > 1 {
            return Err(invalid(
                named[1],
                format!(
                    "data.{} and data.{} name two sources: keep one",
                    named[0], named[1]
                ),
            ));
        }
        if self.embedded && !named.is_empty() {
            return Err(invalid(
                "embedded",
                format!(
                    "data.{} and data.embedded = true name two corpora: keep one",
                    named[0]
                ),
            ));
        }
        if self.train_file.is_none() {
            if let Some(field) = [
                ("valid_file", &self.valid_file),
                ("test_file", &self.test_file),
            ]
            .into_iter()
            .find_map(|(k, v)| v.is_some().then_some(k))
            {
                return Err(invalid(
                    field,
                    "a split of your own needs data.train_file too (and data.valid_file, data.test_file)".into(),
                ));
            }
        }
        let reading = self.reading();
        if reading.min_len == 0 || reading.max_len.is_some_and(|max| reading.min_len > max) {
            let max = reading.max_len.map_or("no limit".into(), |m| m.to_string());
            return Err(invalid(
                "min_len",
                format!(
                    "need 1 <= min_len <= max_len, got {}..={max}",
                    reading.min_len
                ),
            ));
        }
        for (field, v) in [("valid", self.valid), ("test", self.test)] {
            if !(0.0..1.0).contains(&v) {
                return Err(invalid(field, format!("{v} is not a fraction in [0, 1)")));
            }
        }
        self.validate_fasta()
    }

    fn validate_fasta(&self) -> Result<(), DataError> {
        let f = &self.fasta;
        let invalid = |field: &str, reason: &str| DataError::Invalid {
            field: format!("data.fasta.{field}"),
            reason: reason.to_owned(),
        };
        if f.label_field == Some(0) {
            return Err(invalid(
                "label_field",
                "fields count from 1 (the first word after `>`)",
            ));
        }
        if f.label_field.is_some() && f.label_pattern.is_some() {
            return Err(invalid(
                "label_pattern",
                "label_field and label_pattern both name the label: keep one",
            ));
        }
        if let Some(pattern) = &f.label_pattern {
            crate::read::fasta::label_regex(pattern)?;
        }
        if f.separator.as_deref() == Some("") {
            return Err(invalid("separator", "an empty separator splits nothing: use e.g. \"|\", or leave it unset for whitespace"));
        }
        Ok(())
    }
}

/// Makes the relative paths of a `[data]` table relative to `base` (the folder of the
/// experiment file that wrote them), and absolute, before any `--set`: paths in a file
/// mean paths from that file, paths on the command line paths from the working folder.
pub fn rebase_paths(doc: &mut toml::Table, base: &Path) {
    let Some(toml::Value::Table(data)) = doc.get_mut("data") else {
        return;
    };
    for key in PATH_KEYS {
        if let Some(toml::Value::String(path)) = data.get_mut(key) {
            if Path::new(path.as_str()).is_relative() {
                let joined = base.join(path.as_str());
                let absolute = std::path::absolute(&joined).unwrap_or(joined);
                *path = absolute.to_string_lossy().into_owned();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_fields_follow_the_source() {
        let embedded = DataConfig::default().reading();
        assert_eq!(embedded.normalization, Normalization::REFERENCE);
        assert_eq!(
            (embedded.alphabet, embedded.min_len, embedded.max_len),
            (Alphabet::All, 4, Some(11))
        );
        let own = DataConfig {
            path: Some("words.csv".into()),
            ..DataConfig::default()
        };
        let reading = own.reading();
        assert_eq!(reading.normalization, Normalization::default());
        assert_eq!(
            (reading.alphabet, reading.min_len, reading.max_len),
            (Alphabet::Train, 1, None)
        );
        let mut settled = own.clone();
        settled.settle();
        assert_eq!(settled.reading(), reading);
        assert_eq!(settled.normalize, Some(Form::None));
    }

    #[test]
    fn an_old_record_reads_as_it_was_trained() {
        let mut old = DataConfig {
            dir: Some("names".into()),
            min_len: Some(4),
            max_len: Some(11),
            ..DataConfig::default()
        };
        old.as_recorded_before_normalization();
        assert_eq!(old.reading().normalization, Normalization::REFERENCE);
        assert_eq!(old.reading().alphabet, Alphabet::All);
    }

    #[test]
    fn bad_combinations_name_the_field() {
        let msg = |c: DataConfig| {
            c.validate()
                .map_err(|e| e.to_string())
                .err()
                .unwrap_or_default()
        };
        let two = DataConfig {
            dir: Some("a".into()),
            path: Some("b.csv".into()),
            ..DataConfig::default()
        };
        assert!(msg(two).contains("data.dir and data.path name two sources"));
        let lone = DataConfig {
            test_file: Some("t.csv".into()),
            ..DataConfig::default()
        };
        assert!(msg(lone).contains("needs data.train_file"));
        let lengths = DataConfig {
            min_len: Some(9),
            max_len: Some(3),
            ..DataConfig::default()
        };
        assert!(msg(lengths).contains("data.min_len"));
        let pattern = DataConfig {
            fasta: FastaConfig {
                label_pattern: Some("OS=(".into()),
                ..FastaConfig::default()
            },
            ..DataConfig::default()
        };
        assert!(msg(pattern).contains("data.fasta.label_pattern"));
    }

    #[test]
    fn file_paths_are_made_relative_to_the_file() {
        let mut doc: toml::Table =
            toml::from_str("[data]\npath = \"words.csv\"\ndir = \"/abs\"\n").unwrap_or_default();
        rebase_paths(&mut doc, Path::new("studies/x"));
        let data = doc["data"].as_table().cloned().unwrap_or_default();
        let path = Path::new(data["path"].as_str().unwrap_or_default());
        assert!(
            path.is_absolute() && path.ends_with("studies/x/words.csv"),
            "{path:?}"
        );
        assert_eq!(data["dir"].as_str(), Some("/abs"));
    }
}
