//! Tokenized rows of a corpus, cut into batches.

use super::{Corpus, Vocab, CLS, PAD};
use crate::objective::NameBatch;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

/// Every kept text as token ids, ready to batch: stored without padding, padded to
/// `seq_len` as batches are cut.
#[derive(Debug, Clone)]
pub struct Dataset {
    ids: Vec<u32>,
    starts: Vec<usize>,
    labels: Vec<u32>,
    seq_len: usize,
    vocab_size: u32,
    first_char_id: u32,
}

impl Dataset {
    /// Tokenizes `corpus` with `vocab` (a token it lacks reads as `[UNK]`).
    pub fn new(corpus: &Corpus, vocab: &Vocab) -> Self {
        let rule = corpus.reading.normalization;
        let mut ids = Vec::new();
        let mut starts = Vec::with_capacity(corpus.examples.len() + 1);
        starts.push(0);
        for e in &corpus.examples {
            // Every kept token is in the vocabulary or reads as [UNK]; one made of the
            // whole corpus holds them all.
            ids.extend(
                rule.split(&e.text)
                    .into_iter()
                    .filter_map(|t| vocab.lookup(t).ok()),
            );
            starts.push(ids.len());
        }
        Self {
            ids,
            starts,
            labels: corpus.examples.iter().map(|e| e.label).collect(),
            seq_len: corpus.max_len + 1,
            vocab_size: vocab.len() as u32,
            first_char_id: vocab.first_char_id(),
        }
    }

    /// The token ids of text `i`.
    fn text(&self, i: usize) -> &[u32] {
        &self.ids[self.starts[i]..self.starts[i + 1]]
    }

    /// Text `i` as a model reads it, unpadded: `[CLS]` first, then its tokens.
    pub fn served_row(&self, i: usize) -> Vec<u32> {
        std::iter::once(CLS)
            .chain(self.text(i).iter().copied())
            .collect()
    }

    /// The label of text `i`.
    pub fn label(&self, i: usize) -> u32 {
        self.labels[i]
    }

    /// The texts at `indices`.
    pub fn batch(&self, indices: &[usize]) -> NameBatch {
        let s = self.seq_len;
        let mut tokens = Vec::with_capacity(indices.len() * s);
        for &i in indices {
            tokens.push(CLS);
            tokens.extend_from_slice(self.text(i));
            tokens.resize(tokens.len() + s - 1 - self.text(i).len(), PAD);
        }
        NameBatch {
            mask_seed: 0,
            training: false,
            tokens,
            lengths: indices.iter().map(|&i| self.text(i).len()).collect(),
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
