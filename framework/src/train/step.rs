//! One training step: forward, backward, clipping and the optimiser update, timed by
//! phase so `xp bench` measures exactly what training runs.

use crate::config::TrainConfig;
use crate::error::Result;
use crate::model::{Model, ObjectiveOutput};
use crate::objective::Prepared;
use crate::optim::{clip_factor, learning_rate, Optimizer};
use candle_core::Var;
use std::time::{Duration, Instant};
use xp_models::Mode;

/// Time spent in each phase of a step.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepTimes {
    /// Encoder and heads, losses included.
    pub forward: Duration,
    /// Gradients.
    pub backward: Duration,
    /// Clipping and the optimiser update.
    pub update: Duration,
}

/// The optimiser state and what a step needs.
pub struct Trainer {
    optimizer: Optimizer,
    vars: Vec<Var>,
    config: TrainConfig,
    seed: u64,
}

impl Trainer {
    /// A fresh optimiser over every parameter of `model`.
    pub fn new(model: &Model, config: &TrainConfig, seed: u64) -> Result<Self> {
        let vars: Vec<Var> = model.params.vars().into_iter().map(|(_, v)| v).collect();
        Ok(Self {
            optimizer: Optimizer::new(vars.clone(), config.optimizer, config.weight_decay)?,
            vars,
            config: config.clone(),
            seed,
        })
    }

    /// Trains on `prepared` as 0-based step `step`; returns the outputs (for metrics),
    /// the learning rate used, and the phase times.
    pub fn step(
        &mut self,
        model: &Model,
        prepared: &[Prepared],
        step: usize,
    ) -> Result<(Vec<ObjectiveOutput>, f64, StepTimes)> {
        let t0 = Instant::now();
        let mode = Mode::train(
            self.seed
                .wrapping_mul(0x9e37_79b9)
                .wrapping_add(step as u64),
        );
        let outputs = model.forward(prepared, &mode)?;
        let total = model.total_loss(&outputs)?;
        let t1 = Instant::now();
        let grads = total.backward()?;
        let t2 = Instant::now();
        let (_, factor) = clip_factor(&grads, &self.vars, self.config.grad_clip)?;
        let lr = learning_rate(&self.config, step);
        self.optimizer.step(&grads, lr, factor)?;
        let times = StepTimes {
            forward: t1 - t0,
            backward: t2 - t1,
            update: t2.elapsed(),
        };
        Ok((outputs, lr, times))
    }
}
