//! A convolutional front: each position's input embedding plus a learned view of the
//! `width` embeddings around it, before the first encoder layer.
//!
//! `h = x + act(W [x_{t-r}; ..; x_t; ..; x_{t+r}] + b)` with `r = width / 2`, where
//! positions outside the text (padding, before the start, after the end) read zeros, so
//! a text's states do not depend on how far its batch is padded. A causal row (look-ahead
//! objectives) reads only `x_{t-r} ..= x_t`: the taps after `t` would see the answer.

use crate::{Activation, Causal, Dense, Kernels, PAD_ID};
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// The front; absent from an encoder whose `conv_width` is 0.
#[derive(Debug, Clone)]
pub struct ConvFront {
    taps: Dense,
    width: usize,
    activation: Activation,
}

impl ConvFront {
    /// Creates or loads `weight (dim, width * dim)` and `bias (dim)` under `vb`; the
    /// weight's column blocks are the taps from `t - r` to `t + r`.
    pub fn new(
        width: usize,
        dim: usize,
        activation: Activation,
        kernels: Kernels,
        vb: VarBuilder,
    ) -> Result<Self> {
        if width.is_multiple_of(2) {
            candle_core::bail!("a convolutional front's width must be odd, got {width}");
        }
        Ok(Self {
            taps: Dense::new(width * dim, dim, kernels, vb)?,
            width,
            activation,
        })
    }

    /// Taps on each side of a position.
    pub fn reach(&self) -> usize {
        self.width / 2
    }

    /// The layer of taps, for export.
    pub fn taps(&self) -> &Dense {
        &self.taps
    }

    /// Its non-linearity.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// `x (batch, seq, dim)` over `tokens (batch, seq)` -> `(batch, seq, dim)`.
    pub fn forward(&self, x: &Tensor, tokens: &Tensor, causal: Causal) -> Result<Tensor> {
        let (batch, seq, _) = x.dims3()?;
        let r = self.reach();
        let text = tokens.ne(PAD_ID)?.to_dtype(x.dtype())?.unsqueeze(2)?;
        let padded = x.broadcast_mul(&text)?.pad_with_zeros(1, r, r)?;
        let ahead = ahead_keep(causal, batch, x)?;
        let mut blocks = Vec::with_capacity(self.width);
        for tap in 0..self.width {
            let block = padded.narrow(1, tap, seq)?;
            blocks.push(match (&ahead, tap > r) {
                (Some(keep), true) => block.broadcast_mul(keep)?,
                _ => block,
            });
        }
        let view = self.taps.forward(&Tensor::cat(&blocks, 2)?)?;
        x + self.activation.apply(&view)?
    }
}

/// `(batch, 1, 1)`: 1 for rows that may read ahead, 0 for causal ones; `None` when every
/// row may.
fn ahead_keep(causal: Causal, batch: usize, x: &Tensor) -> Result<Option<Tensor>> {
    let flags: Vec<f32> = match causal {
        Causal::None => return Ok(None),
        Causal::All => vec![0.0; batch],
        Causal::Rows(rows) => rows.iter().map(|&c| if c { 0.0 } else { 1.0 }).collect(),
    };
    let keep = Tensor::from_vec(flags, (batch, 1, 1), x.device())?.to_dtype(x.dtype())?;
    Ok(Some(keep))
}
