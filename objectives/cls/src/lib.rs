//! CLS: supervised language-of-origin classification.
//!
//! The head reads the `[CLS]` state (`pool = "start"`) or the mean over characters
//! (`pool = "mean"`, pads masked) of the masked name (`masked = true`, as in BERT, with
//! the shared MLM masking at `mask_prob`) or of the clean one, and predicts the label.
//! With `eval_masked = false` the masking is a training-time augmentation: evaluation
//! reads clean names, as served models do.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use xp_objective::toml;
use xp_objective::{
    mask_characters, smoothed_cross_entropy, BuildContext, BuildResult, EncoderIds, NameBatch,
    Objective, ObjectiveHead, Pool, PooledClassifier, Prepared, Serving, SmallRng, VarBuilder,
};

/// `[objectives.CLS]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClsConfig {
    /// Read the MLM-masked name instead of the clean one.
    pub masked: bool,
    /// Masking probability per character when `masked`.
    pub mask_prob: f64,
    /// With `masked`, evaluate on masked names too, as the reference does; false
    /// evaluates on clean names (what `xp predict` serves), making the masking a
    /// training-time augmentation.
    pub eval_masked: bool,
    /// `start` (the `[CLS]` state) or `mean` (over non-pad positions).
    pub pool: Pool,
    /// Label smoothing of the cross-entropy (0: none).
    pub label_smoothing: f64,
}

impl Default for ClsConfig {
    fn default() -> Self {
        Self {
            masked: true,
            mask_prob: 0.15,
            eval_masked: true,
            pool: Pool::Start,
            label_smoothing: 0.0,
        }
    }
}

/// The CLS objective.
pub struct Cls {
    config: ClsConfig,
    classifier: PooledClassifier,
    labels: Vec<String>,
}

impl Objective for Cls {
    fn prepare(&self, batch: &NameBatch, _rng: &mut SmallRng) -> Prepared {
        let masked = self.config.masked && (batch.training || self.config.eval_masked);
        let tokens = if masked {
            mask_characters(batch, self.config.mask_prob).tokens
        } else {
            batch.tokens.clone()
        };
        Prepared {
            input: EncoderIds::plain(tokens, batch.seq_len),
            positions: None,
            targets: batch.labels.clone(),
        }
    }

    fn head(&self) -> &dyn ObjectiveHead {
        &self.classifier
    }

    fn loss(&self, logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
        smoothed_cross_entropy(logits, targets, self.config.label_smoothing)
    }

    fn class_names(&self) -> Option<Vec<String>> {
        Some(self.labels.clone())
    }

    fn serving(&self) -> Option<Serving> {
        Some(Serving::default())
    }
}

fn build(table: &toml::Table, ctx: &BuildContext, vb: VarBuilder) -> BuildResult {
    let config: ClsConfig = ctx.parse(table)?;
    ctx.probability("mask_prob", config.mask_prob)?;
    ctx.probability("label_smoothing", config.label_smoothing)?;
    let labels = ctx.classes()?;
    Ok(Box::new(Cls {
        classifier: ctx.pooled_classifier(labels.len(), config.pool, vb)?,
        config,
        labels: labels.to_vec(),
    }))
}

xp_objective::register! {
    name: "CLS",
    description: "language-of-origin classification from the [CLS] state or the mean",
    segments: 0,
    config: ClsConfig,
    fields: [
        ("masked", "read the MLM-masked name (BERT) instead of the clean one"),
        ("mask_prob", "masking probability per character when masked"),
        ("eval_masked", "false: mask while training only, evaluate clean names as served"),
        ("pool", "\"start\" reads the [CLS] state, \"mean\" averages the characters"),
        ("label_smoothing", "label smoothing of the cross-entropy (0: none)"),
    ],
    build: build,
}

#[cfg(test)]
mod tests;
