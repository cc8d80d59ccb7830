//! The position-wise feed-forward block: `lin2(dropout(act(lin1(x))))`,
//! `(.., dim) -> (.., ffn_dim) -> (.., dim)`.

use crate::{Activation, Dense, Dropout, Kernels, Mode, TokenRows};
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// Two linear maps around an activation.
#[derive(Debug, Clone)]
pub struct FeedForward {
    pub(crate) lin1: Dense,
    pub(crate) lin2: Dense,
    activation: Activation,
    dropout: Dropout,
    kernels: Kernels,
}

impl FeedForward {
    /// Creates or loads `lin1` and `lin2` under `vb`.
    pub fn new(
        dim: usize,
        ffn_dim: usize,
        activation: Activation,
        dropout: f32,
        kernels: Kernels,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            lin1: Dense::new(dim, ffn_dim, kernels, vb.pp("lin1"))?,
            lin2: Dense::new(ffn_dim, dim, kernels, vb.pp("lin2"))?,
            activation,
            dropout: Dropout::new(dropout),
            kernels,
        })
    }

    /// `(.., dim) -> (.., dim)` over `rows` (see [`TokenRows`]).
    pub fn forward(&self, x: &Tensor, rows: &TokenRows, mode: &Mode) -> Result<Tensor> {
        self.run(x, rows, mode, self.kernels.is_fused())
    }

    /// The forward pass, with the fused kernels when `fused` (CPU f32 only).
    pub(crate) fn run(
        &self,
        x: &Tensor,
        rows: &TokenRows,
        mode: &Mode,
        fused: bool,
    ) -> Result<Tensor> {
        if fused {
            // The dropout mask is drawn over the whole grid, as the composed form
            // draws it; lin1, the activation and dropout are one op.
            let width = self.lin1.weight().dim(0)?;
            let keep = rows.keep_mask(&self.dropout, width, x.device(), mode)?;
            let h = self.lin1.fused(x, Some(self.activation), keep)?;
            return self.lin2.fused(&h, None, None);
        }
        let h = self.activation.apply(&self.lin1.composed(x)?)?;
        self.lin2.composed(&self.dropout.forward(&h, mode)?)
    }
}
