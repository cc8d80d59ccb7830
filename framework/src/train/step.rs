//! One training step: forward, backward, clipping and the optimiser update, timed by
//! phase so `xp bench` measures exactly what training runs.

use super::slices::{merge_outputs, slice_count, sum_gradients, Slices};
use crate::config::TrainConfig;
use crate::error::Result;
use crate::model::{Model, ObjectiveOutput};
use crate::objective::Prepared;
use crate::optim::{clip_factor, learning_rate, Optimizer};
use candle_core::backprop::GradStore;
use candle_core::Var;
use rayon::prelude::*;
use std::time::{Duration, Instant};
use xp_models::Mode;

/// Time spent in each phase of a step.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepTimes {
    /// Encoder and heads, losses included (the first slice's).
    pub forward: Duration,
    /// Gradients, until every slice is done.
    pub backward: Duration,
    /// Summing the slices' gradients, clipping and the optimiser update.
    pub update: Duration,
}

/// The optimiser state and what a step needs.
pub struct Trainer {
    optimizer: Optimizer,
    vars: Vec<Var>,
    config: TrainConfig,
    seed: u64,
    slices: usize,
}

/// One slice's forward and backward.
struct SliceResult {
    outputs: Vec<ObjectiveOutput>,
    grads: GradStore,
    forward: Duration,
}

impl Trainer {
    /// A fresh optimiser over every parameter of `model`.
    pub fn new(model: &Model, config: &TrainConfig, seed: u64) -> Result<Self> {
        let vars: Vec<Var> = model.params.vars().into_iter().map(|(_, v)| v).collect();
        Ok(Self {
            optimizer: Optimizer::new(
                vars.clone(),
                config.optimizer,
                config.weight_decay,
                model.kernels,
            )?,
            vars,
            config: config.clone(),
            seed,
            slices: slice_count(config.threads, &model.device),
        })
    }

    /// Trains on `prepared` as 0-based step `step`; returns the outputs (for metrics),
    /// the learning rate used, and the phase times. The batch is cut into slices that
    /// run on the thread pool (see [`super::slices`]).
    pub fn step(
        &mut self,
        model: &Model,
        prepared: &[Prepared],
        step: usize,
    ) -> Result<(Vec<ObjectiveOutput>, f64, StepTimes)> {
        let t0 = Instant::now();
        let slices = Slices::new(prepared, self.slices);
        let seed = self
            .seed
            .wrapping_mul(0x9e37_79b9)
            .wrapping_add(step as u64);
        // Slice 0 keeps the unsliced dropout seed: one slice trains as before.
        let run = |i: usize| {
            let mode = Mode::train(seed.wrapping_add((i as u64) << 32));
            slice_gradients(model, &slices.parts[i], &slices.shares[i], &mode)
        };
        let results: Vec<SliceResult> = if slices.len() == 1 {
            vec![run(0)?]
        } else {
            (0..slices.len())
                .into_par_iter()
                .map(run)
                .collect::<Result<_>>()?
        };
        let t1 = Instant::now();
        let forward = results[0].forward;
        let (outputs, stores): (Vec<_>, Vec<_>) =
            results.into_iter().map(|r| (r.outputs, r.grads)).unzip();
        let grads = sum_gradients(stores, &self.vars)?;
        let (_, factor) = clip_factor(&grads, &self.vars, self.config.grad_clip)?;
        let lr = learning_rate(&self.config, step);
        self.optimizer.step(&grads, lr, factor)?;
        let times = StepTimes {
            forward,
            backward: (t1 - t0).saturating_sub(forward),
            update: t1.elapsed(),
        };
        Ok((merge_outputs(outputs, &slices.shares)?, lr, times))
    }
}

/// Forward and backward of one slice, its losses weighted by its `shares`.
fn slice_gradients(
    model: &Model,
    prepared: &[Prepared],
    shares: &[f64],
    mode: &Mode,
) -> Result<SliceResult> {
    let t0 = Instant::now();
    let outputs = model.forward(prepared, mode)?;
    let loss = model.weighted_loss(&outputs, shares)?;
    let forward = t0.elapsed();
    let grads = loss.backward()?;
    Ok(SliceResult {
        outputs,
        grads,
        forward,
    })
}
