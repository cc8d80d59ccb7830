//! Batches on their way from the corpus to the encoder and heads.

use candle_core::{Device, Result, Tensor};
use std::ops::Range;
use xp_format::{Vocab, CLS, PAD};

/// Clean tokenized names: rows `[CLS] c1 .. cn [PAD]..` of `seq_len` ids each.
#[derive(Debug, Clone)]
pub struct NameBatch {
    /// `len() * seq_len` ids, row after row.
    pub tokens: Vec<u32>,
    /// Characters per name.
    pub lengths: Vec<usize>,
    /// Language label per name.
    pub labels: Vec<u32>,
    /// Ids per row (`max_len + 1`).
    pub seq_len: usize,
    /// Token id of the first character (ids below are specials).
    pub first_char_id: u32,
    /// Number of token ids.
    pub vocab_size: u32,
    /// Seed of the batch's character masking, drawn once per batch: objectives that
    /// mask at the same probability see the same masked names, as BERT's (and the
    /// reference's) CLS reads MLM's masked input, and share one encoder pass.
    pub mask_seed: u64,
    /// True when the batch trains the model, false when it evaluates it: a transform
    /// may augment in training only (CLS with `eval_masked = false`).
    pub training: bool,
}

impl NameBatch {
    /// A batch of `names` (folded, label = index) over their own vocabulary, for tests
    /// of transforms.
    pub fn from_strs(names: &[&str], max_len: usize) -> (Self, Vocab) {
        let vocab = Vocab::from_names(names.iter().copied());
        let ids: Vec<Vec<u32>> = names
            .iter()
            .map(|n| vocab.encode(n).unwrap_or_default())
            .collect();
        let mut batch = Self::from_ids(&ids, &vocab, max_len);
        batch.labels = (0..names.len() as u32).collect();
        (batch, vocab)
    }

    /// A batch of names given as character ids (each at most `max_len`), with label 0,
    /// as inference reads them.
    pub fn from_ids(names: &[Vec<u32>], vocab: &Vocab, max_len: usize) -> Self {
        let seq_len = max_len + 1;
        let mut tokens = Vec::with_capacity(names.len() * seq_len);
        for ids in names {
            tokens.push(CLS);
            tokens.extend_from_slice(ids);
            tokens.resize(tokens.len() + seq_len - 1 - ids.len(), PAD);
        }
        Self {
            mask_seed: 0,
            training: false,
            tokens,
            lengths: names.iter().map(Vec::len).collect(),
            labels: vec![0; names.len()],
            seq_len,
            first_char_id: vocab.first_char_id(),
            vocab_size: vocab.len() as u32,
        }
    }

    /// The batch, marked as training the model.
    pub fn training(mut self) -> Self {
        self.training = true;
        self
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// True when it holds no name.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Row `i`, `[CLS]` and padding included.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.tokens[i * self.seq_len..(i + 1) * self.seq_len]
    }

    /// The character ids of name `i`.
    pub fn chars(&self, i: usize) -> &[u32] {
        &self.row(i)[1..1 + self.lengths[i]]
    }
}

/// The ids one encoder pass reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderIds {
    /// `rows * seq_len` token ids.
    pub tokens: Vec<u32>,
    /// Ids per row.
    pub seq_len: usize,
    /// Segment ids, one per token, when the objective uses segments.
    pub segments: Option<Vec<u32>>,
    /// Look-ahead (causal) attention.
    pub causal: bool,
}

impl EncoderIds {
    /// Bidirectional rows without segments, as most objectives read names.
    pub fn plain(tokens: Vec<u32>, seq_len: usize) -> Self {
        Self {
            tokens,
            seq_len,
            segments: None,
            causal: false,
        }
    }
}

/// An objective's view of a batch, built on the CPU.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What the encoder reads.
    pub input: EncoderIds,
    /// Flat indices (`row * seq_len + position`) of the hidden states the head reads,
    /// for token-level objectives; `None` for one prediction per row.
    pub positions: Option<Vec<u32>>,
    /// One target class per prediction.
    pub targets: Vec<u32>,
}

impl Prepared {
    /// Number of encoder rows.
    pub fn rows(&self) -> usize {
        self.input.tokens.len() / self.input.seq_len.max(1)
    }

    /// Rows `rows` as a batch of their own: the predictions they hold, in order, with
    /// positions counted from the slice's first row.
    pub fn slice_rows(&self, rows: Range<usize>) -> Prepared {
        let seq = self.input.seq_len;
        let ids = |v: &[u32]| v[rows.start * seq..rows.end * seq].to_vec();
        let (positions, targets) = match &self.positions {
            Some(positions) => {
                let flat = (rows.start * seq) as u32..(rows.end * seq) as u32;
                let (kept, targets): (Vec<u32>, Vec<u32>) = positions
                    .iter()
                    .zip(&self.targets)
                    .filter(|(p, _)| flat.contains(p))
                    .map(|(p, t)| (p - flat.start, *t))
                    .unzip();
                (Some(kept), targets)
            }
            None => (None, self.targets[rows.clone()].to_vec()),
        };
        Prepared {
            input: EncoderIds {
                tokens: ids(&self.input.tokens),
                seq_len: seq,
                segments: self.input.segments.as_deref().map(ids),
                causal: self.input.causal,
            },
            positions,
            targets,
        }
    }
}

/// A [`Prepared`] batch as tensors on the training device.
#[derive(Debug, Clone)]
pub struct DeviceBatch {
    /// `(rows, seq)` u32.
    pub tokens: Tensor,
    /// `(rows, seq)` u32.
    pub segments: Option<Tensor>,
    /// Look-ahead attention.
    pub causal: bool,
    /// `(targets,)` u32 flat positions.
    pub positions: Option<Tensor>,
    /// `(targets,)` u32.
    pub targets: Tensor,
}

impl DeviceBatch {
    /// Copies `p` to `device`.
    pub fn new(p: &Prepared, device: &Device) -> Result<Self> {
        let rows = p.input.tokens.len() / p.input.seq_len.max(1);
        let shape = (rows, p.input.seq_len);
        let ids = |v: &[u32]| Tensor::from_slice(v, shape, device);
        Ok(Self {
            tokens: ids(&p.input.tokens)?,
            segments: p.input.segments.as_deref().map(ids).transpose()?,
            causal: p.input.causal,
            positions: p
                .positions
                .as_deref()
                .map(|v| Tensor::from_slice(v, v.len(), device))
                .transpose()?,
            targets: Tensor::from_slice(&p.targets, p.targets.len(), device)?,
        })
    }

    /// The hidden states `(targets, dim)` at [`DeviceBatch::positions`], for token-level heads.
    pub fn gathered(&self, hidden: &Tensor) -> Result<Tensor> {
        let positions = self
            .positions
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("token-level batch without positions".into()))?;
        crate::gather_rows(hidden, positions)
    }

    /// The encoder's view of it.
    pub fn encoder_input(&self) -> xp_models::EncoderInput<'_> {
        let causal = if self.causal {
            xp_models::Causal::All
        } else {
            xp_models::Causal::None
        };
        xp_models::EncoderInput {
            tokens: &self.tokens,
            segments: self.segments.as_ref(),
            causal,
        }
    }
}
