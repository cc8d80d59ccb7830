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
use std::time::Duration;

/// An endless source of training batches.
pub struct Batches<'a> {
    dataset: &'a Dataset,
    shuffler: Shuffler,
    rng: SmallRng,
}

impl<'a> Batches<'a> {
    /// The training names of `session` in batches of `train.batch_size`, seeded by
    /// its experiment's seed.
    pub fn training(session: &'a Session) -> Self {
        let exp = &session.experiment;
        Self::new(
            &session.dataset,
            session.sets.train.clone(),
            exp.train.batch_size,
            exp.seed,
        )
    }

    /// The names at `indices` of `dataset`, reshuffled every epoch, in batches of
    /// `batch_size` (the last partial batch of an epoch is dropped).
    pub fn new(dataset: &'a Dataset, indices: Vec<usize>, batch_size: usize, seed: u64) -> Self {
        Self {
            dataset,
            shuffler: Shuffler::new(indices, batch_size),
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// The next batch, prepared for each objective of `model`.
    pub fn next(&mut self, model: &Model) -> Vec<Prepared> {
        self.next_timed(model).0
    }

    /// Like [`Batches::next`], with the time each objective's transform took.
    pub fn next_timed(&mut self, model: &Model) -> (Vec<Prepared>, Vec<Duration>) {
        let names = self
            .dataset
            .batch(self.shuffler.next_batch(&mut self.rng))
            .training();
        model.prepare_timed(&names, &mut self.rng)
    }
}
