//! What an objective may read while it builds itself.

use crate::{ConfigError, Pool, PooledClassifier, TokenPredictor, Vocab};
use candle_core::Tensor;
use candle_nn::VarBuilder;
use serde::de::DeserializeOwned;
use xp_models::{Activation, Head, HeadSpec, Kernels};

/// The `[model]` settings a head is built with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadConfig {
    /// Encoder width: what a head reads.
    pub dim: usize,
    /// The heads' non-linearity.
    pub activation: Activation,
    /// Dropout inside the heads.
    pub dropout: f32,
    /// Token-predicting heads use the transposed token embedding as output layer.
    pub tie_embeddings: bool,
    /// The layers' implementation, the encoder's.
    pub kernels: Kernels,
}

impl HeadConfig {
    /// The spec of a head of `n_out` outputs, its output layer tied to `tied`.
    pub fn spec(self, n_out: usize, tied: Option<&Tensor>) -> HeadSpec<'_> {
        HeadSpec {
            dim: self.dim,
            n_out,
            activation: self.activation,
            dropout: self.dropout,
            tied,
            kernels: self.kernels,
        }
    }
}

/// The corpus facts and model settings an objective is built against.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext<'a> {
    /// The name the objective is registered under (`CLS`, `MLM`, ...).
    pub name: &'a str,
    /// Token vocabulary.
    pub vocab: &'a Vocab,
    /// Class labels; empty for unlabeled data.
    pub labels: &'a [String],
    /// Why the data has no labels, when it has none: for an objective that needs them
    /// to say so.
    pub unlabeled: Option<&'a str>,
    /// Longest name, in characters.
    pub max_len: usize,
    /// Names per training batch.
    pub batch_size: usize,
    /// How heads are built.
    pub head: HeadConfig,
    /// The encoder's token embedding, for tied output layers.
    pub token_embeddings: &'a Tensor,
}

impl<'a> BuildContext<'a> {
    /// The objective's own fields (`[objectives.NAME]` without `weight` and `detach`)
    /// as `T`; an error names the section, the field and the nearest valid one.
    pub fn parse<T: DeserializeOwned>(&self, table: &toml::Table) -> Result<T, ConfigError> {
        crate::parse_table(table, &format!("objectives.{}", self.name))
    }

    /// A head predicting one of `n_out` classes (Linear, activation, LayerNorm,
    /// dropout, Linear), under `vb`.
    pub fn class_head(&self, n_out: usize, vb: VarBuilder) -> candle_core::Result<Head> {
        Head::new(self.head.spec(n_out, None), vb)
    }

    /// A head predicting a token id, tied to the token embedding when `tie_embeddings`.
    pub fn token_head(&self, vb: VarBuilder) -> candle_core::Result<Head> {
        let tied = self.head.tie_embeddings.then_some(self.token_embeddings);
        Head::new(self.head.spec(self.vocab.len(), tied), vb)
    }

    /// A class head over the `pool`ed encoder output.
    pub fn pooled_classifier(
        &self,
        n_out: usize,
        pool: Pool,
        vb: VarBuilder,
    ) -> candle_core::Result<PooledClassifier> {
        Ok(PooledClassifier::new(self.class_head(n_out, vb)?, pool))
    }

    /// A token head over the positions a batch names.
    pub fn token_predictor(&self, vb: VarBuilder) -> candle_core::Result<TokenPredictor> {
        Ok(TokenPredictor::new(self.token_head(vb)?))
    }

    /// An error for `objectives.NAME.FIELD`.
    pub fn invalid(&self, field: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::invalid(&format!("objectives.{}.{field}", self.name), reason)
    }

    /// The labels, refusing data with fewer than two classes (a classifier of one class
    /// learns nothing), naming why the data has none where it has none.
    pub fn classes(&self) -> Result<&'a [String], ConfigError> {
        let field = format!("objectives.{}", self.name);
        match (self.labels.len(), self.unlabeled) {
            (0, Some(why)) => Err(ConfigError::invalid(
                &field,
                format!("{} needs labels and the data has none: {why}; or train self-supervised objectives only", self.name),
            )),
            (n @ 0..=1, _) => Err(ConfigError::invalid(
                &field,
                format!(
                    "{} needs at least 2 classes and the data has {n}{}: add texts of another class",
                    self.name,
                    self.labels.first().map_or(String::new(), |l| format!(" ({l:?})"))
                ),
            )),
            _ => Ok(self.labels),
        }
    }

    /// Checks that `p`, the value of `objectives.NAME.FIELD`, is a probability.
    pub fn probability(&self, field: &str, p: f64) -> Result<(), ConfigError> {
        if (0.0..=1.0).contains(&p) {
            Ok(())
        } else {
            Err(self.invalid(field, format!("{p} is not a probability in [0, 1]")))
        }
    }
}
