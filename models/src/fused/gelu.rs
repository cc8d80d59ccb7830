//! GELU (the erf form) as one op with its own backward pass.
//!
//! candle's `gelu_erf` computes its gradient as a dozen element-wise tensor ops, each a
//! full pass over the feed-forward activations. This op does the same arithmetic, in
//! the same order and the same f32 roundings, in one pass each way, so a model trains
//! the same numbers with it as with `gelu_erf`.

use super::values;
use candle_core::cpu::erf::erf_f32;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// `gelu_erf(x)`.
pub(crate) struct GeluOp;

/// candle's `gelu_erf` of one value.
fn gelu(v: f32) -> f32 {
    (erf_f32(v * std::f32::consts::FRAC_1_SQRT_2) + 1.) * 0.5 * v
}

/// `gelu_erf`'s derivative at `a`, as candle's backward pass computes it:
/// `0.5 + 0.398942 exp(-a^2 / 2) a + 0.5 erf(a / sqrt 2)`, each step rounded to f32
/// where its tensor op rounds (an affine map is `v * mul + add`).
fn gelu_derivative(a: f32) -> f32 {
    let neg_half_square = -(a * a) * 0.5f32 + 0.0;
    let scaled_exp_arg = (neg_half_square.exp() * (0.398942f64 as f32) + 0.0) * a;
    let arg_scaled_sqrt = a * ((1.0 / 2f64.sqrt()) as f32) + 0.0;
    let erf_scaled_sqrt = erf_f32(arg_scaled_sqrt) * 0.5f32 + 0.0;
    (scaled_exp_arg * 1.0f32 + 0.5f32) + erf_scaled_sqrt
}

impl CustomOp1 for GeluOp {
    fn name(&self) -> &'static str {
        "xp-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let out = values(storage, layout)?.iter().map(|&v| gelu(v)).collect();
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let da = super::with_values(arg, |a| {
            super::with_values(grad, |g| {
                Ok(a.iter()
                    .zip(g)
                    .map(|(&a, &g)| g * gelu_derivative(a))
                    .collect::<Vec<f32>>())
            })
        })?;
        Tensor::from_vec(da, arg.shape(), arg.device()).map(Some)
    }
}
