//! NSP: BERT-style "is B the continuation of A?" for names.
//!
//! Each name is cut between two characters: `[CLS] A [SEP] B`. With `swap_prob`, B is
//! replaced by the tail of another name of the batch, cut at a random point (label 1,
//! "not next"). Rows are `max_len + 2` long; segment ids are 0 up to `[SEP]`, 1 after.

use candle_core::Tensor;
use rand::Rng;
use serde::{Deserialize, Serialize};
use xp_framework::config::parse_table;
use xp_framework::objective::{
    config_fields, config_table, export_pooled, serve_pooled, BuildContext, DeviceBatch, NameBatch,
    Objective, ObjectiveEntry, ObjectiveError, PairRows, Pool, Prepared, Serving,
};
use xp_framework::SmallRng;
use xp_models::onnx::OnnxGraph;
use xp_models::{Head, Mode};

/// `[objectives.NSP]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NspConfig {
    /// Probability that B comes from another name.
    pub swap_prob: f64,
    /// `start` or `mean`.
    pub pool: Pool,
}

impl Default for NspConfig {
    fn default() -> Self {
        Self {
            swap_prob: 0.5,
            pool: Pool::Start,
        }
    }
}

/// The NSP objective.
pub struct Nsp {
    config: NspConfig,
    head: Head,
}

/// A cut point leaving at least one character on each side (or the whole name if it
/// has one character).
fn cut(len: usize, rng: &mut SmallRng) -> usize {
    if len < 2 {
        len
    } else {
        rng.random_range(1..len)
    }
}

/// Builds the NSP rows of `batch`.
pub fn pair_up(batch: &NameBatch, swap_prob: f64, rng: &mut SmallRng) -> Prepared {
    let mut rows = PairRows::new(batch.len(), batch.seq_len + 1);
    let mut targets = Vec::with_capacity(batch.len());
    for i in 0..batch.len() {
        let chars = batch.chars(i);
        let k = cut(chars.len(), rng);
        let swap = batch.len() > 1 && rng.random_bool(swap_prob);
        let tail = if swap {
            let j = (i + rng.random_range(1..batch.len())) % batch.len();
            let other = batch.chars(j);
            &other[cut(other.len(), rng)..]
        } else {
            &chars[k..]
        };
        rows.push(&chars[..k], tail);
        targets.push(swap as u32);
    }
    rows.into_prepared(targets)
}

impl Objective for Nsp {
    fn name(&self) -> &str {
        "NSP"
    }

    fn config(&self) -> toml::Table {
        config_table(&self.config)
    }

    fn prepare(&self, batch: &NameBatch, rng: &mut SmallRng) -> Prepared {
        pair_up(batch, self.config.swap_prob, rng)
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

    fn serving(&self) -> Option<Serving> {
        Some(Serving {
            segments: true,
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
    let config: NspConfig = parse_table(table, "[objectives.NSP]")?;
    ctx.probability("NSP", "swap_prob", config.swap_prob)?;
    if ctx.batch_size < 2 {
        return Err(ctx
            .invalid(
                "NSP",
                "swap_prob",
                "NSP swaps tails between names of a batch: set train.batch_size to 2 or more",
            )
            .into());
    }
    Ok(Box::new(Nsp {
        config,
        head: ctx.class_head(vb, 2)?,
    }))
}

inventory::submit! {
    ObjectiveEntry {
        name: "NSP",
        description: "BERT-style next-segment prediction: is B the rest of A's name?",
        segments: 2,
        defaults: config_fields::<NspConfig>,
        build,
    }
}

#[cfg(test)]
mod tests;
