//! Which positions of the `(batch, seq)` grid the row-wise layers run on.
//!
//! Every layer but the attention core works on each position alone (linear maps,
//! layer norms, residuals, dropout), and no output at a pad position is ever read: pad
//! keys are masked out of attention and heads read token positions only. On CPU the
//! encoder therefore packs its hidden states to the positions that hold tokens (about
//! two thirds of a padded batch of names) and unpacks them at the end, with zeros at
//! pads. Dropout masks are still drawn over the whole grid, so a packed pass draws
//! exactly what an unpacked one does.

use crate::{Dropout, Mode, PAD_ID};
use candle_core::{Device, Result, Shape, Tensor};
use std::sync::Arc;

/// The rows the row-wise layers see: the whole grid, or only its token positions.
#[derive(Debug, Clone)]
pub struct TokenRows {
    batch: usize,
    seq: usize,
    /// Grid position (`b * seq + s`) of each row.
    grid: Arc<[u32]>,
    /// `grid` as a tensor, when packed.
    packed: Option<Tensor>,
}

impl TokenRows {
    /// Every position of a `(batch, seq)` grid, in order.
    pub fn full(batch: usize, seq: usize) -> Self {
        Self {
            batch,
            seq,
            grid: (0..(batch * seq) as u32).collect(),
            packed: None,
        }
    }

    /// The token (non-pad) positions of `tokens (batch, seq)`; the full grid when
    /// there is no pad.
    pub fn tokens(tokens: &Tensor) -> Result<Self> {
        let (batch, seq) = tokens.dims2()?;
        let ids = tokens.flatten_all()?.to_vec1::<u32>()?;
        let grid: Arc<[u32]> = (0..ids.len() as u32)
            .filter(|&i| ids[i as usize] != PAD_ID)
            .collect();
        if grid.len() == ids.len() {
            return Ok(Self::full(batch, seq));
        }
        let packed = Tensor::from_slice(&grid, grid.len(), tokens.device())?;
        Ok(Self {
            batch,
            seq,
            grid,
            packed: Some(packed),
        })
    }

    /// `(batch, seq)`.
    pub fn grid_dims(&self) -> (usize, usize) {
        (self.batch, self.seq)
    }

    /// Grid position of each row.
    pub fn grid(&self) -> &Arc<[u32]> {
        &self.grid
    }

    /// `x (batch, seq, dim)` -> the rows: `(rows, dim)` when packed, else `x` itself.
    pub fn pack(&self, x: &Tensor) -> Result<Tensor> {
        match &self.packed {
            Some(index) => x
                .reshape((self.batch * self.seq, x.dim(2)?))?
                .index_select(index, 0),
            None => Ok(x.clone()),
        }
    }

    /// The inverse of [`TokenRows::pack`]: `(batch, seq, dim)`, zeros at pads.
    pub fn unpack(&self, x: &Tensor) -> Result<Tensor> {
        let Some(index) = &self.packed else {
            return Ok(x.clone());
        };
        let dim = x.dim(1)?;
        Tensor::zeros((self.batch * self.seq, dim), x.dtype(), x.device())?
            .index_add(index, x, 0)?
            .reshape((self.batch, self.seq, dim))
    }

    /// The shape of a row-wise tensor of `width` columns: `(rows, width)` when packed,
    /// `(batch, seq, width)` otherwise.
    pub fn shape(&self, width: usize) -> Shape {
        match self.packed {
            Some(_) => Shape::from((self.grid.len(), width)),
            None => Shape::from((self.batch, self.seq, width)),
        }
    }

    /// `dropout`'s keep-mask for a row-wise tensor of `width` columns, drawn over the
    /// whole grid (as an unpacked pass draws it) and cut down to the rows.
    pub fn keep_mask(
        &self,
        dropout: &Dropout,
        width: usize,
        device: &Device,
        mode: &Mode,
    ) -> Result<Option<Tensor>> {
        let full = Shape::from((self.batch, self.seq, width));
        let rows = self.packed.as_ref().map(|_| &self.grid[..]);
        dropout.keep_rows(rows, &full, device, mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_token_positions_and_unpacks_with_zeros_at_pads() -> Result<()> {
        let tokens = Tensor::new(&[[4u32, 5, 0], [6, 0, 0]], &Device::Cpu)?;
        let rows = TokenRows::tokens(&tokens)?;
        assert_eq!(&rows.grid()[..], &[0, 1, 3]);
        assert_eq!(rows.shape(2).dims(), &[3, 2]);
        let x = Tensor::arange(0f32, 12.0, &Device::Cpu)?.reshape((2, 3, 2))?;
        let packed = rows.pack(&x)?;
        assert_eq!(packed.to_vec2::<f32>()?, [[0., 1.], [2., 3.], [6., 7.]]);
        let back = rows.unpack(&packed)?.to_vec3::<f32>()?;
        assert_eq!(
            back,
            [
                [[0., 1.], [2., 3.], [0., 0.]],
                [[6., 7.], [0., 0.], [0., 0.]]
            ]
        );
        // No pad: nothing to pack.
        let full = TokenRows::tokens(&Tensor::new(&[[4u32, 5]], &Device::Cpu)?)?;
        assert_eq!(full.shape(2).dims(), &[1, 2, 2]);
        Ok(())
    }

    #[test]
    fn dropout_masks_are_the_grid_draws_cut_to_the_rows() -> Result<()> {
        let tokens = Tensor::new(&[[4u32, 5, 0], [6, 0, 0]], &Device::Cpu)?;
        let rows = TokenRows::tokens(&tokens)?;
        let dropout = Dropout::new(0.5);
        let packed = rows.keep_mask(&dropout, 4, &Device::Cpu, &Mode::train(3))?;
        let grid = TokenRows::full(2, 3).keep_mask(&dropout, 4, &Device::Cpu, &Mode::train(3))?;
        let (packed, grid) = (packed.expect("train mode"), grid.expect("train mode"));
        let grid = grid.reshape((6, 4))?.to_vec2::<f32>()?;
        assert_eq!(
            packed.to_vec2::<f32>()?,
            [grid[0].clone(), grid[1].clone(), grid[3].clone()]
        );
        assert!(rows
            .keep_mask(&dropout, 4, &Device::Cpu, &Mode::eval())?
            .is_none());
        Ok(())
    }
}
