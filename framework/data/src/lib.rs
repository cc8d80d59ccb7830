//! A user's texts for xp, with no tensor library: the `[data]` settings, the files they
//! name (a class folder or glob, CSV, TSV, FASTA, JSONL, plain lines, the corpus built
//! into xp), the filters, the split, the alphabet, and the [`DataReport`] of what was
//! kept and what was dropped and why.
//!
//! Nothing is changed or dropped without a count: every record read is counted once,
//! kept or under the reason it was dropped, per file and class.
//!
//! ```no_run
//! let config: xp_data::DataConfig = toml::from_str("path = \"words.csv\"")?;
//! let prepared = xp_data::prepare(&config, 1234)?;
//! println!("{}", prepared.report().summary());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alphabet;
mod config;
mod corpus;
mod error;
mod read;
mod report;
mod source;
mod split;
mod summary;

pub use summary::thousands;

pub use alphabet::{token_counts, vocabulary, TokenCount, RARE};
pub use config::{
    rebase_paths, Alphabet, Columns, DataConfig, FastaConfig, Format, Policy, Reading, TooLong,
    PATH_KEYS,
};
pub use corpus::{Conflict, Corpus, Dropped, Example, Repeats, Tally, SHOWN};
pub use error::DataError;
pub use read::{read, FileRecords, Record, Unreadable};
pub use report::{ClassReport, DataReport, FileReport, Lengths, SplitReport, UnknownReport};
pub use source::{list, Listing, NotRead, Origin, Role, SourceFile};
pub use split::{split, split_examples, Split, SplitName, SplitOrigin, SplitSets};
pub use xp_format::{Form, Normalization, TokenUnit, Vocab};

/// The data of an experiment, read, filtered and split, with its vocabulary.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The kept texts and the account of every record.
    pub corpus: Corpus,
    /// Which texts train, validate and test.
    pub sets: SplitSets,
    /// Where the sets came from.
    pub origin: SplitOrigin,
    /// The vocabulary (see [`Alphabet`]).
    pub vocab: Vocab,
}

/// Reads, filters and splits the data of `config` (the split seeded with `seed`), and
/// makes its vocabulary.
pub fn prepare(config: &DataConfig, seed: u64) -> Result<Prepared, DataError> {
    config.validate()?;
    let corpus = Corpus::load(config)?;
    let how = Split {
        valid: config.valid,
        test: config.test,
        dedup: config.dedup,
        seed,
    };
    let (sets, origin) = split_examples(&corpus.examples, how, |e| corpus.place(e))?;
    let vocab = vocabulary(&corpus, &sets);
    Ok(Prepared {
        corpus,
        sets,
        origin,
        vocab,
    })
}
