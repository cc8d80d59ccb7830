//! What an objective may read while it builds itself.

use crate::config::{ConfigError, ModelConfig};
use crate::data::Vocab;
use candle_core::Tensor;
use candle_nn::VarBuilder;
use xp_models::Head;

/// The corpus facts and model settings an objective is built against.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext<'a> {
    /// Token vocabulary.
    pub vocab: &'a Vocab,
    /// Language labels.
    pub labels: &'a [String],
    /// Longest name, in characters.
    pub max_len: usize,
    /// Names per training batch.
    pub batch_size: usize,
    /// The `[model]` section.
    pub model: &'a ModelConfig,
    /// The encoder's token embedding, for tied output layers.
    pub token_embeddings: &'a Tensor,
}

impl BuildContext<'_> {
    /// A head predicting one of `n_out` classes, under `vb`.
    pub fn class_head(&self, vb: VarBuilder, n_out: usize) -> candle_core::Result<Head> {
        Head::new(
            vb,
            self.model.dim,
            n_out,
            self.model.activation,
            self.model.head_dropout,
            None,
        )
    }

    /// A head predicting a token id, tied to the token embedding when `tie_embeddings`.
    pub fn token_head(&self, vb: VarBuilder) -> candle_core::Result<Head> {
        let tied = self.model.tie_embeddings.then_some(self.token_embeddings);
        Head::new(
            vb,
            self.model.dim,
            self.vocab.len(),
            self.model.activation,
            self.model.head_dropout,
            tied,
        )
    }

    /// An error for `objectives.NAME.FIELD`.
    pub fn invalid(&self, objective: &str, field: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::invalid(&format!("objectives.{objective}.{field}"), reason)
    }

    /// Checks that `p` (the value of `objectives.NAME.FIELD`) is a probability.
    pub fn probability(&self, objective: &str, field: &str, p: f64) -> Result<(), ConfigError> {
        if (0.0..=1.0).contains(&p) {
            Ok(())
        } else {
            Err(self.invalid(
                objective,
                field,
                format!("{p} is not a probability in [0, 1]"),
            ))
        }
    }
}
