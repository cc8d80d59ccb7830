//! Attention masks as additive biases.
//!
//! Masked keys get a large negative bias rather than `-inf`: `exp` underflows to an
//! exact zero all the same, and a row with every key masked stays finite.

use candle_core::{DType, Device, Result, Tensor};

/// The token id of `[PAD]`; pad keys get no attention weight.
pub const PAD_ID: u32 = 0;

/// Bias added to the scores of masked keys.
const MASKED: f32 = -1e9;

/// Which rows of a batch attend causally (to keys at or before the query only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Causal<'a> {
    /// No row: bidirectional attention.
    None,
    /// Every row.
    All,
    /// One flag per row, for batches that stack several objectives' sequences.
    Rows(&'a [bool]),
}

/// The additive attention bias for `tokens` `(batch, seq)`:
/// `(batch, 1, 1, seq)` for padding alone, `(batch, 1, seq, seq)` with a causal part.
pub fn attention_bias(tokens: &Tensor, causal: Causal) -> Result<Tensor> {
    let (batch, seq) = tokens.dims2()?;
    let pad = (tokens.eq(PAD_ID)?.to_dtype(DType::F32)? * MASKED as f64)?;
    let pad = pad.reshape((batch, 1, 1, seq))?;
    match causal {
        Causal::None => Ok(pad),
        Causal::All => pad.broadcast_add(&causal_bias(seq, tokens.device())?),
        Causal::Rows(rows) => {
            let flags: Vec<f32> = rows.iter().map(|&c| if c { 1.0 } else { 0.0 }).collect();
            let flags = Tensor::from_vec(flags, (batch, 1, 1, 1), tokens.device())?;
            pad.broadcast_add(&causal_bias(seq, tokens.device())?.broadcast_mul(&flags)?)
        }
    }
}

/// `(seq, seq)`: zero on and below the diagonal, masked above it.
fn causal_bias(seq: usize, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..seq)
        .flat_map(|q| (0..seq).map(move |k| if k > q { MASKED } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (seq, seq), device)
}
