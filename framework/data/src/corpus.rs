//! From records to the kept texts: each normalised, measured in tokens, checked for a
//! label, duplicates and texts under two labels found; every record counted under what
//! happened to it, so that nothing is dropped without a count.

use crate::config::{DataConfig, Policy, Reading, TooLong};
use crate::read::{self, Record};
use crate::source::{self, Listing, Role};
use crate::split::SplitName;
use crate::DataError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One kept text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The text, normalised (and truncated where `too_long = "truncate"`).
    pub text: String,
    /// Its length in tokens.
    pub len: usize,
    /// Index into [`Corpus::labels`] (0 for unlabeled data).
    pub label: u32,
    /// The id the file gives it.
    pub id: Option<String>,
    /// The split the file gives it.
    pub split: Option<SplitName>,
    /// Index of its file in [`Corpus::listing`].
    pub source: u32,
    /// The 1-based line where it starts in that file.
    pub line: u32,
}

impl Example {
    /// A text of `label` with no id, split or place, its tokens its characters, as tests
    /// make them.
    pub fn new(text: String, label: u32) -> Self {
        Self {
            len: text.chars().count(),
            text,
            label,
            id: None,
            split: None,
            source: 0,
            line: 0,
        }
    }
}

/// Why a record is not among the kept texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dropped {
    /// The file's bytes there do not read (not UTF-8, a malformed row or line).
    Unreadable,
    /// Nothing but white space, as written or after normalisation.
    Empty,
    /// Fewer tokens than `min_len`.
    TooShort,
    /// More tokens than `max_len`, with `too_long = "drop"`.
    TooLong,
    /// Labeled data, and this record has no label.
    NoLabel,
    /// The text is found under two or more labels, with `conflicts = "drop"`.
    Conflict,
    /// A later copy of a text under the same label, with `duplicates = "drop"`.
    Duplicate,
}

impl Dropped {
    /// Every reason, in the order they are tested.
    pub const ALL: [Self; 7] = [
        Self::Unreadable,
        Self::Empty,
        Self::TooShort,
        Self::TooLong,
        Self::NoLabel,
        Self::Conflict,
        Self::Duplicate,
    ];

    /// The reason in words.
    pub fn words(self) -> &'static str {
        match self {
            Self::Unreadable => "unreadable",
            Self::Empty => "empty",
            Self::TooShort => "too short",
            Self::TooLong => "too long",
            Self::NoLabel => "no label",
            Self::Conflict => "under two labels",
            Self::Duplicate => "duplicate",
        }
    }
}

/// What happened to the records of one file and class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Records read (the unreadable among them).
    pub read: usize,
    /// Kept.
    pub kept: usize,
    /// Kept, cut to `max_len` tokens.
    pub truncated: usize,
    /// Not kept, by reason.
    pub dropped: BTreeMap<Dropped, usize>,
}

impl Tally {
    /// All records dropped.
    pub fn dropped_total(&self) -> usize {
        self.dropped.values().sum()
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Tally) {
        self.read += other.read;
        self.kept += other.kept;
        self.truncated += other.truncated;
        for (reason, n) in &other.dropped {
            *self.dropped.entry(*reason).or_default() += n;
        }
    }

    fn drop(&mut self, reason: Dropped) {
        *self.dropped.entry(reason).or_default() += 1;
    }
}

/// A text found under two or more labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The text, normalised.
    pub text: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// Its records.
    pub records: usize,
}

/// Copies and conflicts among the texts that pass the other filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Repeats {
    /// Distinct texts written more than once under one label.
    pub duplicated_texts: usize,
    /// Their copies after the first.
    pub extra_copies: usize,
    /// Texts found under two or more labels.
    pub conflicting_texts: usize,
    /// The records of those texts.
    pub conflicting_records: usize,
    /// The first of those texts (at most [`SHOWN`]).
    pub conflicts: Vec<Conflict>,
}

/// How many examples of a kind the report spells out.
pub const SHOWN: usize = 10;

/// The kept texts of a data source, their labels, and the account of every record.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Class labels, sorted; a label is an index here. Empty for unlabeled data.
    pub labels: Vec<String>,
    /// Why the data has no labels, when it has none.
    pub unlabeled: Option<String>,
    /// Kept texts, in file order.
    pub examples: Vec<Example>,
    /// The longest kept text, in tokens: sequences, position tables and masks are sized
    /// by it, not by `max_len`, so a loose bound costs nothing.
    pub max_len: usize,
    /// How texts were read.
    pub reading: Reading,
    /// The files read and those not read.
    pub listing: Listing,
    /// Per file and class (`None`: a record whose class is unknown), what happened.
    pub tallies: BTreeMap<(u32, Option<u32>), Tally>,
    /// Copies and conflicts.
    pub repeats: Repeats,
    /// What is odd but not fatal, for the user to see.
    pub warnings: Vec<String>,
}

