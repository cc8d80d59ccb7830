//! One encoder layer, PyTorch `TransformerEncoderLayer` semantics.
//!
//! Post-norm: `x = norm1(x + drop(attn(x)))`, `x = norm2(x + drop(ffn(x)))`.
//! Pre-norm (`norm_first`): `x = x + drop(attn(norm1(x)))`, `x = x + drop(ffn(norm2(x)))`.

use crate::feed_forward::FeedForward;
use crate::residual::Residual;
use crate::{EncoderConfig, Kernels, LayerNorm, Mode, SelfAttention, TokenRows};
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// Self-attention and feed-forward blocks with residuals and layer norms.
#[derive(Debug, Clone)]
pub struct EncoderLayer {
    attn: SelfAttention,
    ffn: FeedForward,
    norm1: LayerNorm,
    norm2: LayerNorm,
    residual: Residual,
    norm_first: bool,
    kernels: Kernels,
}

impl EncoderLayer {
    /// Creates or loads the layer's parameters under `vb`.
    pub fn new(cfg: &EncoderConfig, vb: VarBuilder) -> Result<Self> {
        let k = cfg.kernels;
        Ok(Self {
            attn: SelfAttention::new(cfg.dim, cfg.heads, cfg.dropout, k, vb.pp("attn"))?,
            ffn: FeedForward::new(
                cfg.dim,
                cfg.ffn_dim,
                cfg.activation,
                cfg.dropout,
                k,
                vb.pp("ffn"),
            )?,
            norm1: LayerNorm::new(cfg.dim, k, vb.pp("norm1"))?,
            norm2: LayerNorm::new(cfg.dim, k, vb.pp("norm2"))?,
            residual: Residual::new(cfg.dropout, k),
            kernels: k,
            norm_first: cfg.norm_first,
        })
    }

    /// The parts, for export: attention, (lin1, lin2), norm1, norm2.
    pub fn parts(
        &self,
    ) -> (
        &SelfAttention,
        (&crate::Dense, &crate::Dense),
        &LayerNorm,
        &LayerNorm,
    ) {
        (
            &self.attn,
            (&self.ffn.lin1, &self.ffn.lin2),
            &self.norm1,
            &self.norm2,
        )
    }

    /// Whether the norms come before each block.
    pub fn norm_first(&self) -> bool {
        self.norm_first
    }

    /// `(batch, seq, dim) -> (batch, seq, dim)`, and the attention weights if asked.
    pub fn forward(
        &self,
        x: &Tensor,
        rows: &TokenRows,
        bias: &Tensor,
        mode: &Mode,
        keep_weights: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let fused = self.kernels.is_fused();
        let attend = |x: &Tensor| self.attn.run(x, rows, bias, mode, keep_weights, fused);
        let residual = |x: &Tensor, a: &Tensor| self.residual.forward(x, a, rows, mode);
        if self.norm_first {
            let (a, w) = attend(&self.norm1.forward(x)?)?;
            let x = residual(x, &a)?;
            let f = self.ffn.forward(&self.norm2.forward(&x)?, rows, mode)?;
            Ok((residual(&x, &f)?, w))
        } else {
            let (a, w) = attend(x)?;
            let x = self.norm1.forward(&residual(x, &a)?)?;
            let f = self.ffn.forward(&x, rows, mode)?;
            Ok((self.norm2.forward(&residual(&x, &f)?)?, w))
        }
    }
}
