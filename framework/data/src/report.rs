//! What a run will see of its data, before it trains: per file and class what was kept
//! and what was dropped and why, the alphabet, the lengths, the split. `xp data` prints
//! it, `xp run` writes it into the run folder as `data.json`.

use crate::alphabet::{token_counts, TokenCount};
use crate::config::Alphabet;
use crate::corpus::{Repeats, Tally};
use crate::source::{NotRead, Role};
use crate::split::{SplitOrigin, SplitSets};
use crate::{Corpus, Prepared};
use serde::Serialize;
use std::collections::HashSet;
use xp_format::Normalization;

/// The version of the report's layout.
pub const FORMAT: u32 = 1;

/// Everything [`DataReport`] says, as JSON for programs (`xp data --json`, `data.json`).
#[derive(Debug, Clone, Serialize)]
pub struct DataReport {
    /// The layout's version.
    pub format: u32,
    /// Where the data is: a folder, a pattern, files, or the corpus built into xp.
    pub source: String,
    /// How texts become tokens.
    pub normalization: Normalization,
    /// The rule in words.
    pub normalization_words: String,
    /// `train` or `all`.
    pub alphabet: Alphabet,
    /// Shortest kept text, in tokens.
    pub min_len: usize,
    /// Longest kept text allowed, in tokens (`null`: no limit).
    pub max_len: Option<usize>,
    /// The files read.
    pub files: Vec<FileReport>,
    /// Files beside them that were not read.
    pub not_read: Vec<NotRead>,
    /// Per file and class, what happened to the records.
    pub classes: Vec<ClassReport>,
    /// All records.
    pub total: Tally,
    /// The labels, by id; empty for unlabeled data.
    pub labels: Vec<String>,
    /// Why the data has no labels, when it has none.
    pub unlabeled: Option<String>,
    /// Copies and texts under two labels.
    pub repeats: Repeats,
    /// Lengths of the kept texts, in tokens.
    pub lengths: Lengths,
    /// The sets.
    pub split: SplitReport,
    /// Every token, most frequent first.
    pub tokens: Vec<TokenCount>,
    /// Size of the vocabulary, specials included.
    pub vocab_size: usize,
    /// Occurrences of tokens outside the vocabulary (read as `[UNK]`) per set.
    pub unknown: UnknownReport,
    /// What is odd but not fatal.
    pub warnings: Vec<String>,
}

/// One file read.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The file.
    pub path: String,
    /// How it was read.
    pub format: &'static str,
    /// Its class, for a class file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Its split, for a file of a split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<crate::SplitName>,
    /// Its records.
    pub tally: Tally,
}

/// One class of one file.
#[derive(Debug, Clone, Serialize)]
pub struct ClassReport {
    /// The file.
    pub file: String,
    /// The class (`null`: records whose class could not be read).
    pub class: Option<String>,
    /// Its records.
    pub tally: Tally,
}

/// Percentiles of the kept texts' lengths, in tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Lengths {
    /// Shortest.
    pub min: usize,
    /// Median.
    pub p50: usize,
    /// 90th percentile.
    pub p90: usize,
    /// 99th percentile.
    pub p99: usize,
    /// Longest.
    pub max: usize,
    /// Mean.
    pub mean: f64,
}

/// The sets and how they were made.
#[derive(Debug, Clone, Serialize)]
pub struct SplitReport {
    /// xp's seeded split or the data's own.
    pub origin: SplitOrigin,
    /// Training texts.
    pub train: usize,
    /// Validation texts.
    pub valid: usize,
    /// Test texts.
    pub test: usize,
    /// Per label, `[train, valid, test]`.
    pub per_class: Vec<[usize; 3]>,
    /// Validation texts whose text is also a training text.
    pub valid_in_train: usize,
    /// Test texts whose text is also a training text.
    pub test_in_train: usize,
}

/// Tokens read as `[UNK]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UnknownReport {
    /// In validation texts.
    pub valid: usize,
    /// In test texts.
    pub test: usize,
    /// Which tokens, most frequent first (at most [`crate::corpus::SHOWN`]).
    pub tokens: Vec<String>,
}

