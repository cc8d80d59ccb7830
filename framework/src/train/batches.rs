//! The training batches of an experiment: shuffled names, each batch prepared for
//! every objective. One generator, seeded by the experiment, drives the order, the
//! masking seeds and the transforms, so training, `xp parity` and `xp bench` read
//! the same sequence from here.

use super::Session;
use crate::data::{Dataset, Shuffler};
use crate::model::Model;
use crate::objective::Prepared;
use crate::SmallRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where a [`Batches`] source stands (see [`Batches::position`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchesPosition {
    /// The generator's four state words.
    pub rng: [u64; 4],
    /// The epoch's order of names.
    pub order: Vec<usize>,
    /// The next name's place in `order`.
    pub cursor: usize,
}

/// An endless source of training batches.
pub struct Batches<'a> {
    dataset: &'a Dataset,
    shuffler: Shuffler,
    rng: SmallRng,
    /// Batches padded to their longest text only (`train.bucket`).
    trimmed: bool,
}

impl<'a> Batches<'a> {
    /// The training names of `session` in batches of `train.batch_size`, seeded by
    /// its experiment's seed.
    pub fn training(session: &'a Session) -> Self {
        let exp = &session.experiment;
        let batches = Self::new(
            &session.dataset,
            session.sets.train.clone(),
            exp.train.batch_size,
            exp.seed,
        );
        match exp.train.bucket {
            0 => batches,
            pool => batches.bucketed(pool),
        }
    }

    /// The same in batches of like length, from pools of `pool` batches (see
    /// `train.bucket`), each padded to its longest text.
    pub fn bucketed(mut self, pool: usize) -> Self {
        let dataset = self.dataset;
        let lengths = (0..dataset.texts()).map(|i| dataset.text_len(i)).collect();
        self.shuffler = self.shuffler.bucketed(pool, lengths);
        self.trimmed = true;
        self
    }

    /// The names at `indices` of `dataset`, reshuffled every epoch, in batches of
    /// `batch_size` (the last partial batch of an epoch is dropped).
    pub fn new(dataset: &'a Dataset, indices: Vec<usize>, batch_size: usize, seed: u64) -> Self {
        Self {
            dataset,
            shuffler: Shuffler::new(indices, batch_size),
            rng: SmallRng::seed_from_u64(seed),
            trimmed: false,
        }
    }

    /// Where the source stands: the generator's state, the epoch's order and the
    /// position in it.
    pub fn position(&self) -> Result<BatchesPosition, String> {
        let (order, cursor) = self.shuffler.position();
        Ok(BatchesPosition {
            rng: rng_state(&self.rng)?,
            order: order.to_vec(),
            cursor,
        })
    }

    /// Continues from `position`.
    pub fn restore(&mut self, position: BatchesPosition) -> Result<(), String> {
        self.shuffler.restore(position.order, position.cursor)?;
        self.rng = rng_from_state(position.rng);
        Ok(())
    }

    /// The next batch, prepared for each objective of `model`.
    pub fn next(&mut self, model: &Model) -> Vec<Prepared> {
        self.next_timed(model).0
    }

    /// Like [`Batches::next`], with the time each objective's transform took.
    pub fn next_timed(&mut self, model: &Model) -> (Vec<Prepared>, Vec<Duration>) {
        let indices = self.shuffler.next_batch(&mut self.rng);
        let names = if self.trimmed {
            self.dataset.batch_trimmed(indices)
        } else {
            self.dataset.batch(indices)
        };
        let names = names.training();
        model.prepare_timed(&names, &mut self.rng)
    }
}

/// The four state words of `rng`. rand gives no accessor, so they are read from its
/// `Debug` form (`SmallRng(Xoshiro256PlusPlus { s: [..] })`); the round trip is
/// tested, and a change of that form is an error, not a wrong stream.
fn rng_state(rng: &SmallRng) -> Result<[u64; 4], String> {
    let text = format!("{rng:?}");
    let words: Vec<u64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.parse().ok())
        .collect();
    let state: [u64; 4] = match words[..] {
        [.., a, b, c, d] if text.contains("Xoshiro256PlusPlus") => [a, b, c, d],
        _ => return Err(format!("cannot read the generator's state from {text}")),
    };
    if rng_from_state(state) != *rng {
        return Err(format!(
            "the generator's state read from {text} does not rebuild it"
        ));
    }
    Ok(state)
}

/// The generator whose state words are `state` (xoshiro256++ seeds are its state).
fn rng_from_state(state: [u64; 4]) -> SmallRng {
    let mut seed = [0u8; 32];
    for (chunk, word) in seed.chunks_exact_mut(8).zip(state) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    SmallRng::from_seed(seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_generator_continues_from_its_saved_state() -> Result<(), String> {
        let mut rng = SmallRng::seed_from_u64(1234);
        let _: [u64; 7] = rng.random();
        let mut restored = rng_from_state(rng_state(&rng)?);
        let (a, b): ([u64; 16], [u64; 16]) = (rng.random(), restored.random());
        assert_eq!(a, b);
        Ok(())
    }
}
