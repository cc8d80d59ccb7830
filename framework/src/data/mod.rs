//! The data a run trains on: read, filtered, split and described by `xp-data`, then
//! tokenized here into rows and batches.

mod dataset;

pub use dataset::{Dataset, Shuffler};
pub use xp_data::*;
pub use xp_format::{fold_name, CLS, FOLDING_RULE, MASK, PAD, SEP, SPECIALS, UNK};
