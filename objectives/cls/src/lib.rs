//! CLS: supervised language-of-origin classification.
//!
//! The head reads the `[CLS]` state (`pool = "start"`) or the mean over characters
//! (`pool = "mean"`, pads masked) of the masked name (`masked = true`, as in BERT, with
//! the shared MLM masking at `mask_prob`) or of the clean one, and predicts the label.
//! With `eval_masked = false` the masking is a training-time augmentation: evaluation
//! reads clean names, as served models do.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use xp_framework::config::parse_table;
use xp_framework::objective::{
    config_fields, config_table, export_pooled, mask_characters, serve_pooled,
    smoothed_cross_entropy, BuildContext, DeviceBatch, EncoderIds, NameBatch, Objective,
    ObjectiveEntry, ObjectiveError, Pool, Prepared, Serving,
};
use xp_framework::SmallRng;
use xp_models::onnx::OnnxGraph;
use xp_models::{Head, Mode};

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
    head: Head,
    labels: Vec<String>,
}

impl Objective for Cls {
    fn name(&self) -> &str {
        "CLS"
    }

    fn config(&self) -> toml::Table {
        config_table(&self.config)
    }

    fn prepare(&self, batch: &NameBatch, _rng: &mut SmallRng) -> Prepared {
        let masked = self.config.masked && (batch.training || self.config.eval_masked);
        let tokens = if masked {
            mask_characters(batch, self.config.mask_prob).tokens
        } else {
            batch.tokens.clone()
        };
        Prepared {
            input: EncoderIds {
                tokens,
                seq_len: batch.seq_len,
                segments: None,
                causal: false,
            },
            positions: None,
            targets: batch.labels.clone(),
        }
    }

    fn logits(
        &self,
        hidden: &Tensor,
        batch: &DeviceBatch,
        mode: &Mode,
    ) -> candle_core::Result<Tensor> {
        self.head
            .forward(&self.config.pool.apply(hidden, &batch.tokens)?, mode)
    }

    fn loss(&self, logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
        smoothed_cross_entropy(logits, targets, self.config.label_smoothing)
    }

    fn class_names(&self) -> Option<Vec<String>> {
        Some(self.labels.clone())
    }

    fn serving(&self) -> Option<Serving> {
        Some(Serving {
            ..Serving::default()
        })
    }

    fn serve(&self, hidden: &Tensor, tokens: &Tensor) -> candle_core::Result<Tensor> {
        serve_pooled(&self.head, self.config.pool, hidden, tokens)
    }

    fn export(
        &self,
        graph: &mut OnnxGraph,
        hidden: &str,
        tokens: &str,
        prefix: &str,
    ) -> candle_core::Result<String> {
        export_pooled(&self.head, self.config.pool, graph, hidden, tokens, prefix)
    }
}

fn build(
    table: &toml::Table,
    ctx: &BuildContext,
    vb: candle_nn::VarBuilder,
) -> Result<Box<dyn Objective>, ObjectiveError> {
    let config: ClsConfig = parse_table(table, "[objectives.CLS]")?;
    ctx.probability("CLS", "mask_prob", config.mask_prob)?;
    ctx.probability("CLS", "label_smoothing", config.label_smoothing)?;
    let head = ctx.class_head(vb, ctx.labels.len())?;
    Ok(Box::new(Cls {
        config,
        head,
        labels: ctx.labels.to_vec(),
    }))
}

inventory::submit! {
    ObjectiveEntry {
        name: "CLS",
        description: "language-of-origin classification from the [CLS] state or the mean",
        segments: 0,
        defaults: config_fields::<ClsConfig>,
        build,
    }
}

#[cfg(test)]
mod tests;
