//! Multi-head self-attention, PyTorch `MultiheadAttention` semantics.
//!
//! `q, k, v = split(x W_in + b_in)`, per head `softmax(q k^T / sqrt(d_h) + bias) v`,
//! dropout on the attention weights, heads concatenated, then `W_out`.
//! Shapes: `x (batch, seq, dim)`, `bias (batch, 1, 1|seq, seq)` -> `(batch, seq, dim)`.

use crate::fused::AttentionOp;
use crate::{Dense, Dropout, Kernels, Mode, TokenRows};
use candle_core::{Result, Tensor, D};
use candle_nn::init::ZERO;
use candle_nn::{Init, VarBuilder};

/// PyTorch `MultiheadAttention`'s input projection: Xavier-uniform over the whole
/// `(3*dim, dim)` matrix, biases zero.
fn xavier(fan_in: usize, fan_out: usize) -> Init {
    let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// PyTorch `nn.Linear`'s weight range.
fn uniform(fan_in: usize) -> Init {
    let bound = 1.0 / (fan_in as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// Self-attention with a fused input projection (`in_proj`) and `out_proj`.
#[derive(Debug, Clone)]
pub struct SelfAttention {
    in_proj: Dense,
    out_proj: Dense,
    heads: usize,
    head_dim: usize,
    dropout: Dropout,
    kernels: Kernels,
}

impl SelfAttention {
    /// Creates or loads the projections under `vb`; `dim` must be divisible by `heads`.
    pub fn new(
        dim: usize,
        heads: usize,
        dropout: f32,
        kernels: Kernels,
        vb: VarBuilder,
    ) -> Result<Self> {
        if heads == 0 || !dim.is_multiple_of(heads) {
            candle_core::bail!("model dim {dim} is not divisible by {heads} heads")
        }
        Ok(Self {
            in_proj: Dense::with_init(
                (dim, 3 * dim),
                (xavier(dim, 3 * dim), ZERO),
                kernels,
                vb.pp("in_proj"),
            )?,
            out_proj: Dense::with_init(
                (dim, dim),
                (uniform(dim), ZERO),
                kernels,
                vb.pp("out_proj"),
            )?,
            heads,
            head_dim: dim / heads,
            dropout: Dropout::new(dropout),
            kernels,
        })
    }

    /// The input projection `(3*dim, dim)` and output projection, for export.
    pub fn projections(&self) -> (&Dense, &Dense) {
        (&self.in_proj, &self.out_proj)
    }

    /// Number of heads.
    pub fn heads(&self) -> usize {
        self.heads
    }

    /// `(batch, seq, dim) -> (batch, seq, dim)`, plus the attention weights
    /// `(batch, heads, seq, seq)` when `keep_weights`.
    pub fn forward(
        &self,
        x: &Tensor,
        bias: &Tensor,
        mode: &Mode,
        keep_weights: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let (batch, seq, _) = x.dims3()?;
        let rows = TokenRows::full(batch, seq);
        self.run(x, &rows, bias, mode, keep_weights, self.kernels.is_fused())
    }

    /// The forward pass over the rows of `x` (`rows`, see [`TokenRows`]; the full
    /// grid unless `fused`), with the fused CPU kernels when `fused`.
    pub(crate) fn run(
        &self,
        x: &Tensor,
        rows: &TokenRows,
        bias: &Tensor,
        mode: &Mode,
        keep_weights: bool,
        fused: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        if fused {
            return self.run_fused(x, rows, bias, mode, keep_weights);
        }
        let (q, k, v) = self.heads_composed(x)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(bias)?;
        let weights = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let kept = keep_weights.then(|| weights.clone());
        let weights = self.dropout.forward(&weights, mode)?;
        let out = weights.matmul(&v)?;
        let (batch, _, seq, _) = out.dims4()?;
        let out = out
            .transpose(1, 2)?
            .reshape((batch, seq, self.heads * self.head_dim))?;
        Ok((self.out_proj.composed(&out)?, kept))
    }

    /// The same with the fused CPU ops: one linear map to queries, keys and values,
    /// the attention core as one op ([`AttentionOp`]), the output projection. The
    /// weights, when kept, are computed again without a gradient.
    fn run_fused(
        &self,
        x: &Tensor,
        rows: &TokenRows,
        bias: &Tensor,
        mode: &Mode,
        keep_weights: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let keep = self.dropout.draw(mode);
        let qkv = self.in_proj.fused(x, None, None)?;
        let op = || {
            AttentionOp::new(
                self.heads,
                self.scale() as f32,
                rows.clone(),
                bias.clone(),
                keep,
            )
        };
        let kept = match keep_weights {
            true => Some(op().weights(&qkv)?),
            false => None,
        };
        let out = qkv.apply_op1(op())?;
        Ok((self.out_proj.fused(&out, None, None)?, kept))
    }

    fn scale(&self) -> f64 {
        (self.head_dim as f64).powf(-0.5)
    }

    /// Scaled queries, keys and values `(batch, heads, seq, head_dim)`, in candle ops.
    fn heads_composed(&self, x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let (batch, seq, _) = x.dims3()?;
        let qkv = self
            .in_proj
            .composed(x)?
            .reshape((batch, seq, 3, self.heads, self.head_dim))?
            .permute((2, 0, 3, 1, 4))?; // (3, batch, heads, seq, head_dim)
        let q = (qkv.get(0)? * self.scale())?.contiguous()?;
        Ok((q, qkv.get(1)?.contiguous()?, qkv.get(2)?.contiguous()?))
    }
}
