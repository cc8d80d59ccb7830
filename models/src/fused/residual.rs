//! The residual connection around a dropout, `x + keep * a`, as one op.

use super::values;
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};

/// `x + keep * a` for `x` and `a` of one shape; `keep` a dropout keep-mask or none.
pub(crate) struct ResidualOp {
    /// The dropout keep-mask (0 or `1/(1-p)`), shaped like `a`.
    pub keep: Option<Tensor>,
}

impl CustomOp2 for ResidualOp {
    fn name(&self) -> &'static str {
        "xp-residual"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        as_: &CpuStorage,
        al: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        if xl.shape() != al.shape() {
            candle_core::bail!(
                "residual: shapes {:?} and {:?} differ",
                xl.shape(),
                al.shape()
            )
        }
        let (x, a) = (values(xs, xl)?, values(as_, al)?);
        let out = match &self.keep {
            None => x.iter().zip(a).map(|(x, a)| x + a).collect(),
            Some(keep) => super::with_values(keep, |k| {
                Ok(x.iter()
                    .zip(a)
                    .zip(k)
                    .map(|((x, a), k)| x + a * k)
                    .collect())
            })?,
        };
        Ok((CpuStorage::F32(out), xl.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _a: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let da = match &self.keep {
            Some(keep) => grad.mul(keep)?,
            None => grad.clone(),
        };
        Ok((Some(grad.clone()), Some(da)))
    }
}
