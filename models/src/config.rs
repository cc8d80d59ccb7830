//! Shape and behaviour of the encoder.

use crate::{Activation, Kernels};
use serde::{Deserialize, Serialize};

/// How positions enter the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Positions {
    /// Fixed sine/cosine table (Vaswani et al.), no parameters.
    #[default]
    Sinusoidal,
    /// A learned embedding per position.
    Learned,
}

/// Everything needed to build an [`crate::Encoder`].
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderConfig {
    /// Number of token ids (specials included).
    pub vocab_size: usize,
    /// Longest sequence the encoder accepts.
    pub max_positions: usize,
    /// Model width.
    pub dim: usize,
    /// Attention heads; must divide `dim`.
    pub heads: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Hidden width of the feed-forward block.
    pub ffn_dim: usize,
    /// Dropout inside the layers (attention weights and residual branches).
    pub dropout: f32,
    /// Dropout on the summed input embeddings.
    pub input_dropout: f32,
    /// Width of the convolutional front over the input embeddings (odd; 0: none, see
    /// [`crate::ConvFront`]).
    pub conv_width: usize,
    /// Buckets of the hashed n-gram front (0: none, see [`crate::NgramFront`]).
    pub hashed_ngrams: usize,
    /// Longest n-gram of that front, in characters.
    pub hashed_ngram_length: usize,
    /// Feed-forward non-linearity.
    pub activation: Activation,
    /// Pre-norm (LayerNorm before each block) instead of post-norm.
    pub norm_first: bool,
    /// Position encoding.
    pub positions: Positions,
    /// Number of segment embeddings (0: none; NSP-like objectives need 2).
    pub segments: usize,
    /// The layers' implementation (see [`Kernels::auto`]).
    pub kernels: Kernels,
}
