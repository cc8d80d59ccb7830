//! Reading a sequence's hidden states as one vector, or a set of rows.

use candle_core::{DType, Result, Tensor, D};
use serde::{Deserialize, Serialize};
use xp_models::onnx::{Attr, OnnxGraph};
use xp_models::PAD_ID;

/// How a sequence-level head reads the encoder output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Pool {
    /// The hidden state at `[CLS]` (position 0).
    #[default]
    Start,
    /// The mean over non-pad positions (the reference also averaged pads; we mask them).
    Mean,
}

impl Pool {
    /// `(batch, seq, dim)` -> `(batch, dim)`.
    pub fn apply(self, hidden: &Tensor, tokens: &Tensor) -> Result<Tensor> {
        match self {
            Pool::Start => pool_start(hidden),
            Pool::Mean => pool_mean(hidden, tokens),
        }
    }

    /// The ONNX form of [`Pool::apply`]: `hidden (batch, seq, dim)`, `tokens` int64
    /// `(batch, seq)` -> `(batch, dim)`.
    pub fn to_onnx(self, g: &mut OnnxGraph, hidden: &str, tokens: &str) -> String {
        match self {
            Pool::Start => {
                let first = g.const_i64(&[0], &[]);
                g.op("Gather", &[hidden, &first], &[("axis", Attr::Int(1))])
            }
            Pool::Mean => {
                let pad = g.const_i64(&[PAD_ID as i64], &[]);
                let is_pad = g.op("Equal", &[tokens, &pad], &[]);
                let keep = g.op("Not", &[&is_pad], &[]);
                let keep = g.op("Cast", &[&keep], &[("to", Attr::Int(1))]); // FLOAT
                let last = g.const_i64(&[2], &[1]);
                let keep = g.op("Unsqueeze", &[&keep, &last], &[]);
                let kept = g.op("Mul", &[hidden, &keep], &[]);
                let seq_axis = g.const_i64(&[1], &[1]);
                let no_keep = [("keepdims", Attr::Int(0))];
                let sum = g.op("ReduceSum", &[&kept, &seq_axis], &no_keep);
                let count = g.op("ReduceSum", &[&keep, &seq_axis], &no_keep);
                let one = g.const_f32(&[1.0], &[]);
                let count = g.op("Max", &[&count, &one], &[]);
                g.op("Div", &[&sum, &count], &[])
            }
        }
    }
}

/// `(batch, seq, dim)` -> `(batch, dim)` at position 0.
pub fn pool_start(hidden: &Tensor) -> Result<Tensor> {
    hidden.narrow(1, 0, 1)?.squeeze(1)
}

/// `(batch, seq, dim)` -> `(batch, dim)`, the mean over positions whose token is not `[PAD]`.
pub fn pool_mean(hidden: &Tensor, tokens: &Tensor) -> Result<Tensor> {
    let keep = tokens
        .ne(PAD_ID)?
        .to_dtype(DType::F32)?
        .unsqueeze(D::Minus1)?;
    let sum = hidden.broadcast_mul(&keep)?.sum(1)?;
    sum.broadcast_div(&keep.sum(1)?.clamp(1.0, f64::MAX)?)
}

/// `(batch, seq, dim)` -> `(n, dim)`: the rows at flat indices `row * seq + position`.
pub fn gather_rows(hidden: &Tensor, positions: &Tensor) -> Result<Tensor> {
    let (batch, seq, dim) = hidden.dims3()?;
    hidden
        .reshape((batch * seq, dim))?
        .index_select(positions, 0)
}
