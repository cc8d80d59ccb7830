//! Moving between the row layout `(batch, seq, heads * head_dim)` and the head layout
//! `(batch, heads, seq, head_dim)` as one op, instead of reshape, permute and a
//! contiguous copy (three graph nodes, each with its own gradient buffer).

use super::{values, with_values};
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// Which way the values move.
#[derive(Clone, Copy)]
enum Direction {
    /// Rows to heads.
    Split,
    /// Heads to rows.
    Merge,
}

/// Copies `src` from one layout to the other, multiplying by `scale`.
/// `dims = (batch, heads, seq, head_dim)`.
fn permute(
    src: &[f32],
    dims: (usize, usize, usize, usize),
    direction: Direction,
    scale: f32,
) -> Vec<f32> {
    let (batch, heads, seq, hd) = dims;
    let mut dst = vec![0f32; src.len()];
    for b in 0..batch {
        for h in 0..heads {
            for s in 0..seq {
                let rows = ((b * seq + s) * heads + h) * hd;
                let split = ((b * heads + h) * seq + s) * hd;
                let (from, to) = match direction {
                    Direction::Split => (rows, split),
                    Direction::Merge => (split, rows),
                };
                dst[to..to + hd]
                    .iter_mut()
                    .zip(&src[from..from + hd])
                    .for_each(|(d, v)| *d = v * scale);
            }
        }
    }
    dst
}

/// `(batch, seq, heads * head_dim) -> (batch, heads, seq, head_dim)`, times `scale`.
pub(crate) struct SplitHeads {
    /// Number of heads.
    pub heads: usize,
    /// Multiplies every value (the attention's `1/sqrt(head_dim)` on queries).
    pub scale: f32,
}

impl CustomOp1 for SplitHeads {
    fn name(&self) -> &'static str {
        "xp-split-heads"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (batch, seq, dim) = l.shape().dims3()?;
        let hd = dim / self.heads;
        let dims = (batch, self.heads, seq, hd);
        let out = permute(values(s, l)?, dims, Direction::Split, self.scale);
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let (batch, seq, dim) = arg.dims3()?;
        let dims = (batch, self.heads, seq, dim / self.heads);
        let dx = with_values(grad, |g| Ok(permute(g, dims, Direction::Merge, self.scale)))?;
        Tensor::from_vec(dx, arg.shape(), arg.device()).map(Some)
    }
}

/// `(batch, heads, seq, head_dim) -> (batch, seq, heads * head_dim)`.
pub(crate) struct MergeHeads;

impl CustomOp1 for MergeHeads {
    fn name(&self) -> &'static str {
        "xp-merge-heads"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (batch, heads, seq, hd) = l.shape().dims4()?;
        let out = permute(
            values(s, l)?,
            (batch, heads, seq, hd),
            Direction::Merge,
            1.0,
        );
        Ok((CpuStorage::F32(out), Shape::from((batch, seq, heads * hd))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let dims = arg.dims4()?;
        let dx = with_values(grad, |g| Ok(permute(g, dims, Direction::Split, 1.0)))?;
        Tensor::from_vec(dx, arg.shape(), arg.device()).map(Some)
    }
}
