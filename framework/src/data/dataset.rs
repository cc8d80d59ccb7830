//! Tokenized rows of a corpus, cut into batches.

use super::{Corpus, Vocab};
use crate::objective::NameBatch;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

/// Every kept name as a row of ids, ready to batch.
#[derive(Debug, Clone)]
pub struct Dataset {
    rows: Vec<u32>,
    lengths: Vec<usize>,
    labels: Vec<u32>,
    seq_len: usize,
    vocab_size: u32,
    first_char_id: u32,
}

impl Dataset {
    /// Tokenizes `corpus`.
    pub fn new(corpus: &Corpus) -> Self {
        let rows = (0..corpus.examples.len())
            .flat_map(|i| corpus.row(i))
            .collect();
        Self {
            rows,
            lengths: corpus
                .examples
                .iter()
                .map(|e| e.name.chars().count())
                .collect(),
            labels: corpus.examples.iter().map(|e| e.label).collect(),
            seq_len: corpus.seq_len(),
            vocab_size: corpus.vocab.len() as u32,
            first_char_id: corpus.vocab.first_char_id(),
        }
    }

    /// A batch of `names` (folded, in the vocabulary) with dummy labels, for inference.
    pub fn from_names(names: &[Vec<u32>], vocab: &Vocab, max_len: usize) -> NameBatch {
        let seq_len = max_len + 1;
        let mut tokens = Vec::with_capacity(names.len() * seq_len);
        for ids in names {
            tokens.push(super::CLS);
            tokens.extend_from_slice(ids);
            tokens.resize(tokens.len() + seq_len - 1 - ids.len(), super::PAD);
        }
        NameBatch {
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

    /// The names at `indices`.
    pub fn batch(&self, indices: &[usize]) -> NameBatch {
        let s = self.seq_len;
        NameBatch {
            mask_seed: 0,
            training: false,
            tokens: indices
                .iter()
                .flat_map(|&i| &self.rows[i * s..(i + 1) * s])
                .copied()
                .collect(),
            lengths: indices.iter().map(|&i| self.lengths[i]).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            seq_len: s,
            first_char_id: self.first_char_id,
            vocab_size: self.vocab_size,
        }
    }
}

/// Endless shuffled training batches: a new permutation each epoch, the last partial
/// batch of each epoch dropped.
pub struct Shuffler {
    indices: Vec<usize>,
    batch_size: usize,
    cursor: usize,
}

impl Shuffler {
    /// Batches of `batch_size` from `indices` (at least one full batch is needed).
    pub fn new(indices: Vec<usize>, batch_size: usize) -> Self {
        let cursor = indices.len();
        Self {
            indices,
            batch_size,
            cursor,
        }
    }

    /// The next batch's indices.
    pub fn next_batch(&mut self, rng: &mut SmallRng) -> &[usize] {
        if self.cursor + self.batch_size > self.indices.len() {
            self.indices.shuffle(rng);
            self.cursor = 0;
        }
        let start = self.cursor;
        self.cursor += self.batch_size;
        &self.indices[start..self.cursor]
    }
}