impl Prepared {
    /// The report of this data.
    pub fn report(&self) -> DataReport {
        let corpus = &self.corpus;
        let tokens = token_counts(corpus, &self.sets, &self.vocab);
        let unknown: Vec<&TokenCount> = tokens
            .iter()
            .filter(|t| t.flags.contains(&"unknown"))
            .collect();
        DataReport {
            format: FORMAT,
            source: corpus.listing.description.clone(),
            normalization: corpus.reading.normalization,
            normalization_words: corpus.reading.normalization.describe(),
            alphabet: corpus.reading.alphabet,
            min_len: corpus.reading.min_len,
            max_len: corpus.reading.max_len,
            files: file_reports(corpus),
            not_read: corpus.listing.not_read.clone(),
            classes: class_reports(corpus),
            total: corpus.total(),
            labels: corpus.labels.clone(),
            unlabeled: corpus.unlabeled.clone(),
            repeats: corpus.repeats.clone(),
            lengths: lengths(corpus),
            split: split_report(corpus, &self.sets, self.origin),
            vocab_size: self.vocab.len(),
            unknown: UnknownReport {
                valid: unknown.iter().map(|t| t.valid).sum(),
                test: unknown.iter().map(|t| t.test).sum(),
                tokens: unknown
                    .iter()
                    .take(crate::corpus::SHOWN)
                    .map(|t| t.token.clone())
                    .collect(),
            },
            tokens,
            warnings: corpus.warnings.clone(),
        }
    }
}

fn file_reports(corpus: &Corpus) -> Vec<FileReport> {
    corpus
        .listing
        .files
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let mut tally = Tally::default();
            for ((source, _), t) in &corpus.tallies {
                if *source as usize == k {
                    tally.add(t);
                }
            }
            FileReport {
                path: f.path.display().to_string(),
                format: f.format.name(),
                class: match &f.role {
                    Role::Class(label) => Some(label.clone()),
                    _ => None,
                },
                split: match f.role {
                    Role::Split(split) => Some(split),
                    _ => None,
                },
                tally,
            }
        })
        .collect()
}

fn class_reports(corpus: &Corpus) -> Vec<ClassReport> {
    corpus
        .tallies
        .iter()
        .map(|((source, label), tally)| ClassReport {
            file: corpus.listing.files[*source as usize]
                .path
                .display()
                .to_string(),
            class: label.map(|l| corpus.labels[l as usize].clone()),
            tally: tally.clone(),
        })
        .collect()
}

/// Nearest-rank percentiles of the kept lengths.
fn lengths(corpus: &Corpus) -> Lengths {
    let rule = corpus.reading.normalization;
    let mut lens: Vec<usize> = corpus
        .examples
        .iter()
        .map(|e| rule.count(&e.text))
        .collect();
    lens.sort_unstable();
    let Some(&max) = lens.last() else {
        return Lengths::default();
    };
    let at = |q: f64| lens[((q * lens.len() as f64).ceil() as usize).clamp(1, lens.len()) - 1];
    Lengths {
        min: lens[0],
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max,
        mean: lens.iter().sum::<usize>() as f64 / lens.len() as f64,
    }
}

fn split_report(corpus: &Corpus, sets: &SplitSets, origin: SplitOrigin) -> SplitReport {
    let mut per_class = vec![[0; 3]; corpus.labels.len().max(1)];
    for (k, (_, set)) in sets.named().into_iter().enumerate() {
        for &i in set {
            per_class[corpus.examples[i].label as usize][k] += 1;
        }
    }
    if corpus.labels.is_empty() {
        per_class.clear();
    }
    let train: HashSet<&str> = sets
        .train
        .iter()
        .map(|&i| corpus.examples[i].text.as_str())
        .collect();
    let in_train = |set: &[usize]| {
        set.iter()
            .filter(|&&i| train.contains(corpus.examples[i].text.as_str()))
            .count()
    };
    SplitReport {
        origin,
        train: sets.train.len(),
        valid: sets.valid.len(),
        test: sets.test.len(),
        per_class,
        valid_in_train: in_train(&sets.valid),
        test_in_train: in_train(&sets.test),
    }
}
