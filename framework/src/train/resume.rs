//! Resume points: what a run needs to continue exactly where it stopped, in one file
//! written atomically (`resume.safetensors`): the live weights, the optimiser's
//! moments, the weight average, and as JSON in the file's metadata the step, the
//! data order and the generator's state, the early-stopping state, the running train
//! losses, and the experiment it was written under. A run resumed from it ends with
//! the files an uninterrupted run writes, byte for byte.

use super::{AverageState, BatchesPosition, CheckpointState};
use crate::error::{Result, XpError};
use crate::optim::OptimizerState;
use crate::params::ParamStore;
use crate::run::StageSummary;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The name of the live weights' tensors.
const WEIGHT: &str = "weight";

/// The metadata key holding the JSON state.
const STATE_KEY: &str = "xp.resume";

/// Everything of a resume point but the tensors: each part's own record (the
/// optimiser's, early stopping's, the weight average's, the loop's), flattened into
/// one JSON object in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResumeState {
    /// Layout version.
    pub format: u32,
    /// Optimiser steps done.
    pub step: usize,
    /// The run's resolved experiment (TOML) when the point was written.
    pub experiment: String,
    /// The optimiser's record.
    #[serde(flatten)]
    pub optimizer: OptimizerState,
    /// The training batches' position.
    pub batches: BatchesPosition,
    /// Early stopping's record.
    #[serde(flatten)]
    pub checkpoints: CheckpointState,
    /// The running train losses since the last evaluation (see `Tally::sums`).
    pub window: Vec<[f64; 3]>,
    /// The weight average's record.
    #[serde(flatten)]
    pub average: AverageState,
    /// The loop's counters and clocks.
    #[serde(flatten)]
    pub counters: LoopCounters,
    /// Bytes of the run's TensorBoard event file when the point was written (absent in
    /// points of runs that wrote none).
    #[serde(default)]
    pub events_len: Option<u64>,
    /// Where the run stands among its stages.
    #[serde(flatten)]
    pub stages: StagePosition,
    /// The vocabulary, labels and normalisation the run trains with (absent in points
    /// of an older xp).
    #[serde(default)]
    pub data: Option<crate::model::DataInfo>,
}

/// A stage's loop's counters and clocks.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LoopCounters {
    /// Steps skipped for a loss or gradient that was not finite.
    pub skipped: usize,
    /// Whether patience had run out.
    pub stopped_early: bool,
    /// Wall time of the loop so far, evaluations included.
    pub train_seconds: f64,
    /// Wall time of evaluations so far.
    pub eval_seconds: f64,
}

/// Where a run stands among its stages.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StagePosition {
    /// The stage the point was written in (0-based).
    #[serde(default)]
    pub stage: usize,
    /// The run's steps before that stage.
    #[serde(default)]
    pub stage_start: usize,
    /// The stages finished before it.
    #[serde(default)]
    pub stages_done: Vec<StageSummary>,
}

/// A resume point read back.
#[derive(Debug, Clone)]
pub struct ResumePoint {
    /// The state.
    pub state: ResumeState,
    tensors: HashMap<String, Tensor>,
}

impl ResumeState {
    /// The version of this layout.
    pub const FORMAT: u32 = 1;
}

impl ResumePoint {
    /// Writes `state` and `tensors` (named by the parts that own them: the weights'
    /// with [`ResumePoint::weights`]) to `path`, whole or not at all.
    pub fn save(path: &Path, state: &ResumeState, tensors: Vec<(String, Tensor)>) -> Result<()> {
        let json = serde_json::to_string(state).map_err(|e| XpError::Run(e.to_string()))?;
        let metadata = HashMap::from([(STATE_KEY.to_owned(), json)]);
        crate::files::write_atomic_with(path, |tmp| {
            safetensors::serialize_to_file(tensors, Some(metadata), tmp)
                .map_err(std::io::Error::other)
        })
    }

    /// The live weights of `params`, named for a resume point (`weight/NAME`).
    pub fn weights(params: &ParamStore) -> Vec<(String, Tensor)> {
        params
            .vars()
            .into_iter()
            .map(|(n, v)| (format!("{WEIGHT}/{n}"), v.as_tensor().clone()))
            .collect()
    }

    /// Reads the resume point at `path`, its tensors onto `device`.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| XpError::read(path, e))?;
        let corrupt = |why: String| {
            XpError::Run(format!(
                "{} is not a usable resume point ({why}): start the run again, or copy back an intact {}",
                path.display(),
                crate::run::RunFiles::RESUME
            ))
        };
        let (_, header) =
            safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let json = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(STATE_KEY))
            .ok_or_else(|| corrupt(format!("no {STATE_KEY} metadata")))?;
        let state: ResumeState = serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
        if state.format != ResumeState::FORMAT {
            return Err(corrupt(format!(
                "layout {} where this xp reads {}",
                state.format,
                ResumeState::FORMAT
            )));
        }
        let tensors = candle_core::safetensors::load_buffer(&bytes, device)
            .map_err(|e| corrupt(e.to_string()))?;
        Ok(Self { state, tensors })
    }

    /// The saved tensor named `name` (`KIND/PARAMETER`, as the part that saved it
    /// named it); a point without it belongs to another model.
    pub fn tensor(&self, name: &str) -> candle_core::Result<Tensor> {
        self.tensors.get(name).cloned().ok_or_else(|| {
            let (kind, parameter) = name.split_once('/').unwrap_or(("tensor", name));
            candle_core::Error::Msg(format!(
                "the resume point has no {kind} of parameter {parameter}: it belongs to another model"
            ))
        })
    }

    /// Sets every parameter of `params` to its saved live weight.
    pub fn restore_weights(&self, params: &ParamStore) -> Result<()> {
        for (name, var) in params.vars() {
            let saved = self.tensor(&format!("{WEIGHT}/{name}"))?;
            var.set(&saved.reshape(var.shape())?.to_device(var.device())?)?;
        }
        Ok(())
    }
}

/// The dotted fields whose values differ between two experiments (TOML texts), or
/// that only one of them has; `train.steps`, which may be raised to extend a run, is
/// left out.
pub fn changed_fields(saved: &str, current: &str) -> Result<Vec<String>> {
    let parse = |text: &str| {
        toml::from_str::<toml::Table>(text)
            .map_err(|e| XpError::Run(format!("cannot read an experiment: {e}")))
    };
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &parse(saved)?, &mut a);
    flatten("", &parse(current)?, &mut b);
    // Both maps are sorted, so the union of their keys comes out sorted too.
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    Ok(keys
        .into_iter()
        .filter(|k| *k != "train.steps" && a.get(*k) != b.get(*k))
        .cloned()
        .collect())
}

/// Every leaf of `table` by dotted key.
fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, toml::Value>) {
    for (key, value) in table {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(t) => flatten(&key, t, out),
            v => {
                out.insert(key, v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_are_named_and_steps_may_change() -> Result<()> {
        let saved = "name = \"a\"\n[train]\nsteps = 10\nlr = 0.1\n[objectives.CLS]\nweight = 1.0\n";
        let same = changed_fields(saved, &saved.replace("steps = 10", "steps = 20"))?;
        assert!(same.is_empty(), "{same:?}");
        let current = saved
            .replace("lr = 0.1", "lr = 0.2")
            .replace("weight = 1.0", "weight = 1.0\ndetach = true");
        assert_eq!(
            changed_fields(saved, &current)?,
            ["objectives.CLS.detach", "train.lr"]
        );
        Ok(())
    }
}
