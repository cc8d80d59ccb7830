//! The names corpus: reading, folding to ASCII, vocabulary, split.

mod corpus;
mod dataset;
mod split;

pub use corpus::{
    language_files, read_lines, Corpus, CorpusError, CorpusFile, CorpusSource, Example,
};
pub use dataset::{Dataset, Shuffler};
pub use split::{split, Split, SplitSets};
pub use xp_format::{fold_name, Vocab, CLS, FOLDING_RULE, MASK, PAD, SEP, SPECIALS};
