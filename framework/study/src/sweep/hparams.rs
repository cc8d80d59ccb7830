//! A sweep for TensorBoard's HParams dashboard: the study (its axes and metrics) in the
//! sweep's folder, each run's hyperparameters (its point's values and seed) when it
//! starts, and how it ended (which the run writes itself, wherever it ran). The metrics are the `best/`
//! scalars each run writes at its end: the best checkpoint's validation and test figures.

use super::SweepRun;
use std::path::Path;
use xp_tensorboard::hparams::{self, HParam, HParamInfo};
use xp_tensorboard::{now, EventFileError, EventWriter, HPARAMS_FILE};

type Result<T> = std::result::Result<T, EventFileError>;

/// Writes the study's description into the sweep's folder `dir`.
pub fn write_study(name: &str, runs: &[&SweepRun], dir: &Path) -> Result<()> {
    let mut infos: Vec<HParamInfo> = Vec::new();
    for run in runs {
        for (key, value) in &run.hparams {
            let value = hparam(key, value);
            match infos.iter_mut().find(|i| &i.name == key) {
                Some(info) if !info.values.contains(&value) => info.values.push(value),
                Some(_) => {}
                None => infos.push(HParamInfo {
                    name: key.clone(),
                    values: vec![value],
                }),
            }
        }
    }
    let mut objectives: Vec<&str> = runs
        .iter()
        .flat_map(|r| r.experiment.objectives.keys().map(String::as_str))
        .collect();
    objectives.sort_unstable();
    objectives.dedup();
    let metrics = xp_framework::run::tags::best_metrics(objectives.iter().copied());
    let mut events = EventWriter::create(&dir.join(HPARAMS_FILE))?;
    events.write(0, vec![hparams::experiment(name, &infos, &metrics)])?;
    events.flush()
}

/// Writes `run`'s hyperparameters into its folder `dir`, before it starts.
pub fn start_session(run: &SweepRun, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| EventFileError {
        action: "write",
        path: dir.to_path_buf(),
        source,
    })?;
    let values: Vec<(String, HParam)> = run
        .hparams
        .iter()
        .map(|(k, v)| (k.clone(), hparam(k, v)))
        .collect();
    let mut events = EventWriter::create(&xp_framework::run::RunFiles::at(dir).hparams())?;
    events.write(0, vec![hparams::session_start(&values, now())])?;
    events.flush()
}

/// An axis value as a hyperparameter: numbers and flags as such, a set of objectives
/// as `CLS+MLM`, a recipe of stages by its label, anything else as its TOML text.
fn hparam(key: &str, value: &toml::Value) -> HParam {
    match value {
        toml::Value::Integer(i) => HParam::Number(*i as f64),
        toml::Value::Float(f) => HParam::Number(*f),
        toml::Value::Boolean(b) => HParam::Bool(*b),
        toml::Value::String(s) => HParam::Text(s.clone()),
        toml::Value::Array(items) if items.iter().all(toml::Value::is_str) => HParam::Text(
            items
                .iter()
                .filter_map(toml::Value::as_str)
                .collect::<Vec<_>>()
                .join("+"),
        ),
        toml::Value::Array(_) => HParam::Text(super::axis_label(key, value)),
        other => HParam::Text(other.to_string()),
    }
}
