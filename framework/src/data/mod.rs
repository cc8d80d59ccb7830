//! The names corpus: reading, folding to ASCII, vocabulary, split, and fetching it.

mod corpus;
mod dataset;
mod fetch;
mod fold;
mod split;
mod vocab;

pub use corpus::{Corpus, CorpusError, Example};
pub use dataset::{Dataset, Shuffler};
pub use fetch::{
    default_cache_dir, fetch_corpus, locate_corpus, warn_mismatches, FetchError, FetchReport,
    CORPUS_URL, LANGUAGES,
};
pub use fold::{fold_name, FOLDING_RULE};
pub use split::{split, Split, SplitSets};
pub use vocab::{Vocab, CLS, MASK, PAD, SEP, SPECIALS};
