//! Position information added to the token embeddings.
//!
//! Sinusoidal: `PE[p, 2i] = sin(p / 10000^(2i/dim))`, `PE[p, 2i+1] = cos(..)`, fixed.
//! Learned: one trained vector per position. Both give `(seq, dim)` for a length `seq`.

use crate::Positions;
use candle_core::{Device, Result, Tensor};
use candle_nn::{Embedding, Module, VarBuilder};

/// The position term of the encoder input.
#[derive(Debug, Clone)]
pub enum PositionEncoding {
    /// Fixed table `(max_positions, dim)`.
    Sinusoidal(Tensor),
    /// Trained table under `pos_emb`.
    Learned(Embedding),
}

impl PositionEncoding {
    /// Rows of an exported sinusoidal table: `[CLS]` and names of up to 256 characters.
    pub const SERVED_POSITIONS: usize = 257;

    /// Builds the table for `max_positions` positions of width `dim`.
    pub fn new(kind: Positions, max_positions: usize, dim: usize, vb: VarBuilder) -> Result<Self> {
        match kind {
            Positions::Sinusoidal => Ok(Self::Sinusoidal(sinusoid_table(
                max_positions,
                dim,
                vb.device(),
            )?)),
            Positions::Learned => Ok(Self::Learned(candle_nn::embedding(
                max_positions,
                dim,
                vb.pp("pos_emb"),
            )?)),
        }
    }

    /// The full table `(max_positions, dim)`, for export.
    pub fn table(&self) -> &Tensor {
        match self {
            Self::Sinusoidal(t) => t,
            Self::Learned(e) => e.embeddings(),
        }
    }

    /// Positions an exported model reads: a sinusoidal table extends to
    /// [`Self::SERVED_POSITIONS`] (its rows are a function of the position), a learned
    /// one is what was trained.
    pub fn served_rows(&self) -> Result<usize> {
        let own = self.table().dim(0)?;
        Ok(match self {
            Self::Sinusoidal(_) => own.max(Self::SERVED_POSITIONS),
            Self::Learned(_) => own,
        })
    }

    /// The table an exported model reads, [`Self::served_rows`] rows.
    pub fn served_table(&self) -> Result<Tensor> {
        match self {
            Self::Sinusoidal(t) => {
                let (_, dim) = t.dims2()?;
                sinusoid_table(self.served_rows()?, dim, t.device())
            }
            Self::Learned(e) => Ok(e.embeddings().clone()),
        }
    }

    /// `(seq, dim)`: the first `seq` rows of the table.
    pub fn forward(&self, seq: usize) -> Result<Tensor> {
        let max = self.table().dim(0)?;
        if seq > max {
            candle_core::bail!("sequence of {seq} positions, the encoder has {max}")
        }
        match self {
            Self::Sinusoidal(t) => t.narrow(0, 0, seq),
            Self::Learned(e) => {
                let ids = Tensor::arange(0u32, seq as u32, e.embeddings().device())?;
                e.forward(&ids)
            }
        }
    }
}

fn sinusoid_table(max_positions: usize, dim: usize, device: &Device) -> Result<Tensor> {
    let mut values = vec![0f32; max_positions * dim];
    for p in 0..max_positions {
        for i in (0..dim).step_by(2) {
            let angle = p as f64 / 10000f64.powf(i as f64 / dim as f64);
            values[p * dim + i] = angle.sin() as f32;
            if i + 1 < dim {
                values[p * dim + i + 1] = angle.cos() as f32;
            }
        }
    }
    Tensor::from_vec(values, (max_positions, dim), device)
}
