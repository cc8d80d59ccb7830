//! Layer normalisation over the last dimension as one op, forward and backward.
//!
//! Forward per row: `xhat = (x - mean) / sqrt(var + eps)`, `y = xhat * w + b`.
//! Backward per row, with `gw = dy * w`:
//! `dx = (gw - mean(gw) - xhat * mean(gw * xhat)) / sqrt(var + eps)`,
//! and `dw`, `db` summed over rows from `dy * xhat` and `dy`.

use super::{values, with_values};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

/// The fused layer norm. Inputs: `x (.., dim)`, `weight (dim)`, `bias (dim)`.
pub(crate) struct LayerNormOp {
    /// Added to the variance.
    pub eps: f32,
}

/// Mean and `1/sqrt(var + eps)` of one row.
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
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
        let dim = w.len();
        let mut y = vec![0f32; x.len()];
        for (xr, yr) in x.chunks_exact(dim).zip(y.chunks_exact_mut(dim)) {
            let (mean, rstd) = moments(xr, self.eps);
            for (((y, x), w), b) in yr.iter_mut().zip(xr).zip(w).zip(b) {
                *y = (x - mean) * rstd * w + b;
            }
        }
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
        let (dx, dw, db) = with_values(x, |x| {
            with_values(weight, |w| {
                with_values(grad, |g| {
                    let mut dx = vec![0f32; x.len()];
                    let (mut dw, mut db) = (vec![0f32; dim], vec![0f32; dim]);
                    let mut xhat = vec![0f32; dim];
                    let n = dim as f32;
                    for ((xr, gr), dxr) in x
                        .chunks_exact(dim)
                        .zip(g.chunks_exact(dim))
                        .zip(dx.chunks_exact_mut(dim))
                    {
                        let (mean, rstd) = moments(xr, self.eps);
                        let (mut m1, mut m2) = (0f32, 0f32);
                        for i in 0..dim {
                            xhat[i] = (xr[i] - mean) * rstd;
                            let gw = gr[i] * w[i];
                            m1 += gw;
                            m2 += gw * xhat[i];
                            dw[i] += gr[i] * xhat[i];
                            db[i] += gr[i];
                        }
                        let (m1, m2) = (m1 / n, m2 / n);
                        for i in 0..dim {
                            dxr[i] = (gr[i] * w[i] - m1 - xhat[i] * m2) * rstd;
                        }
                    }
                    Ok((dx, dw, db))
                })
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