/// Fewer kept texts than this in a class is worth a warning: too few to both train and
/// test it.
const FEW: usize = 10;
/// Unreadable records named one by one per file, before a count of the rest.
const NAMED_UNREADABLE: usize = 5;

/// A record that passed the filters of its own, and where it is from.
struct Candidate {
    record: Record,
    text: String,
    /// Tokens of `text`.
    len: usize,
    source: u32,
}

impl Corpus {
    /// Reads every file `config` names and keeps what its filters keep.
    pub fn load(config: &DataConfig) -> Result<Self, DataError> {
        let listing = source::list(config)?;
        let reading = config.reading();
        let mut corpus = Self {
            labels: Vec::new(),
            unlabeled: None,
            examples: Vec::new(),
            max_len: 0,
            reading,
            listing,
            tallies: BTreeMap::new(),
            repeats: Repeats::default(),
            warnings: Vec::new(),
        };
        let mut files = Vec::new();
        for file in &corpus.listing.files {
            files.push(read::read(file, config)?);
        }
        let labeled = corpus
            .listing
            .files
            .iter()
            .any(|f| matches!(f.role, Role::Class(_)))
            || files
                .iter()
                .any(|f| f.records.iter().any(|r| r.label.is_some()));
        if !labeled {
            corpus.unlabeled = files.iter().find_map(|f| f.unlabeled.clone());
        }
        let labels: BTreeSet<&String> = files
            .iter()
            .flat_map(|f| f.records.iter().filter_map(|r| r.label.as_ref()))
            .collect();
        corpus.labels = labels.into_iter().cloned().collect();
        let mut candidates = Vec::new();
        for (source, file) in files.into_iter().enumerate() {
            let source = source as u32;
            corpus.count_unreadable(source, &file.unreadable);
            for record in file.records {
                candidates.extend(corpus.filter(source, record, labeled, config.too_long));
            }
        }
        corpus.keep(candidates, config);
        corpus.warn_few();
        if corpus.examples.is_empty() {
            return Err(corpus.nothing_kept());
        }
        corpus.max_len = corpus.examples.iter().map(|e| e.len).max().unwrap_or(0);
        Ok(corpus)
    }

    /// Where the example is, for messages: `FILE, line N`.
    pub fn place(&self, e: &Example) -> String {
        let path = self
            .listing
            .files
            .get(e.source as usize)
            .map_or("?".into(), |f| f.path.display().to_string());
        format!("{path}, line {}", e.line)
    }

    /// The label index of `label`.
    fn label_id(&self, label: &str) -> Option<u32> {
        self.labels
            .binary_search_by(|l| l.as_str().cmp(label))
            .ok()
            .map(|i| i as u32)
    }

    fn tally(&mut self, source: u32, label: Option<&str>) -> &mut Tally {
        let label = label.and_then(|l| self.label_id(l));
        self.tallies.entry((source, label)).or_default()
    }

    fn count_unreadable(&mut self, source: u32, unreadable: &[read::Unreadable]) {
        let class = match &self.listing.files[source as usize].role {
            Role::Class(label) => Some(label.clone()),
            _ => None,
        };
        let path = self.listing.files[source as usize]
            .path
            .display()
            .to_string();
        for (k, u) in unreadable.iter().enumerate() {
            let tally = self.tally(source, class.as_deref());
            tally.read += 1;
            tally.drop(Dropped::Unreadable);
            if k < NAMED_UNREADABLE {
                self.warnings.push(format!(
                    "{path}, line {}: {}; dropped (unreadable)",
                    u.line, u.reason
                ));
            }
        }
        if unreadable.len() > NAMED_UNREADABLE {
            self.warnings.push(format!(
                "{path}: {} more unreadable records dropped (`xp data` lists the counts)",
                unreadable.len() - NAMED_UNREADABLE
            ));
        }
    }

    /// The record normalised and measured, or `None` when a filter of its own drops it.
    fn filter(
        &mut self,
        source: u32,
        record: Record,
        labeled: bool,
        too_long: TooLong,
    ) -> Option<Candidate> {
        let reading = self.reading;
        let mut text = reading.normalization.apply(&record.text).into_owned();
        let tokens = reading.normalization.count(&text);
        let long = reading.max_len.filter(|&max| tokens > max);
        let reason = if text.trim().is_empty() {
            if !record.text.trim().is_empty() {
                let path = self.listing.files[source as usize].path.display();
                self.warnings.push(format!(
                    "{path}, line {}: {:?} is empty after normalisation ({}); dropped",
                    record.line,
                    record.text,
                    reading.normalization.describe()
                ));
            }
            Some(Dropped::Empty)
        } else if tokens < reading.min_len {
            Some(Dropped::TooShort)
        } else if long.is_some() && too_long == TooLong::Drop {
            Some(Dropped::TooLong)
        } else if labeled && record.label.is_none() {
            Some(Dropped::NoLabel)
        } else {
            None
        };
        let tally = self.tally(source, record.label.as_deref());
        tally.read += 1;
        if let Some(reason) = reason {
            tally.drop(reason);
            return None;
        }
        if let Some(max) = long {
            tally.truncated += 1;
            let cut: usize = reading.normalization.split(&text)[..max]
                .iter()
                .map(|t| t.len())
                .sum();
            text.truncate(cut);
        }
        Some(Candidate {
            record,
            text,
            len: long.unwrap_or(tokens),
            source,
        })
    }

