//! One encoder pass for every objective: their sequences stacked into one batch.
//!
//! Rows are padded to the longest sequence (pad keys get no attention weight, so a
//! row's hidden states do not change), rows of objectives without segments get the
//! encoder's "no segment" id, and each row keeps its own causal flag. Larger matrix
//! products run much faster on a CPU than four small ones. Objectives with identical
//! inputs (CLS on masked names and MLM, masked alike) share one block of rows.

use crate::data::PAD;
use crate::objective::Prepared;
use candle_core::{Device, Result, Tensor};
use xp_models::{Causal, EncoderInput};

/// How many encoder rows per name a step stacks for `prepared`: one block per distinct
/// input, and how many of those are causal.
pub fn distinct_inputs(prepared: &[Prepared]) -> (usize, usize) {
    let mut distinct: Vec<&Prepared> = Vec::new();
    for p in prepared {
        if !distinct.iter().any(|q| q.input == p.input) {
            distinct.push(p);
        }
    }
    let causal = distinct.iter().filter(|p| p.input.causal).count();
    (distinct.len(), causal)
}

/// The stacked batch.
pub struct Stacked {
    tokens: Tensor,
    segments: Option<Tensor>,
    causal: Vec<bool>,
    /// Per objective: first row, rows, and its own sequence length.
    pub blocks: Vec<(usize, usize, usize)>,
}

impl Stacked {
    /// Stacks the encoder inputs of `prepared` on `device`.
    pub fn new(prepared: &[Prepared], no_segment: u32, device: &Device) -> Result<Self> {
        let seq = prepared.iter().map(|p| p.input.seq_len).max().unwrap_or(1);
        let any_segments = prepared.iter().any(|p| p.input.segments.is_some());
        let (mut tokens, mut segments, mut causal, mut blocks) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, p) in prepared.iter().enumerate() {
            if let Some(same) = prepared[..i].iter().position(|q| q.input == p.input) {
                blocks.push(blocks[same]);
                continue;
            }
            let len = p.input.seq_len;
            let rows = p.input.tokens.len() / len.max(1);
            blocks.push((causal.len(), rows, len));
            for r in 0..rows {
                tokens.extend_from_slice(&p.input.tokens[r * len..(r + 1) * len]);
                tokens.resize(tokens.len() + seq - len, PAD);
                if any_segments {
                    match &p.input.segments {
                        Some(s) => segments.extend_from_slice(&s[r * len..(r + 1) * len]),
                        None => segments.resize(segments.len() + len, no_segment),
                    }
                    segments.resize(segments.len() + seq - len, no_segment);
                }
                causal.push(p.input.causal);
            }
        }
        let shape = (causal.len(), seq);
        Ok(Self {
            tokens: Tensor::from_vec(tokens, shape, device)?,
            segments: any_segments
                .then(|| Tensor::from_vec(segments, shape, device))
                .transpose()?,
            causal,
            blocks,
        })
    }

    /// The encoder's view of it.
    pub fn input(&self) -> EncoderInput<'_> {
        let causal = if self.causal.iter().all(|&c| c) {
            Causal::All
        } else if self.causal.iter().any(|&c| c) {
            Causal::Rows(&self.causal)
        } else {
            Causal::None
        };
        EncoderInput {
            tokens: &self.tokens,
            segments: self.segments.as_ref(),
            causal,
        }
    }

    /// Objective `i`'s hidden states `(rows, its seq, dim)` out of the stacked output.
    pub fn block(&self, hidden: &Tensor, i: usize) -> Result<Tensor> {
        let (start, rows, len) = self.blocks[i];
        hidden.narrow(0, start, rows)?.narrow(1, 0, len)
    }
}
