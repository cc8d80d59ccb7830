//! MLM: BERT-style masked characters.
//!
//! Characters are chosen with `mask_prob` (at least one, never all), shown as `[MASK]`
//! (or, in 15% of batches, as themselves or a random character); the head predicts
//! the true character at each chosen position. Padding mask only.

use serde::{Deserialize, Serialize};
use xp_objective::toml;
use xp_objective::{
    mask_characters, BuildContext, BuildResult, EncoderIds, NameBatch, Objective, ObjectiveHead,
    Prepared, Serving, SmallRng, TokenPredictor, VarBuilder,
};

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
    predictor: TokenPredictor,
}

impl Objective for Mlm {
    fn prepare(&self, batch: &NameBatch, _rng: &mut SmallRng) -> Prepared {
        let masked = mask_characters(batch, self.config.mask_prob);
        Prepared {
            input: EncoderIds::plain(masked.tokens, batch.seq_len),
            positions: Some(masked.positions),
            targets: masked.targets,
        }
    }

    fn head(&self) -> &dyn ObjectiveHead {
        &self.predictor
    }

    fn serving(&self) -> Option<Serving> {
        Some(Serving::default())
    }
}

fn build(table: &toml::Table, ctx: &BuildContext, vb: VarBuilder) -> BuildResult {
    let config: MlmConfig = ctx.parse(table)?;
    ctx.probability("mask_prob", config.mask_prob)?;
    Ok(Box::new(Mlm {
        config,
        predictor: ctx.token_predictor(vb)?,
    }))
}

xp_objective::register! {
    name: "MLM",
    description: "BERT-style masked characters: predict each hidden character",
    segments: 0,
    config: MlmConfig,
    fields: [("mask_prob", "probability that a character is chosen to be predicted")],
    build: build,
}

#[cfg(test)]
mod tests;
