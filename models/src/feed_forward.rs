//! The position-wise feed-forward block: `lin2(dropout(act(lin1(x))))`,
//! `(.., dim) -> (.., ffn_dim) -> (.., dim)`.

use crate::fused;
use crate::{Activation, Dense, Dropout, Mode};
use candle_core::{Result, Shape, Tensor};
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
        self.run(x, mode, fused::applies(x))
    }

    /// The forward pass, with the fused kernels when `fused` (CPU f32 only).
    pub(crate) fn run(&self, x: &Tensor, mode: &Mode, fused: bool) -> Result<Tensor> {
        if fused && self.activation == Activation::Relu {
            // lin1, ReLU and dropout as one op; the same draws as the composed form.
            let mut hidden = x.dims().to_vec();
            if let Some(last) = hidden.last_mut() {
                *last = self.lin1.weight().dim(0)?;
            }
            let keep = self
                .dropout
                .keep_mask(&Shape::from(hidden), x.device(), mode)?;
            return self
                .lin2
                .fused(&self.lin1.fused(x, true, keep)?, false, None);
        }
        let linear = |layer: &Dense, x: &Tensor| match fused {
            true => layer.fused(x, false, None),
            false => layer.composed(x),
        };
        let h = self.activation.apply(&linear(&self.lin1, x)?)?;
        linear(&self.lin2, &self.dropout.forward(&h, mode)?)
    }
}
