//! Layer normalisation over the last dimension, differentiable.
//!
//! `y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias`, shapes `(.., dim) -> (.., dim)`.
//! candle-nn's `LayerNorm::forward` uses a fused kernel that records no backward op
//! (see docs), so gradients would silently stop there. On CPU this one is our own
//! fused kernel with its backward (`fused`); elsewhere it is composed of
//! differentiable ops.

use crate::fused::LayerNormOp;
use crate::{add_rows, mul_rows, Kernels};
use candle_core::{Result, Tensor, D};
use candle_nn::{Init, Module, VarBuilder};

/// PyTorch's default epsilon.
const EPS: f32 = 1e-5;

/// A LayerNorm with learned scale and shift.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    kernels: Kernels,
}

impl LayerNorm {
    /// Creates or loads `weight` (ones) and `bias` (zeros) of size `dim` under `vb`.
    pub fn new(dim: usize, kernels: Kernels, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(dim, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(dim, "bias", Init::Const(0.0))?,
            kernels,
        })
    }

    /// The scale, for export.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The shift, for export.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// `(.., dim) -> (.., dim)`
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if self.kernels.is_fused() {
            return self.fused(x);
        }
        self.composed(x)
    }

    /// The forward pass as one fused CPU op.
    pub(crate) fn fused(&self, x: &Tensor) -> Result<Tensor> {
        x.contiguous()?
            .apply_op3(&self.weight, &self.bias, LayerNormOp { eps: EPS })
    }

    /// The forward pass in candle ops (any device).
    pub(crate) fn composed(&self, x: &Tensor) -> Result<Tensor> {
        let dim = x.dim(D::Minus1)? as f64;
        let centered = x.broadcast_sub(&(x.sum_keepdim(D::Minus1)? / dim)?)?;
        let var = (centered.sqr()?.sum_keepdim(D::Minus1)? / dim)?;
        let normed = centered.broadcast_div(&(var + EPS as f64)?.sqrt()?)?;
        add_rows(&mul_rows(&normed, &self.weight)?, &self.bias)
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        LayerNorm::forward(self, x)
    }
}
