//! GELU (the erf form) for the fused linear map, forward and backward.
//!
//! candle's `gelu_erf` computes its gradient as a dozen element-wise tensor ops, each a
//! full pass over the feed-forward activations. These loops do the same arithmetic, in
//! the same order and the same f32 roundings, in one pass each way (the erf eight lanes
//! at a time, [`super::erf`], the exponential as glibc computes it, [`super::exp`]), so
//! a model trains the same numbers with them as with `gelu_erf`.

use super::erf::erf_scaled;
use super::exp::{exp_nonpositive, table};
use crate::simd::{vectorized, Kernel};
use std::f32::consts::FRAC_1_SQRT_2;

/// candle's `gelu_erf` of `v`, given `erf(v / sqrt 2)`.
fn gelu(v: f32, erf: f32) -> f32 {
    (erf + 1.) * 0.5 * v
}

/// `gelu_erf`'s derivative at `a`, given `erf(a / sqrt 2)`, as candle's backward pass
/// computes it: `0.5 + 0.398942 exp(-a^2 / 2) a + 0.5 erf(a / sqrt 2)`, each step
/// rounded to f32 where its tensor op rounds (an affine map is `v * mul + add`).
#[inline(always)]
fn gelu_derivative(a: f32, erf: f32, table: &[u64; 32]) -> f32 {
    let neg_half_square = -(a * a) * 0.5f32 + 0.0;
    let exp = exp_nonpositive(neg_half_square, table);
    let scaled_exp_arg = (exp * (0.398942f64 as f32) + 0.0) * a;
    let erf_scaled_sqrt = erf * 0.5f32 + 0.0;
    (scaled_exp_arg * 1.0f32 + 0.5f32) + erf_scaled_sqrt
}

/// candle's backward pass scales by `1 / sqrt 2` computed in f64 and rounded: the same
/// f32 as the forward pass's constant.
const _: () = assert!((1.0 / std::f64::consts::SQRT_2) as f32 == FRAC_1_SQRT_2);

/// What the backward pass needs of the forward pass: the pre-activations and their
/// `erf(v / sqrt 2)`.
pub(super) struct Kept {
    pre: Vec<f32>,
    erf: Vec<f32>,
}

/// `gelu_erf` of each pre-activation, and what the backward pass needs.
pub(super) fn forward(pre: Vec<f32>) -> (Vec<f32>, Kept) {
    let erf = erf_scaled(&pre, FRAC_1_SQRT_2);
    let out = pre.iter().zip(&erf).map(|(&v, &e)| gelu(v, e)).collect();
    (out, Kept { pre, erf })
}

/// `grad *= gelu_erf'(pre)`: the gradient after the activation to the one before it.
pub(super) fn backward(kept: &Kept, grad: &mut [f32]) {
    vectorized(Backward { kept, grad });
}

/// [`backward`]'s loop.
struct Backward<'a> {
    kept: &'a Kept,
    grad: &'a mut [f32],
}

impl Kernel for Backward<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let table = table();
        for ((g, &a), &e) in self.grad.iter_mut().zip(&self.kept.pre).zip(&self.kept.erf) {
            *g *= gelu_derivative(a, e, table);
        }
    }
}
