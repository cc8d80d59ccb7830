//! The non-linearity of feed-forward blocks and heads.

use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};

/// Activation function; `Gelu` is the exact (erf) form, as PyTorch's `nn.GELU()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, x)
    #[default]
    Relu,
    /// x * Phi(x), with the erf form of Phi (not candle's tanh approximation).
    Gelu,
}

impl Activation {
    /// Applies the activation element-wise.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Relu => x.relu(),
            Activation::Gelu => x.gelu_erf(),
        }
    }
}