    /// Finds copies and conflicts among `candidates`, drops what the policies say, and
    /// keeps the rest as examples.
    fn keep(&mut self, candidates: Vec<Candidate>, config: &DataConfig) {
        let (repeats, flags) = repeats(&candidates);
        for (c, (repeat, conflict)) in candidates.into_iter().zip(flags) {
            let reason = if config.conflicts == Policy::Drop && conflict {
                Some(Dropped::Conflict)
            } else if config.duplicates == Policy::Drop && repeat {
                Some(Dropped::Duplicate)
            } else {
                None
            };
            let label = c.record.label.as_deref().and_then(|l| self.label_id(l));
            let tally = self.tallies.entry((c.source, label)).or_default();
            match reason {
                Some(reason) => {
                    tally.drop(reason);
                    continue;
                }
                None => tally.kept += 1,
            }
            self.examples.push(Example {
                len: c.len,
                text: c.text,
                label: label.unwrap_or(0),
                id: c.record.id,
                split: c.record.split,
                source: c.source,
                line: c.record.line as u32,
            });
        }
        self.repeats = repeats;
    }

    /// The counts per class, summed over files.
    pub fn class_tallies(&self) -> Vec<Tally> {
        let mut per_class = vec![Tally::default(); self.labels.len()];
        for ((_, label), tally) in &self.tallies {
            if let Some(t) = label.and_then(|l| per_class.get_mut(l as usize)) {
                t.add(tally);
            }
        }
        per_class
    }

    /// All counts summed.
    pub fn total(&self) -> Tally {
        let mut total = Tally::default();
        for tally in self.tallies.values() {
            total.add(tally);
        }
        total
    }

    fn warn_few(&mut self) {
        let within = match self.reading.max_len {
            Some(max) => format!(" of {}..={max} tokens", self.reading.min_len),
            None => String::new(),
        };
        for (label, tally) in self.labels.clone().iter().zip(self.class_tallies()) {
            if tally.kept < FEW {
                self.warnings.push(format!(
                    "class {label:?}: only {} kept text(s){within}; a class needs more to be both trained and tested",
                    tally.kept
                ));
            }
        }
    }

    fn nothing_kept(&self) -> DataError {
        let total = self.total();
        let why = total
            .dropped
            .iter()
            .map(|(reason, n)| format!("{n} {}", reason.words()))
            .collect::<Vec<_>>()
            .join(", ");
        let bounds = match self.reading.max_len {
            Some(max) => format!(
                "; lengths {}..={max} tokens (data.min_len, data.max_len)",
                self.reading.min_len
            ),
            None => format!("; at least {} tokens (data.min_len)", self.reading.min_len),
        };
        DataError::NothingKept {
            origin: self.listing.description.clone(),
            why: format!("{why}{bounds}"),
        }
    }
}

/// The copies and conflicts among `candidates`, and per candidate whether it repeats
/// an earlier one (same text and label) and whether its text is under two labels.
fn repeats(candidates: &[Candidate]) -> (Repeats, Vec<(bool, bool)>) {
    let mut labels_of: HashMap<&str, BTreeMap<Option<&str>, usize>> = HashMap::new();
    for c in candidates {
        *labels_of
            .entry(&c.text)
            .or_default()
            .entry(c.record.label.as_deref())
            .or_default() += 1;
    }
    let mut repeats = Repeats::default();
    let mut conflicting: BTreeSet<&str> = BTreeSet::new();
    for (text, labels) in &labels_of {
        repeats.duplicated_texts += labels.values().filter(|&&n| n > 1).count();
        repeats.extra_copies += labels.values().map(|n| n - 1).sum::<usize>();
        if labels.len() > 1 {
            repeats.conflicting_texts += 1;
            repeats.conflicting_records += labels.values().sum::<usize>();
            conflicting.insert(text);
        }
    }
    repeats.conflicts = conflicting
        .iter()
        .take(SHOWN)
        .map(|text| Conflict {
            text: (*text).to_owned(),
            labels: labels_of[text]
                .keys()
                .map(|l| l.unwrap_or("").to_owned())
                .collect(),
            records: labels_of[text].values().sum(),
        })
        .collect();
    let mut seen: HashSet<(&str, Option<&str>)> = HashSet::new();
    let flags = candidates
        .iter()
        .map(|c| {
            let repeat = !seen.insert((&c.text, c.record.label.as_deref()));
            (repeat, conflicting.contains(c.text.as_str()))
        })
        .collect();
    (repeats, flags)
}
