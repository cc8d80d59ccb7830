//! The residual connection around an encoder block: `x + dropout(a)`.

use crate::fused::ResidualOp;
use crate::{Dropout, Kernels, Mode, TokenRows};
use candle_core::{Result, Tensor};

/// `x + dropout(a)` over the rows of a pass; one fused op with the fused kernels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Residual {
    dropout: Dropout,
    kernels: Kernels,
}

impl Residual {
    /// A residual connection whose branch drops with probability `p`.
    pub(crate) fn new(p: f32, kernels: Kernels) -> Self {
        Self {
            dropout: Dropout::new(p),
            kernels,
        }
    }

    /// `x + dropout(a)`, both `(rows, dim)` over `rows` (or the full grid).
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        a: &Tensor,
        rows: &TokenRows,
        mode: &Mode,
    ) -> Result<Tensor> {
        if self.kernels.is_fused() {
            let width = a.dims().last().copied().unwrap_or(0);
            let keep = rows.keep_mask(&self.dropout, width, a.device(), mode)?;
            return x
                .contiguous()?
                .apply_op2(&a.contiguous()?, ResidualOp { keep });
        }
        x + self.dropout.forward(a, mode)?
    }
}
