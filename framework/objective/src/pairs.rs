//! Rows of two segments, `[CLS] A [SEP] B [PAD]..`, as NSP- and SOP-like objectives
//! build them.

use crate::{EncoderIds, Prepared, CLS, PAD, SEP};
use rand::rngs::SmallRng;
use rand::Rng;

/// A cut point of a name of `len` characters leaving at least one on each side (`len`
/// itself, the whole name, when it has fewer than two).
pub fn cut_point(len: usize, rng: &mut SmallRng) -> usize {
    if len < 2 {
        len
    } else {
        rng.random_range(1..len)
    }
}

/// Pair rows under construction, with their segment ids: 0 from `[CLS]` through
/// `[SEP]`, 1 for B, 0 on pads.
#[derive(Debug, Clone)]
pub struct PairRows {
    tokens: Vec<u32>,
    segments: Vec<u32>,
    seq_len: usize,
}

impl PairRows {
    /// Room for `rows` rows of `seq_len` ids.
    pub fn new(rows: usize, seq_len: usize) -> Self {
        Self {
            tokens: Vec::with_capacity(rows * seq_len),
            segments: Vec::with_capacity(rows * seq_len),
            seq_len,
        }
    }

    /// Appends `[CLS] a [SEP] b`, cut or padded to `seq_len`.
    pub fn push(&mut self, a: &[u32], b: &[u32]) {
        let start = self.tokens.len();
        self.tokens.push(CLS);
        self.tokens.extend_from_slice(a);
        self.tokens.push(SEP);
        self.segments.resize(self.tokens.len(), 0);
        self.tokens.extend_from_slice(b);
        self.tokens.truncate(start + self.seq_len);
        self.segments.resize(self.tokens.len(), 1);
        self.tokens.resize(start + self.seq_len, PAD);
        self.segments.resize(self.tokens.len(), 0);
    }

    /// The rows as a bidirectional encoder input with one target per row.
    pub fn into_prepared(self, targets: Vec<u32>) -> Prepared {
        Prepared {
            input: EncoderIds {
                tokens: self.tokens,
                seq_len: self.seq_len,
                segments: Some(self.segments),
                causal: false,
            },
            positions: None,
            targets,
        }
    }
}
