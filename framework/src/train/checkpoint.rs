//! The best checkpoint and early stopping: each evaluation's validation figure is
//! scored by `train.monitor`; the best so far is saved, and `train.patience`
//! evaluations without a better one stop the run.

use super::SplitMetrics;
use crate::config::Monitor;
use crate::error::Result;
use crate::params::ParamStore;
use candle_core::Device;
use std::collections::HashMap;
use std::path::PathBuf;

/// What one evaluation decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The best figure so far: the weights were saved.
    pub improved: bool,
    /// Patience ran out: training should stop.
    pub stop: bool,
}

/// Where early stopping stands.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointState {
    /// The best monitored figure (`None` before a finite one).
    pub best: Option<f64>,
    /// Step of the best checkpoint.
    pub best_step: usize,
    /// Evaluations without improvement.
    pub stale: usize,
}

/// Keeps the best weights by the monitored validation figure.
#[derive(Debug)]
pub struct Checkpointer {
    monitor: Monitor,
    patience: usize,
    path: PathBuf,
    /// Written into each checkpoint's header (the data it was trained on).
    metadata: Option<HashMap<String, String>>,
    best: f64,
    best_step: usize,
    stale: usize,
}

impl Checkpointer {
    /// Saves to `path`; stops after `patience` evaluations without improvement (0:
    /// never).
    pub fn new(monitor: Monitor, patience: usize, path: PathBuf) -> Self {
        Self {
            monitor,
            patience,
            path,
            metadata: None,
            best: f64::INFINITY,
            best_step: 0,
            stale: 0,
        }
    }

    /// Writes `metadata` into the header of every checkpoint saved.
    pub fn with_metadata(mut self, metadata: HashMap<String, String>) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Judges the evaluation at `step` whose validation metrics are `valid`, saving
    /// `params` when it is the best so far.
    pub fn observe(
        &mut self,
        step: usize,
        valid: &SplitMetrics,
        params: &ParamStore,
    ) -> Result<Verdict> {
        let verdict = self.judge(step, self.score(valid));
        if verdict.improved {
            params.save_with(&self.path, self.metadata.as_ref())?;
        }
        Ok(verdict)
    }

    /// The monitored figure of `valid`, lower is better.
    fn score(&self, valid: &SplitMetrics) -> f64 {
        valid.score(&self.monitor)
    }

    /// Records `score` at `step`.
    fn judge(&mut self, step: usize, score: f64) -> Verdict {
        // A figure that is not finite is never the best.
        let improved = score.is_finite() && score < self.best;
        if improved {
            (self.best, self.best_step, self.stale) = (score, step, 0);
        } else {
            self.stale += 1;
        }
        Verdict {
            improved,
            stop: self.patience > 0 && self.stale >= self.patience,
        }
    }

    /// Where early stopping stands, as a resume point keeps it.
    pub fn state(&self) -> CheckpointState {
        CheckpointState {
            best: self.best.is_finite().then_some(self.best),
            best_step: self.best_step,
            stale: self.stale,
        }
    }

    /// Puts back what [`Checkpointer::state`] gave.
    pub fn restore_state(&mut self, state: &CheckpointState) {
        self.best = state.best.unwrap_or(f64::INFINITY);
        (self.best_step, self.stale) = (state.best_step, state.stale);
    }

    /// The step whose weights were saved last (0 before any).
    pub fn best_step(&self) -> usize {
        self.best_step
    }

    /// Why training stopped at `step`, for the log.
    pub fn stop_message(&self, step: usize) -> String {
        format!(
            "early stop at step {step}: no better {} in {} evaluations",
            self.monitor.describe(),
            self.stale
        )
    }

    /// Loads the best weights back into `params`.
    pub fn restore(&self, params: &ParamStore, device: &Device) -> Result<()> {
        if self.best_step == 0 {
            return Err(crate::XpError::Run(format!(
                "no evaluation gave a finite validation {}, so no checkpoint was saved: lower train.lr or raise train.grad_clip",
                self.monitor.describe()
            )));
        }
        params.copy_from(&ParamStore::load(&self.path, device)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Metric;
    use candle_nn::Init;

    fn valid(total: f64, accuracy: f64) -> SplitMetrics {
        SplitMetrics {
            objectives: vec![(
                "CLS".into(),
                Metric {
                    loss: total,
                    accuracy,
                },
            )],
            total,
            predictions: vec![],
        }
    }

    #[test]
    fn patience_counts_evaluations_without_a_better_figure() {
        let mut c = Checkpointer::new(Monitor::TotalLoss, 2, PathBuf::from("unused"));
        let verdicts: Vec<Verdict> = [(1, 3.0), (2, 2.0), (3, 2.5), (4, 1.5), (5, 1.6), (6, 1.7)]
            .into_iter()
            .map(|(step, score)| c.judge(step, score))
            .collect();
        let improved: Vec<bool> = verdicts.iter().map(|v| v.improved).collect();
        let stop: Vec<bool> = verdicts.iter().map(|v| v.stop).collect();
        assert_eq!(improved, [true, true, false, true, false, false]);
        assert_eq!(stop, [false, false, false, false, false, true]);
        assert_eq!(c.best_step(), 4);
        assert!(c.stop_message(6).contains("in 2 evaluations"));
    }

    #[test]
    fn no_patience_never_stops() {
        let mut c = Checkpointer::new(Monitor::TotalLoss, 0, PathBuf::from("unused"));
        assert!((1..50).all(|step| !c.judge(step, step as f64).stop));
    }

    #[test]
    fn the_best_weights_are_saved_and_restored() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| crate::XpError::Run(e.to_string()))?;
        let params = ParamStore::new(1);
        let w = params
            .var_builder(&Device::Cpu)
            .get_with_hints(2, "w", Init::Const(1.0))?;
        let var = &params.vars()[0].1;
        let monitor = Monitor::Accuracy("CLS".into());
        let mut c = Checkpointer::new(monitor, 0, dir.path().join("best.safetensors"));
        assert!(c.observe(1, &valid(2.0, 0.5), &params)?.improved);
        var.set(&candle_core::Tensor::new(&[5f32, 5.0], &Device::Cpu)?)?;
        // Lower accuracy: not saved, although the loss is lower.
        assert!(!c.observe(2, &valid(1.0, 0.4), &params)?.improved);
        c.restore(&params, &Device::Cpu)?;
        assert_eq!(w.to_vec1::<f32>()?, [1.0, 1.0]);
        Ok(())
    }
}
