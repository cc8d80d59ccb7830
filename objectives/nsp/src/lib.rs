//! NSP: BERT-style "is B the continuation of A?" for names.
//!
//! Each name is cut between two characters: `[CLS] A [SEP] B`. With `swap_prob`, B is
//! replaced by the tail of another name of the batch, cut at a random point (label 1,
//! "not next"). Rows are `max_len + 2` long; segment ids are 0 up to `[SEP]`, 1 after.

use serde::{Deserialize, Serialize};
use xp_objective::toml;
use xp_objective::{
    cut_point, BuildContext, BuildResult, NameBatch, Objective, ObjectiveHead, PairRows, Pool,
    PooledClassifier, Prepared, Rng, Serving, SmallRng, VarBuilder,
};

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
    classifier: PooledClassifier,
}

/// Builds the NSP rows of `batch`.
pub fn pair_up(batch: &NameBatch, swap_prob: f64, rng: &mut SmallRng) -> Prepared {
    let mut rows = PairRows::new(batch.len(), batch.seq_len + 1);
    let mut targets = Vec::with_capacity(batch.len());
    for i in 0..batch.len() {
        let chars = batch.chars(i);
        let k = cut_point(chars.len(), rng);
        let swap = batch.len() > 1 && rng.random_bool(swap_prob);
        let tail = if swap {
            let j = (i + rng.random_range(1..batch.len())) % batch.len();
            let other = batch.chars(j);
            &other[cut_point(other.len(), rng)..]
        } else {
            &chars[k..]
        };
        rows.push(&chars[..k], tail);
        targets.push(swap as u32);
    }
    rows.into_prepared(targets)
}

impl Objective for Nsp {
    fn prepare(&self, batch: &NameBatch, rng: &mut SmallRng) -> Prepared {
        pair_up(batch, self.config.swap_prob, rng)
    }

    fn head(&self) -> &dyn ObjectiveHead {
        &self.classifier
    }

    fn serving(&self) -> Option<Serving> {
        Some(Serving::PAIRS)
    }
}

fn build(table: &toml::Table, ctx: &BuildContext, vb: VarBuilder) -> BuildResult {
    let config: NspConfig = ctx.parse(table)?;
    ctx.probability("swap_prob", config.swap_prob)?;
    if ctx.batch_size < 2 {
        let reason = "NSP swaps tails between names of a batch: set train.batch_size to 2 or more";
        return Err(ctx.invalid("swap_prob", reason).into());
    }
    Ok(Box::new(Nsp {
        classifier: ctx.pooled_classifier(2, config.pool, vb)?,
        config,
    }))
}

xp_objective::register! {
    name: "NSP",
    description: "BERT-style next-segment prediction: is B the rest of A's name?",
    segments: 2,
    config: NspConfig,
    fields: [
        ("swap_prob", "probability that B is the tail of another name of the batch"),
        ("pool", "\"start\" reads the [CLS] state, \"mean\" averages the row"),
    ],
    build: build,
}

#[cfg(test)]
mod tests;
