//! The names corpus: reading, folding to ASCII, vocabulary, split, and fetching it.

mod corpus;
mod dataset;
mod fetch;
mod split;

pub use corpus::{Corpus, CorpusError, Example};
pub use dataset::{Dataset, Shuffler};
pub use fetch::{
    default_cache_dir, fetch_corpus, locate_corpus, warn_mismatches, FetchError, FetchReport,
    CORPUS_URL, LANGUAGES,
};
pub use split::{split, Split, SplitSets};
pub use xp_format::{fold_name, Vocab, CLS, FOLDING_RULE, MASK, PAD, SEP, SPECIALS};
