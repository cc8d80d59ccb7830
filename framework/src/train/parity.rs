//! Device parity: the same experiment and seed trained on the CPU and on another
//! device (a GPU), dropout off, compared loss by loss over the first steps.
//!
//! Initial weights are drawn on the CPU and copied (see `ParamStore`), and batches,
//! masks and swaps are built on the CPU from the seed, so both runs see the same
//! numbers; what differs is only the arithmetic of the two backends.

use super::{Batches, Session, Trainer};
use crate::config::Experiment;
use crate::error::Result;

/// The losses of one step on both devices.
#[derive(Debug, Clone)]
pub struct ParityStep {
    /// 1-based step.
    pub step: usize,
    /// `(objective, CPU loss, device loss)`, each objective then `total`.
    pub losses: Vec<(String, f64, f64)>,
}

/// The comparison over all steps.
#[derive(Debug, Clone)]
pub struct ParityReport {
    /// The device compared with the CPU.
    pub device: String,
    /// Per-step losses.
    pub steps: Vec<ParityStep>,
}

impl ParityReport {
    /// The largest relative difference `|cpu - device| / max(|cpu|, 1e-12)`, with
    /// where it occurred (step, objective).
    pub fn worst(&self) -> (f64, usize, String) {
        let mut worst = (-1.0, 0, String::new());
        for s in &self.steps {
            let (rel, name) = s.worst();
            if rel > worst.0 || rel.is_nan() {
                worst = (rel, s.step, name);
            }
        }
        worst
    }
}

impl ParityStep {
    /// This step's largest relative difference and the loss it is in.
    pub fn worst(&self) -> (f64, String) {
        let mut worst = (-1.0, String::new());
        for (name, cpu, dev) in &self.losses {
            let rel = relative_difference(*cpu, *dev);
            if rel > worst.0 || rel.is_nan() {
                worst = (rel, name.clone());
            }
        }
        worst
    }
}

/// `|a - b| / max(|a|, 1e-12)`; NaN when either is not finite.
pub fn relative_difference(a: f64, b: f64) -> f64 {
    if !a.is_finite() || !b.is_finite() {
        return f64::NAN;
    }
    (a - b).abs() / a.abs().max(1e-12)
}

/// `experiment` with every dropout off, on `device`.
fn without_dropout(experiment: &Experiment, device: &str) -> Experiment {
    let mut e = experiment.clone();
    e.model.dropout = 0.0;
    e.model.input_dropout = 0.0;
    e.model.head_dropout = 0.0;
    e.train.device = device.to_owned();
    e
}

/// Trains `experiment` for `steps` steps as `xp run` would; per step, each
/// objective's loss, then the weighted total.
pub fn step_losses(experiment: Experiment, steps: usize) -> Result<Vec<Vec<(String, f64)>>> {
    let session = Session::open(experiment)?;
    let (exp, model) = (&session.experiment, &session.model);
    let mut trainer = Trainer::new(model, &exp.train, exp.seed)?;
    let mut batches = Batches::training(&session);
    (0..steps)
        .map(|step| {
            let outputs = trainer.step(model, &batches.next(model), step)?.outputs;
            let mut losses = Vec::with_capacity(outputs.len() + 1);
            for (active, out) in model.objectives.iter().zip(&outputs) {
                losses.push((active.name.clone(), out.loss.to_scalar::<f32>()? as f64));
            }
            let total = model.total_loss(&outputs)?.to_scalar::<f32>()? as f64;
            losses.push(("total".to_owned(), total));
            Ok(losses)
        })
        .collect()
}

/// Trains `experiment` for `steps` steps with dropout off, on the CPU and on
/// `device`, and pairs up their losses.
pub fn parity(experiment: &Experiment, device: &str, steps: usize) -> Result<ParityReport> {
    // Open the device first: a missing GPU fails before the CPU run is spent.
    let on_device = step_losses(without_dropout(experiment, device), steps)?;
    let on_cpu = step_losses(without_dropout(experiment, "cpu"), steps)?;
    let steps = on_cpu
        .into_iter()
        .zip(on_device)
        .enumerate()
        .map(|(i, (cpu, dev))| ParityStep {
            step: i + 1,
            losses: cpu
                .into_iter()
                .zip(dev)
                .map(|((name, c), (_, d))| (name, c, d))
                .collect(),
        })
        .collect();
    Ok(ParityReport {
        device: device.to_owned(),
        steps,
    })
}
