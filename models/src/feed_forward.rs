//! The position-wise feed-forward block: `lin2(dropout(act(lin1(x))))`,
//! `(.., dim) -> (.., ffn_dim) -> (.., dim)`.

use crate::{Activation, Dense, Dropout, Mode};
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// Two linear maps around an activation.
#[derive(Debug, Clone)]
pub struct FeedForward {
    pub(crate) lin1: Dense,
    pub(crate) lin2: Dense,
    activation: Activation,
    dropout: Dropout,
}

impl FeedForward {
    /// Creates or loads `lin1` and `lin2` under `vb`.
    pub fn new(
        vb: VarBuilder,
        dim: usize,
        ffn_dim: usize,
        activation: Activation,
        dropout: f32,
    ) -> Result<Self> {
        Ok(Self {
            lin1: Dense::new(dim, ffn_dim, vb.pp("lin1"))?,
            lin2: Dense::new(ffn_dim, dim, vb.pp("lin2"))?,
            activation,
            dropout: Dropout::new(dropout),
        })
    }

    /// `(.., dim) -> (.., dim)`
    pub fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        let h = self.activation.apply(&self.lin1.forward(x)?)?;
        self.lin2.forward(&self.dropout.forward(&h, mode)?)
    }
}
