//! GELU (the erf form) as one op with its own backward pass.
//!
//! candle's `gelu_erf` computes its gradient as a dozen element-wise tensor ops, each a
//! full pass over the feed-forward activations. This op does the same arithmetic, in
//! the same order and the same f32 roundings, in one pass each way (the erf eight lanes
//! at a time, [`super::erf`]), so a model trains the same numbers with it as with
//! `gelu_erf`.

use super::erf::erf_scaled;
use super::values;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use std::f32::consts::FRAC_1_SQRT_2;

/// `gelu_erf(x)`.
pub(crate) struct GeluOp;

/// candle's `gelu_erf` of `v`, given `erf(v / sqrt 2)`.
fn gelu(v: f32, erf: f32) -> f32 {
    (erf + 1.) * 0.5 * v
}

/// `gelu_erf`'s derivative at `a`, given `erf(a / sqrt 2)`, as candle's backward pass
/// computes it: `0.5 + 0.398942 exp(-a^2 / 2) a + 0.5 erf(a / sqrt 2)`, each step
/// rounded to f32 where its tensor op rounds (an affine map is `v * mul + add`).
fn gelu_derivative(a: f32, erf: f32) -> f32 {
    let neg_half_square = -(a * a) * 0.5f32 + 0.0;
    let scaled_exp_arg = (neg_half_square.exp() * (0.398942f64 as f32) + 0.0) * a;
    let erf_scaled_sqrt = erf * 0.5f32 + 0.0;
    (scaled_exp_arg * 1.0f32 + 0.5f32) + erf_scaled_sqrt
}

/// candle's backward pass scales by `1 / sqrt 2` computed in f64 and rounded: the same
/// f32 as the forward pass's constant.
const _: () = assert!((1.0 / std::f64::consts::SQRT_2) as f32 == FRAC_1_SQRT_2);

impl CustomOp1 for GeluOp {
    fn name(&self) -> &'static str {
        "xp-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = values(storage, layout)?;
        let mut out = erf_scaled(x, FRAC_1_SQRT_2);
        out.iter_mut().zip(x).for_each(|(e, &v)| *e = gelu(v, *e));
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let da = super::with_values(arg, |a| {
            super::with_values(grad, |g| {
                let mut da = erf_scaled(a, FRAC_1_SQRT_2);
                for ((d, &a), &g) in da.iter_mut().zip(a).zip(g) {
                    *d = g * gelu_derivative(a, *d);
                }
                Ok(da)
            })
        })?;
        Tensor::from_vec(da, arg.shape(), arg.device()).map(Some)
    }
}
