//! Reading a sequence's hidden states as one vector, or a set of rows.

use candle_core::{DType, Result, Tensor, D};
use serde::{Deserialize, Serialize};
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
