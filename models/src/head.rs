//! The output head of an objective: `Linear(dim, dim)`, LayerNorm, activation, dropout,
//! then `Linear(dim, n_out)`, or the transposed token embedding plus a bias when tied.
//! Shapes: `(.., dim) -> (.., n_out)`.

use crate::{add_rows, Activation, Dense, Dropout, Kernels, LayerNorm, Mode};
use candle_core::{Result, Tensor, D};
use candle_nn::{Init, VarBuilder};

/// The last layer of a head.
#[derive(Debug, Clone)]
enum Output {
    Own(Dense),
    /// Weight tying: logits against the token embedding `(vocab, dim)`, plus a bias.
    Tied {
        embeddings: Tensor,
        bias: Tensor,
    },
}

/// A prediction head.
#[derive(Debug, Clone)]
pub struct Head {
    dense: Dense,
    norm: LayerNorm,
    activation: Activation,
    dropout: Dropout,
    output: Output,
}

/// What a head is made of.
#[derive(Debug, Clone, Copy)]
pub struct HeadSpec<'a> {
    /// The width it reads (the encoder's).
    pub dim: usize,
    /// Its outputs: classes, or the vocabulary.
    pub n_out: usize,
    /// Its non-linearity.
    pub activation: Activation,
    /// Dropout after the non-linearity.
    pub dropout: f32,
    /// The token embedding `(n_out, dim)` to tie the output layer to, if any.
    pub tied: Option<&'a Tensor>,
    /// The layers' implementation.
    pub kernels: Kernels,
}

impl Head {
    /// Creates or loads `dense`, `norm` and `out` under `vb`. With `spec.tied`, the
    /// output layer is `x tied^T + out.bias` and `n_out` must equal the rows of `tied`.
    pub fn new(spec: HeadSpec, vb: VarBuilder) -> Result<Self> {
        let HeadSpec {
            dim,
            n_out,
            activation,
            dropout,
            tied,
            kernels,
        } = spec;
        let output = match tied {
            Some(embeddings) => Output::Tied {
                embeddings: embeddings.clone(),
                bias: vb
                    .pp("out")
                    .get_with_hints(n_out, "bias", Init::Const(0.0))?,
            },
            None => Output::Own(Dense::new(dim, n_out, kernels, vb.pp("out"))?),
        };
        Ok(Self {
            dense: Dense::new(dim, dim, kernels, vb.pp("dense"))?,
            norm: LayerNorm::new(dim, kernels, vb.pp("norm"))?,
            activation,
            dropout: Dropout::new(dropout),
            output,
        })
    }

    /// `(.., dim) -> (.., n_out)`
    pub fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        let h = self.norm.forward(&self.dense.forward(x)?)?;
        let h = self.dropout.forward(&self.activation.apply(&h)?, mode)?;
        match &self.output {
            Output::Own(linear) => linear.forward(&h),
            Output::Tied { embeddings, bias } => {
                let dim = h.dim(D::Minus1)?;
                let mut shape = h.dims().to_vec();
                if let Some(last) = shape.last_mut() {
                    *last = embeddings.dim(0)?;
                }
                let logits = h
                    .reshape((h.elem_count() / dim.max(1), dim))?
                    .matmul(&embeddings.t()?)?;
                add_rows(&logits, bias)?.reshape(shape)
            }
        }
    }

    /// `(dense, norm, activation, output weight (n_out, dim), output bias)`, for export.
    pub fn parts(&self) -> (&Dense, &LayerNorm, Activation, Tensor, Tensor) {
        let (w, b) = match &self.output {
            Output::Own(l) => (l.weight().clone(), l.bias().clone()),
            Output::Tied { embeddings, bias } => (embeddings.clone(), bias.clone()),
        };
        (&self.dense, &self.norm, self.activation, w, b)
    }
}
