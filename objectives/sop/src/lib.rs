//! SOP: sentence-order prediction (ALBERT's successor to NSP), for names.
//!
//! Each name is cut between two characters into A and B. With `swap_prob` the halves
//! are swapped, `[CLS] B [SEP] A` (label 1), else kept, `[CLS] A [SEP] B` (label 0).
//! Unlike NSP both halves always come from the same name, so the head must learn
//! order, not topic. Names are lower-cased first (`lowercase = true`, the default):
//! otherwise the capital letter that starts every name tells which half comes first,
//! and the task is solved without learning anything (test accuracy 0.999 after 2000
//! steps). Rows are `max_len + 2` long; segment ids are 0 up to `[SEP]`, 1 after.

use serde::{Deserialize, Serialize};
use xp_objective::toml;
use xp_objective::{
    cut_point, BuildContext, BuildResult, NameBatch, Objective, ObjectiveHead, PairRows, Pool,
    PooledClassifier, Prepared, Rng, Serving, SmallRng, VarBuilder, Vocab,
};

/// `[objectives.SOP]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SopConfig {
    /// Probability that the halves are swapped.
    pub swap_prob: f64,
    /// `start` or `mean`.
    pub pool: Pool,
    /// Lower-case the names before cutting (see the module docs).
    pub lowercase: bool,
}

impl Default for SopConfig {
    fn default() -> Self {
        Self {
            swap_prob: 0.5,
            pool: Pool::Start,
            lowercase: true,
        }
    }
}

/// The SOP objective.
pub struct Sop {
    config: SopConfig,
    classifier: PooledClassifier,
    /// Token id -> the id of its lower-case token (itself for specials).
    lower: Vec<u32>,
}

/// Token id -> id of the lower-case form of its token, where the vocabulary has it.
pub fn lowercase_ids(vocab: &Vocab) -> Vec<u32> {
    let first = vocab.first_char_id();
    (0..vocab.len() as u32)
        .map(|id| {
            match vocab
                .tokens()
                .get((id as usize).wrapping_sub(first as usize))
            {
                Some(t) if id >= first => vocab.get(&t.to_lowercase()).unwrap_or(id),
                _ => id,
            }
        })
        .collect()
}

/// Builds the SOP rows of `batch`: cut, maybe swap, label; characters mapped through
/// `lower` when given.
pub fn order_pairs(
    batch: &NameBatch,
    swap_prob: f64,
    lower: Option<&[u32]>,
    rng: &mut SmallRng,
) -> Prepared {
    let mut rows = PairRows::new(batch.len(), batch.seq_len + 1);
    let mut targets = Vec::with_capacity(batch.len());
    for i in 0..batch.len() {
        let chars: Vec<u32> = match lower {
            Some(map) => batch.chars(i).iter().map(|&c| map[c as usize]).collect(),
            None => batch.chars(i).to_vec(),
        };
        let cut = cut_point(chars.len(), rng);
        let swap = rng.random_bool(swap_prob);
        let (head, tail) = chars.split_at(cut);
        if swap {
            rows.push(tail, head);
        } else {
            rows.push(head, tail);
        }
        targets.push(swap as u32);
    }
    rows.into_prepared(targets)
}

impl Objective for Sop {
    fn prepare(&self, batch: &NameBatch, rng: &mut SmallRng) -> Prepared {
        let lower = self.config.lowercase.then_some(self.lower.as_slice());
        order_pairs(batch, self.config.swap_prob, lower, rng)
    }

    fn head(&self) -> &dyn ObjectiveHead {
        &self.classifier
    }

    fn serving(&self) -> Option<Serving> {
        Some(Serving::PAIRS)
    }
}

fn build(table: &toml::Table, ctx: &BuildContext, vb: VarBuilder) -> BuildResult {
    let config: SopConfig = ctx.parse(table)?;
    ctx.probability("swap_prob", config.swap_prob)?;
    Ok(Box::new(Sop {
        classifier: ctx.pooled_classifier(2, config.pool, vb)?,
        config,
        lower: lowercase_ids(ctx.vocab),
    }))
}

xp_objective::register! {
    name: "SOP",
    description: "ALBERT-style sentence-order prediction: were the halves of the name swapped?",
    segments: 2,
    config: SopConfig,
    fields: [
        ("swap_prob", "probability that the two halves are swapped"),
        ("pool", "\"start\" reads the [CLS] state, \"mean\" averages the row"),
        ("lowercase", "lower-case names first, so the capital does not tell the order"),
    ],
    build: build,
}

#[cfg(test)]
mod tests;
