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
        self.batch_of_width(indices, self.seq_len)
    }

    /// The texts at `indices`, padded only to the longest of them.
    pub fn batch_trimmed(&self, indices: &[usize]) -> NameBatch {
        let longest = indices.iter().map(|&i| self.text_len(i)).max().unwrap_or(0);
        self.batch_of_width(indices, longest + 1)
    }

    /// The number of tokens of text `i`.
    pub fn text_len(&self, i: usize) -> usize {
        self.starts[i + 1] - self.starts[i]
    }

    /// The number of texts.
    pub fn texts(&self) -> usize {
        self.labels.len()
    }

    fn batch_of_width(&self, indices: &[usize], s: usize) -> NameBatch {
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
    buckets: Option<Buckets>,
}

/// How a [`Shuffler`] groups texts of like length.
struct Buckets {
    /// Batches per pool sorted by length.
    pool: usize,
    /// Each text's length, by dataset index.
    lengths: Vec<usize>,
}

impl Shuffler {
    /// Batches of `batch_size` from `indices` (at least one full batch is needed).
    pub fn new(indices: Vec<usize>, batch_size: usize) -> Self {
        let cursor = indices.len();
        Self {
            indices,
            batch_size,
            cursor,
            buckets: None,
        }
    }

    /// The same, each epoch's order arranged in batches of like length: cut into pools
    /// of `pool` batches, each sorted by `lengths` (by dataset index), the full batches
    /// then shuffled (see `train.bucket`).
    pub fn bucketed(mut self, pool: usize, lengths: Vec<usize>) -> Self {
        self.buckets = Some(Buckets {
            pool: pool.max(1),
            lengths,
        });
        self
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
            if let Some(buckets) = &self.buckets {
                self.indices = buckets.arrange(&self.indices, self.batch_size, rng);
            }
            self.cursor = 0;
        }
        let start = self.cursor;
        self.cursor += self.batch_size;
        &self.indices[start..self.cursor]
    }
}

impl Buckets {
    /// `order` in batches of like length, the batches in a random order, the names of
    /// the epoch's last partial batch (dropped) at the end.
    fn arrange(&self, order: &[usize], batch_size: usize, rng: &mut SmallRng) -> Vec<usize> {
        let mut sorted = order.to_vec();
        for pool in sorted.chunks_mut(self.pool * batch_size) {
            // A stable sort: names of one length keep their shuffled order.
            pool.sort_by_key(|&i| self.lengths[i]);
        }
        let full = sorted.len() / batch_size * batch_size;
        let mut batches: Vec<&[usize]> = sorted[..full].chunks(batch_size).collect();
        batches.shuffle(rng);
        let mut arranged: Vec<usize> = batches.concat();
        arranged.extend_from_slice(&sorted[full..]);
        arranged
    }
}

#[cfg(test)]
mod tests {
    use super::Shuffler;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    /// Two epochs of batches of 4 from `shuffler`.
    fn epochs(mut shuffler: Shuffler) -> Vec<Vec<usize>> {
        let mut rng = SmallRng::seed_from_u64(9);
        (0..2 * 25)
            .map(|_| shuffler.next_batch(&mut rng).to_vec())
            .collect()
    }

    #[test]
    fn bucketed_batches_are_of_like_length_and_every_name_comes_once_an_epoch() {
        let lengths: Vec<usize> = (0..100).map(|i| (i * 37) % 500 + 1).collect();
        let plain = epochs(Shuffler::new((0..100).collect(), 4));
        let bucketed = || epochs(Shuffler::new((0..100).collect(), 4).bucketed(5, lengths.clone()));
        let spread = |batches: &[Vec<usize>]| -> usize {
            let of = |b: &Vec<usize>| {
                let l: Vec<usize> = b.iter().map(|&i| lengths[i]).collect();
                l.iter().max().unwrap() - l.iter().min().unwrap()
            };
            batches.iter().map(of).sum::<usize>() / batches.len()
        };
        let (a, b) = (bucketed(), bucketed());
        assert_eq!(a, b, "the same seed, the same batches");
        assert!(
            spread(&a) * 3 < spread(&plain),
            "{} vs {}",
            spread(&a),
            spread(&plain)
        );
        for epoch in a.chunks(25) {
            let mut names: Vec<usize> = epoch.concat();
            names.sort_unstable();
            assert_eq!(names, (0..100).collect::<Vec<_>>());
        }
    }
}
