//! Tokenized rows of a corpus, cut into batches.

use super::Corpus;
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

    /// The current epoch's order and the position in it.
    pub fn position(&self) -> (&[usize], usize) {
        (&self.indices, self.cursor)
    }

    /// Continues from `position` (see [`Shuffler::position`]); refuses an order that
    /// is not a permutation of this shuffler's names.
    pub fn restore(&mut self, order: Vec<usize>, cursor: usize) -> Result<(), String> {
        let mut mine = self.indices.clone();
        let mut theirs = order.clone();
        mine.sort_unstable();
        theirs.sort_unstable();
        if mine != theirs || cursor > order.len() {
            return Err("the saved data order is not one of this split's names".into());
        }
        (self.indices, self.cursor) = (order, cursor);
        Ok(())
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
