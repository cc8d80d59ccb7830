//! LA: next character under a look-ahead (causal) mask, GPT-style.
//!
//! Input: the name without `[CLS]` and without the row's last position; target: the
//! same row shifted by one, so position `t` predicts character `t + 2` (as in the
//! reference, the first character is never a target). Loss over non-pad targets.

use serde::{Deserialize, Serialize};
use xp_objective::toml;
use xp_objective::{
    BuildContext, BuildResult, EncoderIds, NameBatch, Objective, ObjectiveHead, Prepared, Serving,
    SmallRng, TokenPredictor, VarBuilder, PAD,
};

/// `[objectives.LA]` has no fields of its own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LaConfig {}

/// The LA objective.
pub struct La {
    predictor: TokenPredictor,
}

/// Input ids, target positions and targets of a batch.
pub fn shift(batch: &NameBatch) -> Prepared {
    let len = batch.seq_len - 2;
    let mut tokens = Vec::with_capacity(batch.len() * len);
    let (mut positions, mut targets) = (Vec::new(), Vec::new());
    for i in 0..batch.len() {
        let row = batch.row(i);
        tokens.extend_from_slice(&row[1..1 + len]);
        for (t, &next) in row[2..2 + len].iter().enumerate() {
            if next != PAD {
                positions.push((i * len + t) as u32);
                targets.push(next);
            }
        }
    }
    Prepared {
        input: EncoderIds {
            tokens,
            seq_len: len,
            segments: None,
            causal: true,
        },
        positions: Some(positions),
        targets,
    }
}

impl Objective for La {
    fn prepare(&self, batch: &NameBatch, _rng: &mut SmallRng) -> Prepared {
        shift(batch)
    }

    fn head(&self) -> &dyn ObjectiveHead {
        &self.predictor
    }

    fn serving(&self) -> Option<Serving> {
        Some(Serving::CAUSAL)
    }
}

fn build(table: &toml::Table, ctx: &BuildContext, vb: VarBuilder) -> BuildResult {
    let _: LaConfig = ctx.parse(table)?;
    if ctx.max_len < 2 {
        return Err(ctx.invalid("max_len", "LA needs data.max_len >= 2").into());
    }
    Ok(Box::new(La {
        predictor: ctx.token_predictor(vb)?,
    }))
}

xp_objective::register! {
    name: "LA",
    description: "GPT-style next character under a look-ahead (causal) mask",
    segments: 0,
    config: LaConfig,
    fields: [],
    build: build,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_inputs_shifted_by_one_and_pads_are_ignored() {
        let names = ["Abe", "Smith", "Ivanovskiii"];
        let (b, vocab) = NameBatch::from_strs(&names, 11);
        let ids: Vec<Vec<u32>> = names.iter().map(|n| vocab.encode(n).unwrap()).collect();
        let p = shift(&b);
        let len = p.input.seq_len;
        assert_eq!(len, 10);
        assert!(p.input.causal);
        for i in 0..b.len() {
            let input = &p.input.tokens[i * len..(i + 1) * len];
            assert_eq!(
                &input[..ids[i].len().min(len)],
                &ids[i][..ids[i].len().min(len)]
            );
        }
        // Every character but the first is a target, predicted from the one before.
        assert_eq!(
            p.targets.len(),
            ids.iter().map(|n| n.len() - 1).sum::<usize>()
        );
        for (&pos, &target) in p.positions.as_ref().unwrap().iter().zip(&p.targets) {
            let (row, t) = (pos as usize / len, pos as usize % len);
            assert_eq!(target, ids[row][t + 1]);
            assert_eq!(p.input.tokens[pos as usize], ids[row][t]);
            assert_ne!(target, PAD);
        }
    }
}
