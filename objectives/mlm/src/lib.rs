//! MLM: BERT-style masked characters.
//!
//! Characters are chosen with `mask_prob` (at least one, never all), shown as `[MASK]`
//! (or, in 15% of batches, as themselves or a random character); the head predicts
//! the true character at each chosen position. Padding mask only.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use xp_framework::config::parse_table;
use xp_framework::objective::{
    config_fields, config_table, mask_characters, BuildContext, DeviceBatch, EncoderIds, NameBatch,
    Objective, ObjectiveEntry, ObjectiveError, Prepared, Serving,
};
use xp_framework::SmallRng;
use xp_models::onnx::OnnxGraph;
use xp_models::{Head, Mode};

/// `[objectives.MLM]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MlmConfig {
    /// Probability that a character is chosen.
    pub mask_prob: f64,
}

impl Default for MlmConfig {
    fn default() -> Self {
        Self { mask_prob: 0.15 }
    }
}

/// The MLM objective.
pub struct Mlm {
    config: MlmConfig,
    head: Head,
}

impl Objective for Mlm {
    fn name(&self) -> &str {
        "MLM"
    }

    fn config(&self) -> toml::Table {
        config_table(&self.config)
    }

    fn prepare(&self, batch: &NameBatch, _rng: &mut SmallRng) -> Prepared {
        let masked = mask_characters(batch, self.config.mask_prob);
        Prepared {
            input: EncoderIds {
                tokens: masked.tokens,
                seq_len: batch.seq_len,
                segments: None,
                causal: false,
            },
            positions: Some(masked.positions),
            targets: masked.targets,
        }
    }

    fn logits(
        &self,
        hidden: &Tensor,
        batch: &DeviceBatch,
        mode: &Mode,
    ) -> candle_core::Result<Tensor> {
        self.head.forward(&batch.gathered(hidden)?, mode)
    }

    fn serving(&self) -> Option<Serving> {
        Some(Serving {
            ..Serving::default()
        })
    }

    fn serve(&self, hidden: &Tensor, _tokens: &Tensor) -> candle_core::Result<Tensor> {
        self.head.forward(hidden, &Mode::eval())
    }

    fn export(
        &self,
        graph: &mut OnnxGraph,
        hidden: &str,
        _tokens: &str,
        prefix: &str,
    ) -> candle_core::Result<String> {
        self.head.to_onnx(graph, hidden, prefix)
    }
}

fn build(
    table: &toml::Table,
    ctx: &BuildContext,
    vb: candle_nn::VarBuilder,
) -> Result<Box<dyn Objective>, ObjectiveError> {
    let config: MlmConfig = parse_table(table, "[objectives.MLM]")?;
    ctx.probability("MLM", "mask_prob", config.mask_prob)?;
    Ok(Box::new(Mlm {
        config,
        head: ctx.token_head(vb)?,
    }))
}

inventory::submit! {
    ObjectiveEntry {
        name: "MLM",
        description: "BERT-style masked characters: predict each hidden character",
        segments: 0,
        defaults: config_fields::<MlmConfig>,
        build,
    }
}

#[cfg(test)]
mod tests;
