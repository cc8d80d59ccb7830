//! The transformer encoder: embeddings, then `layers` encoder layers, no final norm.
//!
//! `h0 = dropout_in(front(tok_emb[tokens] + pos[0..seq] + seg_emb[segments]))`, then each
//! layer; `front` is the identity unless the encoder has a [`ConvFront`].
//! Shapes: `tokens (batch, seq)` u32 -> `(batch, seq, dim)`.

use crate::{
    attention_bias, Causal, ConvFront, Dropout, EncoderConfig, EncoderLayer, Mode, NgramFront,
    PositionEncoding, TokenRows,
};
use candle_core::{Result, Tensor};
use candle_nn::{Embedding, Module, VarBuilder};

/// What one encoder pass reads.
#[derive(Debug, Clone, Copy)]
pub struct EncoderInput<'a> {
    /// Token ids `(batch, seq)`, u32; `[PAD]` keys are masked out.
    pub tokens: &'a Tensor,
    /// Segment ids `(batch, seq)`, u32, when the encoder has segment embeddings;
    /// [`Encoder::no_segment`] adds nothing (for rows of objectives without segments).
    pub segments: Option<&'a Tensor>,
    /// Look-ahead mask: position `q` attends to keys `<= q` only.
    pub causal: Causal<'a>,
}

/// Hidden states and, when asked for, each layer's attention weights.
#[derive(Debug, Clone)]
pub struct EncoderOutput {
    /// `(batch, seq, dim)`
    pub hidden: Tensor,
    /// Per layer `(batch, heads, seq, seq)`; empty unless asked for.
    pub attention: Vec<Tensor>,
}

/// The encoder.
#[derive(Debug, Clone)]
pub struct Encoder {
    tok_emb: Embedding,
    positions: PositionEncoding,
    seg_emb: Option<Embedding>,
    front: Option<ConvFront>,
    ngrams: Option<NgramFront>,
    layers: Vec<EncoderLayer>,
    input_dropout: Dropout,
    config: EncoderConfig,
}

impl Encoder {
    /// Creates or loads the encoder under `vb` (`tok_emb`, `pos_emb`, `seg_emb`, `front`,
    /// `layers.N`).
    pub fn new(config: &EncoderConfig, vb: VarBuilder) -> Result<Self> {
        let segments = config.segments;
        Ok(Self {
            tok_emb: candle_nn::embedding(config.vocab_size, config.dim, vb.pp("tok_emb"))?,
            positions: PositionEncoding::new(
                config.positions,
                config.max_positions,
                config.dim,
                vb.clone(),
            )?,
            seg_emb: (segments > 0)
                .then(|| candle_nn::embedding(segments, config.dim, vb.pp("seg_emb")))
                .transpose()?,
            front: (config.conv_width > 0)
                .then(|| {
                    let (width, dim) = (config.conv_width, config.dim);
                    let (activation, kernels) = (config.activation, config.kernels);
                    ConvFront::new(width, dim, activation, kernels, vb.pp("front"))
                })
                .transpose()?,
            ngrams: (config.hashed_ngrams > 0)
                .then(|| {
                    let (buckets, longest) = (config.hashed_ngrams, config.hashed_ngram_length);
                    NgramFront::new(buckets, longest, config.dim, vb.pp("ngrams"))
                })
                .transpose()?,
            layers: (0..config.layers)
                .map(|i| EncoderLayer::new(config, vb.pp(format!("layers.{i}"))))
                .collect::<Result<_>>()?,
            input_dropout: Dropout::new(config.input_dropout),
            config: config.clone(),
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The token embedding table `(vocab, dim)`, for weight tying and export.
    pub fn token_embeddings(&self) -> &Tensor {
        self.tok_emb.embeddings()
    }

    /// The segment embedding table `(segments, dim)`, if any.
    pub fn segment_embeddings(&self) -> Option<&Tensor> {
        self.seg_emb.as_ref().map(|e| e.embeddings())
    }

    /// The segment id that adds no segment vector.
    pub fn no_segment(&self) -> u32 {
        self.config.segments as u32
    }

    /// The position term.
    pub fn positions(&self) -> &PositionEncoding {
        &self.positions
    }

    /// The convolutional front, if any.
    pub fn front(&self) -> Option<&ConvFront> {
        self.front.as_ref()
    }

    /// The hashed n-gram front, if any.
    pub fn ngrams(&self) -> Option<&NgramFront> {
        self.ngrams.as_ref()
    }

    /// The layers, for export.
    pub fn layers(&self) -> &[EncoderLayer] {
        &self.layers
    }

    /// `(batch, seq)` -> `(batch, seq, dim)`.
    pub fn forward(&self, input: EncoderInput, mode: &Mode) -> Result<Tensor> {
        Ok(self.run(input, mode, false)?.hidden)
    }

    /// Like [`Encoder::forward`], also returning every layer's attention weights.
    pub fn forward_with_attention(
        &self,
        input: EncoderInput,
        mode: &Mode,
    ) -> Result<EncoderOutput> {
        self.run(input, mode, true)
    }

    fn run(&self, input: EncoderInput, mode: &Mode, keep: bool) -> Result<EncoderOutput> {
        let (_, seq) = input.tokens.dims2()?;
        let mut x = self
            .tok_emb
            .forward(input.tokens)?
            .broadcast_add(&self.positions.forward(seq)?)?;
        match (&self.seg_emb, input.segments) {
            (Some(emb), Some(segments)) => {
                // One extra zero row: the id `no_segment()` adds nothing.
                let table = emb.embeddings();
                let zero = Tensor::zeros((1, table.dim(1)?), table.dtype(), table.device())?;
                let table = Tensor::cat(&[table, &zero], 0)?;
                x = (x + Embedding::new(table, self.config.dim).forward(segments)?)?
            }
            (None, Some(_)) => {
                candle_core::bail!("segment ids given to an encoder without segment embeddings")
            }
            _ => {}
        }
        if let Some(ngrams) = &self.ngrams {
            x = ngrams.forward(&x, input.tokens)?;
        }
        if let Some(front) = &self.front {
            x = front.forward(&x, input.tokens, input.causal)?;
        }
        let x = self.input_dropout.forward(&x, mode)?;
        let bias = attention_bias(input.tokens, input.causal)?;
        // On CPU the layers run on the token positions only (see `TokenRows`).
        let rows = if self.config.kernels.is_fused() {
            TokenRows::tokens(input.tokens)?
        } else {
            TokenRows::full(x.dim(0)?, seq)
        };
        let mut x = rows.pack(&x)?;
        let mut attention = Vec::new();
        for layer in &self.layers {
            let (next, weights) = layer.forward(&x, &rows, &bias, mode, keep)?;
            x = next;
            attention.extend(weights);
        }
        Ok(EncoderOutput {
            hidden: rows.unpack(&x)?,
            attention,
        })
    }
}
