//! Fused CPU kernels, each with its own backward pass, for the layers that dominate a
//! training step: the linear map (with its bias, and for the feed-forward block its
//! activation, ReLU or GELU, and dropout), layer normalisation, the residual connection with its dropout,
//! and the attention core (scores, mask, softmax, dropout, values).
//!
//! Why: candle's backward pass accumulates the gradient of every graph node into a
//! fresh zero tensor (a `zeros` and an `add` per node), so a layer written as ten
//! element-wise ops pays some thirty passes over its activations. As one custom op
//! it pays one forward and one backward pass. A profile of `four_losses` put that
//! accumulation alone at a fifth of the step.
//!
//! The kernels run on CPU f32 tensors. Whether a model uses them is its
//! [`crate::Kernels`], chosen once when it is built; the composed form of each layer
//! computes the same maths on any device.

mod attention;
mod erf;
mod exp;
mod gelu;
mod gemm;
mod layer_norm;
mod linear;
mod residual;

pub(crate) use attention::AttentionOp;
pub use attention::STORED_WEIGHTS;
pub(crate) use layer_norm::LayerNormOp;
pub(crate) use linear::LinearOp;
pub(crate) use residual::ResidualOp;

use crate::Activation;
use candle_core::{CpuStorage, Layout, Result, Storage, Tensor};

/// `keep * act(x W^T + b)` as one op, `act` the identity when `None`.
pub(crate) fn linear(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    activation: Option<Activation>,
    keep: Option<Tensor>,
) -> Result<Tensor> {
    x.contiguous()?
        .apply_op3(weight, bias, LinearOp::new(activation, keep))
}

/// The f32 values of a contiguous CPU storage under `layout`.
fn values<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("fused kernel: input is not contiguous")
    };
    Ok(&storage.as_slice::<f32>()?[start..end])
}

/// Calls `f` with the f32 values of `t` (made contiguous first if needed).
fn with_values<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cpu(cpu) => f(values(cpu, layout)?),
        _ => candle_core::bail!("fused kernel: tensor is not on the CPU"),
    }
}

/// Sums the rows of `values` (`rows x width`, row-major) into one row.
fn column_sums(values: &[f32], width: usize) -> Vec<f32> {
    let mut sums = vec![0f32; width];
    for row in values.chunks_exact(width) {
        for (s, v) in sums.iter_mut().zip(row) {
            *s += v;
        }
    }
    sums
}

#[cfg(test)]
mod tests;
