//! Moving between the row layout (`(rows, heads * head_dim)`, one row per position
//! in a [`TokenRows`]) and the head layout `(batch, heads, seq, head_dim)` as one op,
//! instead of reshape, permute and a contiguous copy (three graph nodes, each with its
//! own gradient buffer). Positions without a row are zeros in the head layout.

use super::{values, with_values};
use crate::TokenRows;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// `(batch, heads, seq, head_dim)` of a row layout of width `dim`.
fn head_dims(rows: &TokenRows, heads: usize, dim: usize) -> (usize, usize, usize, usize) {
    let (batch, seq) = rows.grid_dims();
    (batch, heads, seq, dim / heads)
}

/// Rows to heads, times `scale`.
fn split(
    src: &[f32],
    rows: &TokenRows,
    dims: (usize, usize, usize, usize),
    scale: f32,
) -> Vec<f32> {
    let (batch, heads, seq, hd) = dims;
    let mut dst = vec![0f32; batch * heads * seq * hd];
    for (r, &g) in rows.grid().iter().enumerate() {
        let (b, s) = (g as usize / seq, g as usize % seq);
        for h in 0..heads {
            let from = (r * heads + h) * hd;
            let to = ((b * heads + h) * seq + s) * hd;
            dst[to..to + hd]
                .iter_mut()
                .zip(&src[from..from + hd])
                .for_each(|(d, v)| *d = v * scale);
        }
    }
    dst
}

/// Heads to rows, times `scale`.
fn merge(
    src: &[f32],
    rows: &TokenRows,
    dims: (usize, usize, usize, usize),
    scale: f32,
) -> Vec<f32> {
    let (_, heads, seq, hd) = dims;
    let mut dst = vec![0f32; rows.grid().len() * heads * hd];
    for (r, &g) in rows.grid().iter().enumerate() {
        let (b, s) = (g as usize / seq, g as usize % seq);
        for h in 0..heads {
            let from = ((b * heads + h) * seq + s) * hd;
            let to = (r * heads + h) * hd;
            dst[to..to + hd]
                .iter_mut()
                .zip(&src[from..from + hd])
                .for_each(|(d, v)| *d = v * scale);
        }
    }
    dst
}

/// Row layout -> `(batch, heads, seq, head_dim)`, times `scale`.
pub(crate) struct SplitHeads {
    /// Number of heads.
    pub heads: usize,
    /// Multiplies every value (the attention's `1/sqrt(head_dim)` on queries).
    pub scale: f32,
    /// The positions of the rows.
    pub rows: TokenRows,
}

impl CustomOp1 for SplitHeads {
    fn name(&self) -> &'static str {
        "xp-split-heads"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let dim = l.dims().last().copied().unwrap_or(0);
        let dims = head_dims(&self.rows, self.heads, dim);
        let out = split(values(s, l)?, &self.rows, dims, self.scale);
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let dims = head_dims(
            &self.rows,
            self.heads,
            arg.dims().last().copied().unwrap_or(0),
        );
        let dx = with_values(grad, |g| Ok(merge(g, &self.rows, dims, self.scale)))?;
        Tensor::from_vec(dx, arg.shape(), arg.device()).map(Some)
    }
}

/// `(batch, heads, seq, head_dim)` -> row layout.
pub(crate) struct MergeHeads {
    /// The positions of the rows.
    pub rows: TokenRows,
}

impl CustomOp1 for MergeHeads {
    fn name(&self) -> &'static str {
        "xp-merge-heads"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let dims = l.shape().dims4()?;
        let out = merge(values(s, l)?, &self.rows, dims, 1.0);
        Ok((CpuStorage::F32(out), self.rows.shape(dims.1 * dims.3)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let dims = arg.dims4()?;
        let dx = with_values(grad, |g| Ok(split(g, &self.rows, dims, 1.0)))?;
        Tensor::from_vec(dx, arg.shape(), arg.device()).map(Some)
    }
}
