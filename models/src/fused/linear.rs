//! `y = keep * act(x W^T + b)` as one op: the matrix product through candle's CPU
//! gemm, the bias, an optional ReLU and an optional dropout keep-mask in one pass over
//! the output, and a backward pass that writes `dx`, `dW` and `db` directly.

use super::{column_sums, values, with_values};
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

/// The fused linear map. Inputs: `x (.., in)`, `weight (out, in)`, `bias (out)`.
pub(crate) struct LinearOp {
    /// Apply a ReLU after the bias.
    pub relu: bool,
    /// A dropout keep-mask shaped like the output (0 or `1/(1-p)`), applied last.
    pub keep: Option<Tensor>,
}

impl LinearOp {
    /// `dL/d(pre-activation)` from `dL/dy`: through the keep-mask and the ReLU.
    fn pre_activation_grad(&self, res: &Tensor, grad: &Tensor) -> Result<Tensor> {
        if !self.relu && self.keep.is_none() {
            return grad.contiguous();
        }
        let out = with_values(grad, |g| {
            with_values(res, |y| {
                let mut d = g.to_vec();
                if let Some(keep) = &self.keep {
                    with_values(keep, |k| {
                        d.iter_mut().zip(k).for_each(|(d, k)| *d *= k);
                        Ok(())
                    })?;
                }
                if self.relu {
                    // y > 0 exactly where the pre-activation was positive and kept.
                    d.iter_mut()
                        .zip(y)
                        .for_each(|(d, y)| *d = if *y > 0.0 { *d } else { 0.0 });
                }
                Ok(d)
            })
        })?;
        Tensor::from_vec(out, grad.shape(), grad.device())
    }
}

impl CustomOp3 for LinearOp {
    fn name(&self) -> &'static str {
        "xp-fused-linear"
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
        if !xl.is_contiguous() || !wl.is_contiguous() {
            candle_core::bail!("fused linear: x and weight must be contiguous")
        }
        let (out_dim, in_dim) = wl.shape().dims2()?;
        let rows = xl.shape().elem_count() / in_dim.max(1);
        // x as (rows, in) and W^T as (in, out), both read in place.
        let x2 = Layout::contiguous_with_offset((rows, in_dim), xl.start_offset());
        let wt = wl.transpose(0, 1)?;
        let CpuStorage::F32(mut y) = xs.matmul(ws, (1, rows, out_dim, in_dim), &x2, &wt)? else {
            candle_core::bail!("fused linear: f32 only")
        };
        let bias = values(bs, bl)?;
        let mut finish = |keep: Option<&[f32]>| {
            for (r, row) in y.chunks_exact_mut(out_dim).enumerate() {
                row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
                if self.relu {
                    row.iter_mut().for_each(|v| *v = v.max(0.0));
                }
                if let Some(keep) = keep {
                    let keep = &keep[r * out_dim..(r + 1) * out_dim];
                    row.iter_mut().zip(keep).for_each(|(v, k)| *v *= k);
                }
            }
            Ok(())
        };
        match &self.keep {
            Some(keep) => with_values(keep, |k| finish(Some(k)))?,
            None => finish(None)?,
        }
        let mut dims = xl.dims().to_vec();
        if let Some(last) = dims.last_mut() {
            *last = out_dim;
        }
        Ok((CpuStorage::F32(y), Shape::from(dims)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (out_dim, in_dim) = weight.dims2()?;
        let rows = x.elem_count() / in_dim.max(1);
        let g = self
            .pre_activation_grad(res, grad)?
            .reshape((rows, out_dim))?;
        let dx = g.matmul(weight)?.reshape(x.shape())?;
        let dw = g.t()?.matmul(&x.reshape((rows, in_dim))?)?;
        let db = with_values(&g, |g| Ok(column_sums(g, out_dim)))?;
        let db = Tensor::from_vec(db, out_dim, x.device())?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}
