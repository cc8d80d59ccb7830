//! Reading the corpus: one `LANGUAGE.txt` per label, one name per line.

use super::{fold_name, Vocab, CLS};
use std::path::{Path, PathBuf};

/// One kept name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The folded name.
    pub name: String,
    /// Index into [`Corpus::labels`].
    pub label: u32,
}

/// Where the corpus is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorpusSource {
    /// The corpus built into xp (`xp-corpus`).
    Embedded,
    /// A folder of `LANGUAGE.txt` files.
    Dir(PathBuf),
}

impl std::fmt::Display for CorpusSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded => f.write_str("the corpus built into xp"),
            Self::Dir(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// Why a corpus could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The directory is missing or holds no `.txt` file.
    #[error("no corpus in {0}: expected one LANGUAGE.txt file per language (leave [data] dir unset to use the corpus built into xp, or `xp data --write DIR` to write it out)")]
    Missing(PathBuf),
    /// A file could not be read.
    #[error("cannot read corpus file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not UTF-8.
    #[error("corpus file {path}, line {line}, is not UTF-8 text: fix or remove that line (`xp data --write DIR` writes the published files)")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the first byte that is not UTF-8.
        line: usize,
    },
    /// A file holds no name.
    #[error("corpus file {0} is empty: every language file needs at least one name")]
    EmptyFile(PathBuf),
    /// The length filter kept nothing.
    #[error(
        "no name in {corpus} has {min_len}..={max_len} characters: widen [data] min_len/max_len"
    )]
    NothingKept {
        /// Where the corpus was read from.
        corpus: String,
        /// The filter's lower bound.
        min_len: usize,
        /// The filter's upper bound.
        max_len: usize,
    },
    /// The corpus built into the binary does not unpack.
    #[error(transparent)]
    Embedded(#[from] xp_corpus::UnpackError),
}

/// One file of a corpus: its language, where it came from (for messages) and its bytes.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// The language (the file stem).
    pub language: String,
    /// The file, or `embedded/LANGUAGE.txt`.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl CorpusSource {
    /// The files of the corpus, sorted by language.
    pub fn files(&self) -> Result<Vec<CorpusFile>, CorpusError> {
        match self {
            Self::Embedded => Ok(xp_corpus::files()?
                .into_iter()
                .map(|f| CorpusFile {
                    path: Path::new("embedded").join(format!("{}.txt", f.language)),
                    language: f.language,
                    bytes: f.bytes,
                })
                .collect()),
            Self::Dir(dir) => language_files(dir)?
                .into_iter()
                .map(|path| {
                    let bytes = std::fs::read(&path).map_err(|source| CorpusError::Unreadable {
                        path: path.clone(),
                        source,
                    })?;
                    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
                    Ok(CorpusFile {
                        language: stem.unwrap_or_default(),
                        path,
                        bytes,
                    })
                })
                .collect(),
        }
    }
}

/// The kept names, their labels, and the vocabulary of their characters.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Language names (file stems), sorted; a label is an index here.
    pub labels: Vec<String>,
    /// Kept names, in file order.
    pub examples: Vec<Example>,
    /// Characters of the kept names.
    pub vocab: Vocab,
    /// The longest kept name, in characters: sequences, position tables and masks are
    /// sized by it, not by the filter's bound, so a loose bound costs nothing.
    pub max_len: usize,
    /// What is odd in the corpus but not fatal, for the user to see.
    pub warnings: Vec<String>,
}

/// Fewer kept names than this in a language is worth a warning: too few to both
/// train and test it.
const FEW_NAMES: usize = 10;

/// The `.txt` files of `dir`, sorted by name.
pub fn language_files(dir: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    let entries = std::fs::read_dir(dir).map_err(|_| CorpusError::Missing(dir.to_path_buf()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(CorpusError::Missing(dir.to_path_buf()));
    }
    Ok(files)
}

/// The non-blank lines of a corpus file with their 1-based numbers; a byte-order
/// mark and Windows line ends are dropped.
pub fn read_lines(file: &CorpusFile) -> Result<Vec<(usize, String)>, CorpusError> {
    let text = std::str::from_utf8(&file.bytes).map_err(|e| {
        let valid = &file.bytes[..e.valid_up_to()];
        CorpusError::NotUtf8 {
            path: file.path.clone(),
            line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
        }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let names: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i, l.to_owned()))
        .collect();
    if names.is_empty() {
        return Err(CorpusError::EmptyFile(file.path.clone()));
    }
    Ok(names)
}

impl Corpus {
    /// Reads every language file of `source`, folds each name, keeps those of
    /// `min_len..=max_len` characters.
    pub fn load(
        source: &CorpusSource,
        min_len: usize,
        max_len: usize,
    ) -> Result<Self, CorpusError> {
        let mut labels = Vec::new();
        let mut examples = Vec::new();
        let mut warnings = Vec::new();
        for (label, file) in source.files()?.iter().enumerate() {
            let path = &file.path;
            labels.push(file.language.clone());
            let mut kept = 0;
            for (line, raw) in read_lines(file)? {
                let name = fold_name(&raw);
                if name.is_empty() {
                    warnings.push(format!(
                        "{}, line {line}: {raw:?} has no character the corpus keeps (letters and \" .,;'\"); skipped",
                        path.display()
                    ));
                } else if (min_len..=max_len).contains(&name.chars().count()) {
                    kept += 1;
                    examples.push(Example {
                        name,
                        label: label as u32,
                    });
                }
            }
            if kept < FEW_NAMES {
                let within = match max_len {
                    usize::MAX => String::new(),
                    _ => format!(" of {min_len}..={max_len} characters"),
                };
                warnings.push(format!(
                    "{}: only {kept} kept name(s){within}; a language needs more to be both trained and tested",
                    path.display()
                ));
            }
        }
        if examples.is_empty() {
            return Err(CorpusError::NothingKept {
                corpus: source.to_string(),
                min_len,
                max_len,
            });
        }
        let vocab = Vocab::from_names(examples.iter().map(|e| e.name.as_str()));
        let longest = examples.iter().map(|e| e.name.chars().count()).max();
        Ok(Self {
            labels,
            examples,
            vocab,
            max_len: longest.unwrap_or(max_len),
            warnings,
        })
    }

    /// The length of a stored sequence: `[CLS]` plus `max_len` characters.
    pub fn seq_len(&self) -> usize {
        self.max_len + 1
    }

    /// `[CLS] c1 .. cn [PAD]..` of example `i`, `seq_len` long.
    pub fn row(&self, i: usize) -> Vec<u32> {
        let mut row = Vec::with_capacity(self.seq_len());
        row.push(CLS);
        // Every kept character is in the vocabulary by construction.
        row.extend(
            self.examples[i]
                .name
                .chars()
                .filter_map(|c| self.vocab.id(c).ok()),
        );
        row.resize(self.seq_len(), super::PAD);
        row
    }

    /// Number of kept names per label.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.labels.len()];
        for e in &self.examples {
            counts[e.label as usize] += 1;
        }
        counts
    }
}
