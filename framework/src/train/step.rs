//! One training step: forward, backward, clipping and the optimiser update, timed by
//! phase so `xp bench` measures exactly what training runs.

use super::slices::{merge_outputs, slice_count, sum_gradients, Slices};
use super::ResumePoint;
use crate::config::TrainConfig;
use crate::error::Result;
use crate::model::{Model, ObjectiveOutput};
use crate::objective::Prepared;
use crate::optim::{learning_rate, Optimizer, OptimizerState};
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
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
    names: Vec<String>,
    config: TrainConfig,
    seed: u64,
    slices: usize,
    /// Steps of the run before this trainer's first (earlier stages): dropout draws
    /// follow the run's step, the schedule the stage's.
    first_step: usize,
}

/// What one training step did.
pub struct Step {
    /// Each objective's output on the batch (for metrics).
    pub outputs: Vec<ObjectiveOutput>,
    /// The learning rate used.
    pub lr: f64,
    /// The phase times.
    pub times: StepTimes,
    /// What was not finite (`the loss of MLM`, `the gradient`), when something was:
    /// the weights were then left as they were.
    pub not_finite: Option<String>,
}

/// Names the first loss of `outputs` that is not finite.
fn not_finite(model: &Model, outputs: &[ObjectiveOutput]) -> Result<Option<String>> {
    for (active, out) in model.objectives.iter().zip(outputs) {
        let loss = out
            .loss
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?;
        if !loss.is_finite() {
            return Ok(Some(format!("the loss of {} ({loss})", active.name)));
        }
    }
    Ok(None)
}

/// One slice's forward and backward.
struct SliceResult {
    outputs: Vec<ObjectiveOutput>,
    grads: GradStore,
    forward: Duration,
}

impl Trainer {
    /// A fresh optimiser over every parameter of `model` that trains (see
    /// [`Model::trainable`]).
    pub fn new(model: &Model, config: &TrainConfig, seed: u64) -> Result<Self> {
        let (names, vars): (Vec<String>, Vec<Var>) = model.trainable().into_iter().unzip();
        Ok(Self {
            optimizer: Optimizer::new(
                vars.clone(),
                config.optimizer,
                config.weight_decay,
                model.kernels,
            )?,
            vars,
            names,
            config: config.clone(),
            seed,
            slices: slice_count(config.threads, &model.device),
            first_step: 0,
        })
    }

    /// This trainer continuing a run that trained `steps` steps before it (a later
    /// stage).
    pub fn after(mut self, steps: usize) -> Self {
        self.first_step = steps;
        self
    }

    /// The names of the parameters it trains, in its order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Says whose gradient in `grads` is not finite: the objectives whose heads it
    /// reaches (`heads.NAME.*`), the encoder, and the first such parameter.
    fn gradient_not_finite(&self, grads: &GradStore) -> Result<String> {
        let mut bad = Vec::new();
        for (name, var) in self.names.iter().zip(&self.vars) {
            if let Some(g) = grads.get(var) {
                let sum = g.sqr()?.sum_all()?.to_dtype(candle_core::DType::F64)?;
                if !sum.to_scalar::<f64>()?.is_finite() {
                    bad.push(name.as_str());
                }
            }
        }
        let mut heads: Vec<&str> = bad
            .iter()
            .filter_map(|n| n.strip_prefix("heads.")?.split('.').next())
            .collect();
        heads.dedup();
        let mut parts: Vec<String> = heads.iter().map(|h| format!("{h} head")).collect();
        if bad.iter().any(|n| n.starts_with("encoder.")) {
            parts.push("encoder".into());
        }
        Ok(format!(
            "the gradient of the {} ({} parameter tensors, first {})",
            parts.join(", "),
            bad.len(),
            bad.first().copied().unwrap_or("?")
        ))
    }

    /// The optimiser's record and tensors for a resume point (see
    /// [`crate::optim::Optimizer::save`]).
    pub fn save_optimizer(&self) -> Result<(OptimizerState, Vec<(String, Tensor)>)> {
        Ok(self.optimizer.save(&self.names)?)
    }

    /// Puts back the optimiser a resume point saved.
    pub fn load_optimizer(&mut self, state: &OptimizerState, point: &ResumePoint) -> Result<()> {
        let names = self.names.clone();
        Ok(self.optimizer.load(state, &names, |n| point.tensor(n))?)
    }

    /// Trains on `prepared` as 0-based step `step` (see [`Step`]). The batch is cut
    /// into slices that run on the thread pool (see [`super::slices`]). A loss or
    /// gradient that is not finite leaves the weights as they were.
    pub fn step(&mut self, model: &Model, prepared: &[Prepared], step: usize) -> Result<Step> {
        let t0 = Instant::now();
        let slices = Slices::new(prepared, self.slices);
        let seed = self
            .seed
            .wrapping_mul(0x9e37_79b9)
            .wrapping_add((self.first_step + step) as u64);
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
        let outputs = merge_outputs(outputs, &slices.shares)?;
        let lr = learning_rate(&self.config, step);
        let mut not_finite = not_finite(model, &outputs)?;
        if not_finite.is_none() {
            let norm = self.optimizer.step(&grads, lr, self.config.grad_clip)?;
            if !norm.is_finite() {
                not_finite = Some(self.gradient_not_finite(&grads)?);
            }
        }
        let times = StepTimes {
            forward,
            backward: (t1 - t0).saturating_sub(forward),
            update: t1.elapsed(),
        };
        Ok(Step {
            outputs,
            lr,
            times,
            not_finite,
        })
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
