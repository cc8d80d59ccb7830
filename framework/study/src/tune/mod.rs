//! Tunes: a search over a space of experiments with asynchronous successive halving.
//!
//! ```toml
//! name = "tune_cls"               # optional: the file's stem
//! base = "best_cls.toml"          # relative to the tune file
//! seed = 1                        # the search's own seed (trials train with the base's)
//! sampler = "tpe"                 # or "random"
//! startup = 8                     # random trials before TPE takes over
//! budget = 200000                 # training steps in all
//! [rungs]
//! steps = [1500, 4500, 12000]     # the last is every trial's train.steps
//! eta = 3
//! [space]
//! "train.lr" = { log_uniform = [1e-4, 3e-3] }
//! objectives = { choice = [["CLS"], ["CLS", "MLM"]] }
//! [set]                           # fixed overrides of every trial
//! "train.eval_every" = 500
//! [final]                         # the best trials again, from scratch, with fresh seeds
//! top = 3
//! seeds = [1, 2, 3]
//! against = ["four_losses.toml"]  # experiments to compare them with, on the same seeds
//! ```
//!
//! Trials are ranked on the validation figure of the experiment's `train.monitor`
//! (the best one so far at a rung), never on test.

mod asha;
mod drive;
mod figures;
mod folder;
mod journal;
mod local;
mod slurm;
mod space;
mod tpe;

pub use asha::{Job, Schedule, Search, Trial};
pub use drive::{final_comparison, search, shown, trial_dir, Backend, Progress, Task, TuneError};
pub use folder::{expected_trials, Kept, TuneFolder};
pub use journal::{Event, Journal};
pub use local::LocalBackend;
pub use slurm::SlurmBackend;
pub use space::{parse_space, Dist, Param};
pub use tpe::Sample;

/// Trials trained at once by default: the cores over a trial's training threads.
pub fn default_jobs(trial: &xp_framework::config::Experiment) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / trial.train.threads.max(1)).max(1)
}

use crate::sweep::{objective_names, point_experiment};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use xp_framework::config::{
    apply_override, line_of_keys, with_suggestion, ConfigError, Experiment,
};

/// The tune file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TuneFile {
    name: Option<String>,
    base: PathBuf,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default)]
    sampler: SamplerKind,
    #[serde(default = "default_startup")]
    startup: usize,
    budget: usize,
    #[serde(default = "default_max_trials")]
    max_trials: usize,
    rungs: RungsFile,
    space: toml::Table,
    #[serde(default)]
    set: toml::Table,
    #[serde(default, rename = "final")]
    final_runs: FinalFile,
}

fn default_seed() -> u64 {
    1
}
fn default_startup() -> usize {
    8
}
fn default_max_trials() -> usize {
    10_000
}

/// `[rungs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RungsFile {
    steps: Vec<usize>,
    #[serde(default = "default_eta")]
    eta: usize,
}

fn default_eta() -> usize {
    3
}

/// `[final]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FinalFile {
    top: usize,
    seeds: Vec<u64>,
    against: Vec<PathBuf>,
}

impl Default for FinalFile {
    fn default() -> Self {
        Self {
            top: 3,
            seeds: vec![1, 2, 3],
            against: Vec::new(),
        }
    }
}

/// How new trials are sampled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplerKind {
    /// Each field from its prior.
    Random,
    /// A tree-structured Parzen estimator after `startup` random trials.
    #[default]
    Tpe,
}

/// A run of the final comparison: `POINT/seed-N` in the tune's `final` folder.
#[derive(Debug, Clone)]
pub struct FinalRun {
    /// `trial-NNN` (a trial among the best `top`: named by its number, so that a
    /// search extended later keeps its runs apart), or an `against` experiment's stem.
    pub point: String,
    /// The seed.
    pub seed: u64,
    /// Its experiment.
    pub experiment: Experiment,
}

/// A tune, read and checked.
#[derive(Debug, Clone)]
pub struct Tune {
    /// Its name (its folder under `runs/`).
    pub name: String,
    /// The search's seed.
    pub seed: u64,
    /// The sampler.
    pub sampler: SamplerKind,
    /// Random trials before TPE.
    pub startup: usize,
    /// Rungs, eta, budget.
    pub schedule: Schedule,
    /// The searched fields, `objectives` first.
    pub space: Vec<Param>,
    /// Trials retrained at the end.
    pub top: usize,
    /// Their seeds.
    pub final_seeds: Vec<u64>,
    /// Experiments they are compared with.
    pub against: Vec<(String, Experiment)>,
    /// The trials' `train.monitor`.
    pub monitor: String,
    base: toml::Table,
    set: toml::Table,
    overrides: Vec<String>,
}

