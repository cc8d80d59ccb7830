//! A linear layer `y = x W^T + b`, `(.., in) -> (.., out)`, with PyTorch's parameter
//! layout (`weight (out, in)`, `bias (out)`) and a fast bias gradient (see `rows`).

use crate::fused;
use crate::rows::add_rows;
use crate::{Activation, Kernels};
use candle_core::{Result, Tensor, D};
use candle_nn::{Init, Module, VarBuilder};

/// A dense layer.
#[derive(Debug, Clone)]
pub struct Dense {
    weight: Tensor,
    bias: Tensor,
    kernels: Kernels,
}

impl Dense {
    /// Creates or loads `weight` and `bias` under `vb`, initialised as PyTorch's
    /// `nn.Linear`: both uniform in `+-1/sqrt(in_dim)`.
    pub fn new(in_dim: usize, out_dim: usize, kernels: Kernels, vb: VarBuilder) -> Result<Self> {
        let bound = 1.0 / (in_dim as f64).sqrt();
        let init = Init::Uniform {
            lo: -bound,
            up: bound,
        };
        Self::with_init((in_dim, out_dim), (init, init), kernels, vb)
    }

    /// Creates or loads the layer `(in_dim, out_dim)` with the given initialisations
    /// `(weight, bias)`.
    pub fn with_init(
        (in_dim, out_dim): (usize, usize),
        (weight, bias): (Init, Init),
        kernels: Kernels,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints((out_dim, in_dim), "weight", weight)?,
            bias: vb.get_with_hints(out_dim, "bias", bias)?,
            kernels,
        })
    }

    /// `(out, in)`
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// `(out,)`
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// `(.., in) -> (.., out)`
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if self.kernels.is_fused() {
            return self.fused(x, None, None);
        }
        self.composed(x)
    }

    /// `keep * act(x W^T + b)` as one fused CPU op, `act` the identity when `None`.
    pub(crate) fn fused(
        &self,
        x: &Tensor,
        activation: Option<Activation>,
        keep: Option<Tensor>,
    ) -> Result<Tensor> {
        fused::linear(x, &self.weight, &self.bias, activation, keep)
    }

    /// The forward pass in candle ops (any device).
    pub(crate) fn composed(&self, x: &Tensor) -> Result<Tensor> {
        let in_dim = x.dim(D::Minus1)?;
        let mut shape = x.dims().to_vec();
        let rows = x.elem_count() / in_dim.max(1);
        let y = x.reshape((rows, in_dim))?.matmul(&self.weight.t()?)?;
        if let Some(last) = shape.last_mut() {
            *last = self.weight.dim(0)?;
        }
        add_rows(&y, &self.bias)?.reshape(shape)
    }
}

impl Module for Dense {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Dense::forward(self, x)
    }
}
