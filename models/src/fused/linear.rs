//! `y = keep * act(x W^T + b)` as one op: the bias rows with the matrix product added
//! into them by gemm, then an optional activation (ReLU or GELU) and dropout keep-mask
//! in one pass over the output, and a backward pass that writes `dx`, `dW` and `db`
//! directly.

use super::gemm::{add_product, product, Matrix};
use super::{column_sums, gelu, values, with_values};
use crate::Activation;
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use std::sync::OnceLock;

/// The fused linear map. Inputs: `x (.., in)`, `weight (out, in)`, `bias (out)`.
pub(crate) struct LinearOp {
    /// The activation after the bias, if any.
    activation: Option<Activation>,
    /// A dropout keep-mask shaped like the output (0 or `1/(1-p)`), applied last.
    keep: Option<Tensor>,
    /// What GELU's backward pass needs, kept by the forward pass (a ReLU's derivative
    /// is read off the output).
    gelu: OnceLock<gelu::Kept>,
}

impl LinearOp {
    /// The op with `activation` (the identity when `None`) and dropout's `keep` mask.
    pub(crate) fn new(activation: Option<Activation>, keep: Option<Tensor>) -> Self {
        Self {
            activation,
            keep,
            gelu: OnceLock::new(),
        }
    }

    /// `dL/d(pre-activation)` from `dL/dy`: through the keep-mask and the activation.
    fn pre_activation_grad(&self, res: &Tensor, grad: &Tensor) -> Result<Tensor> {
        if self.activation.is_none() && self.keep.is_none() {
            return grad.contiguous();
        }
        // Through the keep-mask, in the same pass as the copy.
        let mut d = with_values(grad, |g| match &self.keep {
            Some(keep) => with_values(keep, |k| Ok(g.iter().zip(k).map(|(g, k)| g * k).collect())),
            None => Ok(g.to_vec()),
        })?;
        match self.activation {
            None => {}
            // y > 0 exactly where the pre-activation was positive and kept.
            Some(Activation::Relu) => with_values(res, |y| {
                d.iter_mut()
                    .zip(y)
                    .for_each(|(d, y)| *d = if *y > 0.0 { *d } else { 0.0 });
                Ok(())
            })?,
            Some(Activation::Gelu) => match self.gelu.get() {
                Some(kept) => gelu::backward(kept, &mut d),
                None => candle_core::bail!("fused linear: no forward pass kept GELU's inputs"),
            },
        }
        Tensor::from_vec(d, grad.shape(), grad.device())
    }

    /// `keep * act(pre)` in place, keeping what GELU's backward pass needs.
    fn finish(&self, y: &mut Vec<f32>, keep: Option<&[f32]>) {
        match self.activation {
            None => {}
            Some(Activation::Relu) => y.iter_mut().for_each(|v| *v = v.max(0.0)),
            Some(Activation::Gelu) => {
                let (out, kept) = gelu::forward(std::mem::take(y));
                *y = out;
                let _ = self.gelu.set(kept);
            }
        }
        if let Some(keep) = keep {
            y.iter_mut().zip(keep).for_each(|(v, k)| *v *= k);
        }
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
        let (out_dim, in_dim) = wl.shape().dims2()?;
        let (x, w, bias) = (values(xs, xl)?, values(ws, wl)?, values(bs, bl)?);
        let rows = x.len() / in_dim.max(1);
        if bias.len() != out_dim || x.len() != rows * in_dim {
            candle_core::bail!(
                "fused linear: x {:?}, weight {out_dim}x{in_dim}, bias {}",
                xl.dims(),
                bias.len()
            )
        }
        // The bias rows, then `+= x W^T`.
        let mut y = Vec::with_capacity(rows * out_dim);
        (0..rows).for_each(|_| y.extend_from_slice(bias));
        add_product(
            &mut y,
            Matrix::new(x, rows, in_dim),
            Matrix::new(w, out_dim, in_dim).t(),
        );
        match &self.keep {
            Some(keep) => with_values(keep, |k| {
                self.finish(&mut y, Some(k));
                Ok(())
            })?,
            None => self.finish(&mut y, None),
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
        let (dx, dw, db) = with_values(&g, |g| {
            with_values(weight, |w| {
                with_values(x, |x| {
                    let g = Matrix::new(g, rows, out_dim);
                    let dx = product(g, Matrix::new(w, out_dim, in_dim));
                    let dw = product(g.t(), Matrix::new(x, rows, in_dim));
                    Ok((dx, dw, column_sums(g.values, out_dim)))
                })
            })
        })?;
        let device = x.device();
        let dx = Tensor::from_vec(dx, x.shape(), device)?;
        let dw = Tensor::from_vec(dw, (out_dim, in_dim), device)?;
        let db = Tensor::from_vec(db, out_dim, device)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}