impl Tune {
    /// Reads the tune at `path`; `overrides` (`key=value`) apply to every trial.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, ConfigError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        let text = read(path)?;
        let origin = path.display().to_string();
        let file: TuneFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            origin: origin.clone(),
            message: with_suggestion(e.to_string().trim_end(), &[]),
        })?;
        let place = |e: ConfigError, keys: &[&str]| match line_of_keys(&text, keys) {
            Some(line) => e.at(format!("{origin}, line {line}")),
            None => e.at(origin.clone()),
        };
        let folder = path.parent().unwrap_or(Path::new("."));
        let base_path = folder.join(&file.base);
        let base_text = read(&base_path)?;
        let mut base: toml::Table = toml::from_str(&base_text).map_err(|e| ConfigError::Parse {
            origin: base_path.display().to_string(),
            message: e.to_string(),
        })?;
        xp_framework::data::rebase_paths(&mut base, base_path.parent().unwrap_or(folder));
        let rungs = &file.rungs.steps;
        if rungs.is_empty() || rungs.windows(2).any(|w| w[0] >= w[1]) || rungs[0] == 0 {
            let e = ConfigError::invalid(
                "rungs.steps",
                "give rising steps, e.g. [1000, 3000, 9000]: the last is every trial's train.steps",
            );
            return Err(place(e, &["rungs", "steps"]));
        }
        if file.rungs.eta < 2 {
            return Err(place(
                ConfigError::invalid("rungs.eta", "eta is at least 2 (3 promotes a third)"),
                &["rungs", "eta"],
            ));
        }
        let space = parse_space(&file.space).map_err(|e| {
            let key = e
                .field()
                .and_then(|f| f.strip_prefix("space.\""))
                .map(|k| k.trim_end_matches('"').to_owned());
            match key {
                Some(key) => place(e, &["space", &key]),
                None => place(e, &["space"]),
            }
        })?;
        let name = file.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or_else(|| "tune".into(), |s| s.to_string_lossy().into_owned())
        });
        let mut against = Vec::new();
        for other in &file.final_runs.against {
            let exp = Experiment::load(&folder.join(other), overrides)?;
            let stem = other
                .file_stem()
                .map_or_else(|| exp.name.clone(), |s| s.to_string_lossy().into_owned());
            against.push((stem, exp));
        }
        let tune = Self {
            name,
            seed: file.seed,
            sampler: file.sampler,
            startup: file.startup,
            schedule: Schedule {
                rungs: rungs.clone(),
                eta: file.rungs.eta,
                budget: file.budget,
                max_trials: file.max_trials,
            },
            space,
            top: file.final_runs.top,
            final_seeds: file.final_runs.seeds.clone(),
            against,
            monitor: String::new(),
            base,
            set: file.set.clone(),
            overrides: overrides.to_vec(),
        };
        let mut tune = tune;
        let first = tune.trial_experiment(0, &Sample::new()).map_err(|e| {
            match e
                .field()
                .and_then(|f| f.strip_prefix("set."))
                .map(str::to_owned)
            {
                Some(key) => place(e, &["set", &key]),
                None => place(e, &[]),
            }
        })?;
        tune.monitor = first.train.monitor;
        tune.check_space()
            .map_err(|(e, key)| place(e, &["space", &key]))?;
        Ok(tune)
    }

    /// Whether the monitored figure is an accuracy (scores are then negated).
    pub fn monitor_is_accuracy(&self) -> bool {
        self.monitor.ends_with(".accuracy")
    }

    /// The monitored figure, for people: `validation CLS accuracy`.
    pub fn monitor_name(&self) -> String {
        match self.monitor.as_str() {
            "loss" => "validation loss".to_owned(),
            m => format!("validation {}", m.replace('.', " ")),
        }
    }

    /// Every value a field may take (each choice; the ends of a range) makes a valid
    /// trial: a mistyped field or a value of the wrong type is refused here.
    fn check_space(&self) -> Result<(), (ConfigError, String)> {
        for param in &self.space {
            let probes: Vec<toml::Value> = match &param.dist {
                Dist::Choice(values) => values.clone(),
                _ => vec![
                    param.value_at(param.bounds().0),
                    param.value_at(param.bounds().1),
                ],
            };
            for value in probes {
                let mut sample = Sample::new();
                if let (Some(objective), Some(objectives)) = (param.objective(), self.space.first())
                {
                    // An objective's field is checked with a set that trains it.
                    if let Dist::Choice(sets) = &objectives.dist {
                        let trains = |set: &&toml::Value| {
                            objective_names(set, "objectives").is_ok_and(|n| n.contains(&objective))
                        };
                        if let Some(set) = sets.iter().find(trains) {
                            sample.insert("objectives".into(), set.clone());
                        }
                    }
                }
                sample.insert(param.field.clone(), value.clone());
                self.trial_experiment(0, &sample).map_err(|e| {
                    let e = ConfigError::invalid(
                        &format!("space.\"{}\"", param.field),
                        format!("the value {value} makes no valid trial: {e}"),
                    );
                    (e, param.field.clone())
                })?;
            }
        }
        Ok(())
    }

    /// The objectives a trial of `sample` trains.
    fn trained(&self, sample: &Sample) -> Vec<String> {
        if let Some(set) = sample.get("objectives") {
            if let Ok(names) = objective_names(set, "objectives") {
                return names.into_iter().map(str::to_owned).collect();
            }
        }
        let mut doc = self.base.clone();
        for (key, value) in &self.set {
            let _ = apply_override(&mut doc, &format!("{key}={value}"));
        }
        doc.get("objectives")
            .and_then(toml::Value::as_table)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The experiment of trial `id` with `sample`: the base, the sample, `[set]`, the
    /// command line's overrides, and `train.steps` at the last rung.
    pub fn trial_experiment(&self, id: usize, sample: &Sample) -> Result<Experiment, ConfigError> {
        let seed = self
            .base
            .get("seed")
            .and_then(toml::Value::as_integer)
            .map_or(1234, |s| s as u64);
        self.experiment_with_seed(&format!("trial-{id:03}"), sample, seed)
    }

    fn experiment_with_seed(
        &self,
        name: &str,
        sample: &Sample,
        seed: u64,
    ) -> Result<Experiment, ConfigError> {
        let point: Vec<(String, toml::Value)> =
            sample.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut overrides = self.overrides.clone();
        let last = self.schedule.rungs.last().copied().unwrap_or(1);
        overrides.push(format!("train.steps={last}"));
        let mut exp = point_experiment(&self.base, &point, seed, name, &self.set, &overrides)?;
        exp.name = name.to_owned();
        Ok(exp)
    }

    /// The fields of trial `id`, given the trials scored so far: from the priors for
    /// the first `startup` trials (and with the random sampler), by TPE after; a field
    /// of an objective the trial does not train is not sampled.
    pub fn sample(&self, id: usize, search: &Search) -> Sample {
        let mut rng = SmallRng::seed_from_u64(
            self.seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add(id as u64),
        );
        let history = self.history(search);
        let use_tpe = self.sampler == SamplerKind::Tpe && history.len() >= self.startup;
        let mut sample = Sample::new();
        for param in &self.space {
            if let Some(objective) = param.objective() {
                if !self.trained(&sample).iter().any(|o| o == objective) {
                    continue;
                }
            }
            let value = match use_tpe {
                true => tpe::suggest(param, &history, &mut rng),
                false => param.draw(&mut rng),
            };
            sample.insert(param.field.clone(), value);
        }
        sample
    }

    /// The scored trials TPE learns from: their scores at the highest rung that at
    /// least `startup` trials reached (the first rung when none did).
    fn history<'a>(&self, search: &'a Search) -> Vec<(&'a Sample, f64)> {
        let rungs = self.schedule.rungs.len();
        let reached = |r: usize| {
            search
                .trials
                .iter()
                .filter(|t| t.failed.is_none() && t.scores.len() > r)
                .count()
        };
        let rung = (0..rungs)
            .rev()
            .find(|&r| reached(r) >= self.startup)
            .unwrap_or(0);
        search
            .trials
            .iter()
            .filter(|t| t.failed.is_none() && t.scores.len() > rung)
            .map(|t| (&t.sample, t.scores[rung]))
            .collect()
    }

    /// The final comparison: the best `top` trials and the `against` experiments, each
    /// with every final seed, trained from scratch.
    pub fn final_runs(&self, search: &Search) -> Result<Vec<FinalRun>, ConfigError> {
        let mut runs = Vec::new();
        for trial in search.ranking().into_iter().take(self.top) {
            let point = format!("trial-{:03}", trial.id);
            for &seed in &self.final_seeds {
                let name = format!("{point}-seed-{seed}");
                let experiment = self.experiment_with_seed(&name, &trial.sample, seed)?;
                runs.push(FinalRun {
                    point: point.clone(),
                    seed,
                    experiment,
                });
            }
        }
        for (point, base) in &self.against {
            for &seed in &self.final_seeds {
                let mut experiment = base.clone();
                experiment.seed = seed;
                experiment.name = format!("{point}-seed-{seed}");
                runs.push(FinalRun {
                    point: point.clone(),
                    seed,
                    experiment,
                });
            }
        }
        Ok(runs)
    }
}

#[cfg(test)]
mod tests;
