//! Layer normalisation over the last dimension as one op, forward and backward.
//!
//! Forward per row: `xhat = (x - mean) / sqrt(var + eps)`, `y = xhat * w + b`.
//! Backward per row, with `gw = dy * w`:
//! `dx = (gw - mean(gw) - xhat * mean(gw * xhat)) / sqrt(var + eps)`,
//! and `dw`, `db` summed over rows from `dy * xhat` and `dy`.

use super::{values, with_values};
use crate::simd::{sum, sum_zip, vectorized, Kernel};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

/// The fused layer norm. Inputs: `x (.., dim)`, `weight (dim)`, `bias (dim)`.
pub(crate) struct LayerNormOp {
    /// Added to the variance.
    pub eps: f32,
}

/// Mean and `1/sqrt(var + eps)` of one row.
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = sum(row) / n;
    let var = sum_zip(row, row, |v, _| (v - mean) * (v - mean)) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// The forward pass: `y` for `x`.
struct Forward<'a> {
    x: &'a [f32],
    w: &'a [f32],
    b: &'a [f32],
    eps: f32,
}

impl Kernel for Forward<'_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn run(self) -> Vec<f32> {
        let Forward { x, w, b, eps } = self;
        let dim = w.len();
        let mut y = vec![0f32; x.len()];
        for (xr, yr) in x.chunks_exact(dim).zip(y.chunks_exact_mut(dim)) {
            let (mean, rstd) = moments(xr, eps);
            for (((y, x), w), b) in yr.iter_mut().zip(xr).zip(w).zip(b) {
                *y = (x - mean) * rstd * w + b;
            }
        }
        y
    }
}

/// The backward pass: `dx`, `dw`, `db` for `x` and the output gradient `g`.
struct Backward<'a> {
    x: &'a [f32],
    w: &'a [f32],
    g: &'a [f32],
    eps: f32,
}

impl Kernel for Backward<'_> {
    type Output = (Vec<f32>, Vec<f32>, Vec<f32>);

    #[inline(always)]
    fn run(self) -> Self::Output {
        let Backward { x, w, g, eps } = self;
        let dim = w.len();
        let mut dx = vec![0f32; x.len()];
        let (mut dw, mut db) = (vec![0f32; dim], vec![0f32; dim]);
        let (mut xhat, mut gw) = (vec![0f32; dim], vec![0f32; dim]);
        let n = dim as f32;
        for ((xr, gr), dxr) in x
            .chunks_exact(dim)
            .zip(g.chunks_exact(dim))
            .zip(dx.chunks_exact_mut(dim))
        {
            let (mean, rstd) = moments(xr, eps);
            for i in 0..dim {
                xhat[i] = (xr[i] - mean) * rstd;
                gw[i] = gr[i] * w[i];
                dw[i] += gr[i] * xhat[i];
                db[i] += gr[i];
            }
            let m1 = sum(&gw) / n;
            let m2 = sum_zip(&gw, &xhat, |a, b| a * b) / n;
            for i in 0..dim {
                dxr[i] = (gw[i] - m1 - xhat[i] * m2) * rstd;
            }
        }
        (dx, dw, db)
    }
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "xp-fused-layer-norm"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
        bs: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w, b) = (values(xs, xl)?, values(ws, wl)?, values(bs, bl)?);
        let eps = self.eps;
        let y = vectorized(Forward { x, w, b, eps });
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dim = weight.elem_count();
        let eps = self.eps;
        let (dx, dw, db) = with_values(x, |x| {
            with_values(weight, |w| {
                with_values(grad, |g| Ok(vectorized(Backward { x, w, g, eps })))
            })
        })?;
        let device = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), device)?),
            Some(Tensor::from_vec(dw, dim, device)?),
            Some(Tensor::from_vec(db, dim, device)?),
        ))
    }
}
