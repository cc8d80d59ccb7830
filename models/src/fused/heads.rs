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

/// Rows to heads (`to_heads`) or heads to rows, times `scale`.
fn relayout(
    src: &[f32],
    rows: &TokenRows,
    dims: (usize, usize, usize, usize),
    to_heads: bool,
    scale: f32,
) -> Vec<f32> {
    let (batch, heads, seq, hd) = dims;
    let len = match to_heads {
        true => batch * heads * seq * hd,
        false => rows.grid().len() * heads * hd,
    };
    let mut dst = vec![0f32; len];
    for (r, &g) in rows.grid().iter().enumerate() {
        let (b, s) = (g as usize / seq, g as usize % seq);
        for h in 0..heads {
            let row = (r * heads + h) * hd;
            let head = ((b * heads + h) * seq + s) * hd;
            let (from, to) = if to_heads { (row, head) } else { (head, row) };
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
        let out = relayout(values(s, l)?, &self.rows, dims, true, self.scale);
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let dims = head_dims(
            &self.rows,
            self.heads,
            arg.dims().last().copied().unwrap_or(0),
        );
        let dx = with_values(grad, |g| {
            Ok(relayout(g, &self.rows, dims, false, self.scale))
        })?;
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
        let out = relayout(values(s, l)?, &self.rows, dims, false, 1.0);
        Ok((CpuStorage::F32(out), self.rows.shape(dims.1 * dims.3)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let dims = arg.dims4()?;
        let dx = with_values(grad, |g| Ok(relayout(g, &self.rows, dims, true, 1.0)))?;
        Tensor::from_vec(dx, arg.shape(), arg.device()).map(Some)
    }
}
