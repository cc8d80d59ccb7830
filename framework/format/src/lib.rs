//! What xp writes for other programs to read, with no tensor library: the character
//! vocabulary and its special tokens, how texts are normalised and cut into tokens, and the
//! `xp.*` metadata of an exported ONNX model (one writer and one reader).
//!
//! The trainer writes these and the ONNX Runtime server reads them, so both agree by
//! construction.

mod fold;
mod metadata;
mod normalize;
mod vocab;

pub use fold::{fold_name, FOLDING_RULE, KEPT_PUNCTUATION};
pub use metadata::{
    attention_output, output_name, MetadataError, ModelMetadata, ServedObjective, Serving, META,
};
pub use normalize::{Form, Normalization, TokenUnit};
pub use vocab::{UnknownChar, Vocab, CLS, MASK, PAD, SEP, SPECIALS, UNK, UNKNOWN};
