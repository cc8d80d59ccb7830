//! Training in stages (`[[stages]]`: pre-train, then fine-tune or probe) and starting
//! from another run's weights (`[init]`).
//!
//! ```toml
//! [[stages]]
//! name = "pretrain"
//! steps = 10000
//! objectives = ["MLM", "LA", "NSP"]
//!
//! [[stages]]
//! name = "finetune"
//! steps = 10000
//! objectives = ["CLS"]
//! train = { lr = 5e-5, warmup = 100 }
//! freeze = ["encoder"]          # a probe: only the heads train
//! ```
//!
//! A stage resolves to a one-stage [`Experiment`]: the experiment's fields, its own
//! objectives (fields from `[objectives.NAME]`, then the stage's own), `[train]`
//! with the stage's `train` table over it, and its `steps`.

use super::{parse_table, ConfigError, Experiment, TrainConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One `[[stages]]` table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// A name for figures and files (letters, digits, `-`, `_`); default `stageN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Optimiser steps of this stage.
    pub steps: usize,
    /// The objectives this stage trains: a list of names (their fields from
    /// `[objectives.NAME]`), or a table of tables (`[stages.objectives.CLS]`) whose
    /// fields go over those.
    pub objectives: toml::Value,
    /// `[train]` fields that differ in this stage (`lr`, `warmup`, `optimizer`, ...).
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub train: toml::Table,
    /// Parts that do not train in this stage: `encoder`, or an objective's name for
    /// its head.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freeze: Vec<String>,
}

/// `[init]`: start from another run's best checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InitConfig {
    /// The run folder (`runs/NAME`) whose `model.safetensors` to start from.
    pub from: PathBuf,
    /// What to take: `encoder` and objective names (their heads). Default: the
    /// encoder and the heads of the first stage's objectives that the source has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<String>>,
}

/// What a stage leaves untrained.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Freeze {
    /// The encoder.
    pub encoder: bool,
    /// These objectives' heads.
    pub heads: Vec<String>,
}

impl Freeze {
    /// Whether the parameter `name` (`encoder.*`, `heads.NAME.*`) is frozen.
    pub fn holds(&self, name: &str) -> bool {
        (self.encoder && name.starts_with("encoder."))
            || self.heads.iter().any(|h| {
                name.strip_prefix("heads.")
                    .and_then(|r| r.strip_prefix(h.as_str()))
                    .is_some_and(|r| r.starts_with('.'))
            })
    }
}

/// One stage of an experiment, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Its name.
    pub name: String,
    /// The stage as a one-stage experiment.
    pub experiment: Experiment,
    /// What does not train.
    pub freeze: Freeze,
}

/// `[train]` fields that hold for the whole run: a stage may not change them.
const RUN_WIDE: [&str; 5] = [
    "batch_size",
    "eval_batch_size",
    "device",
    "threads",
    "kernels",
];

impl Experiment {
    /// The stages, each as a one-stage experiment; an experiment without `[[stages]]`
    /// is its own one stage (named `train`).
    pub fn stages(&self) -> Result<Vec<Stage>, ConfigError> {
        if self.stages.is_empty() {
            let mut experiment = self.clone();
            experiment.init = None;
            return Ok(vec![Stage {
                name: "train".into(),
                experiment,
                freeze: Freeze::default(),
            }]);
        }
        let stages: Vec<Stage> = (0..self.stages.len())
            .map(|i| self.stage(i))
            .collect::<Result<_, _>>()?;
        for (i, stage) in stages.iter().enumerate() {
            if stages[..i].iter().any(|s| s.name == stage.name) {
                return Err(ConfigError::invalid(
                    &format!("stages.{i}.name"),
                    format!(
                        "two stages are named `{}`: give each its own name",
                        stage.name
                    ),
                ));
            }
        }
        Ok(stages)
    }

    /// The total steps of the stages.
    pub fn staged_steps(&self) -> usize {
        self.stages.iter().map(|s| s.steps).sum()
    }

    /// Stage `i` resolved and checked.
    fn stage(&self, i: usize) -> Result<Stage, ConfigError> {
        let config = &self.stages[i];
        let at = |field: &str| format!("stages.{i}.{field}");
        let name = config
            .name
            .clone()
            .unwrap_or_else(|| format!("stage{}", i + 1));
        let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if name.is_empty() || !name.chars().all(plain) {
            return Err(ConfigError::invalid(
                &at("name"),
                format!("`{name}` is not a plain name: use letters, digits, `-` and `_`, e.g. \"pretrain\""),
            ));
        }
        if config.steps == 0 {
            return Err(ConfigError::invalid(
                &at("steps"),
                "a stage trains at least 1 step",
            ));
        }
        let objectives = self.stage_objectives(&config.objectives, &at("objectives"))?;
        let mut experiment = self.clone();
        experiment.stages = Vec::new();
        experiment.init = None;
        experiment.objectives = objectives;
        experiment.train = self.stage_train(config, &at("train"))?;
        experiment
            .validate()
            .map_err(|e| in_stage(e, i, &name, config))?;
        let freeze = stage_freeze(&config.freeze, &experiment, &at("freeze"))?;
        Ok(Stage {
            name,
            experiment,
            freeze,
        })
    }

    /// The objective tables of a stage: the experiment's `[objectives.NAME]` under the
    /// stage's own fields.
    fn stage_objectives(
        &self,
        value: &toml::Value,
        field: &str,
    ) -> Result<BTreeMap<String, toml::Table>, ConfigError> {
        let own: Vec<(String, toml::Table)> = match value {
            toml::Value::Array(names) => names
                .iter()
                .map(|n| n.as_str().map(|n| (n.to_owned(), toml::Table::new())))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    ConfigError::invalid(field, "a list of objective names, e.g. [\"MLM\", \"LA\"]")
                })?,
            toml::Value::Table(tables) => tables
                .iter()
                .map(|(n, t)| t.as_table().map(|t| (n.clone(), t.clone())))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    ConfigError::invalid(
                        field,
                        "each objective's fields are a table, e.g. [stages.objectives.CLS]",
                    )
                })?,
            _ => {
                return Err(ConfigError::invalid(
                    field,
                    "a list of objective names, e.g. [\"MLM\", \"LA\"], or their tables",
                ))
            }
        };
        if own.is_empty() {
            return Err(ConfigError::invalid(
                field,
                "the stage trains no objective: list at least one, e.g. objectives = [\"CLS\"] (see `xp objectives`)",
            ));
        }
        Ok(own
            .into_iter()
            .map(|(name, fields)| {
                let mut table = self.objectives.get(&name).cloned().unwrap_or_default();
                table.extend(fields);
                (name, table)
            })
            .collect())
    }

    /// `[train]` with the stage's `train` table over it and the stage's steps.
    fn stage_train(&self, config: &StageConfig, field: &str) -> Result<TrainConfig, ConfigError> {
        if config.train.contains_key("steps") {
            return Err(ConfigError::invalid(
                &format!("{field}.steps"),
                "a stage's steps are its own `steps` field: write steps = N beside the stage's name",
            ));
        }
        if let Some(key) = RUN_WIDE.iter().find(|k| config.train.contains_key(**k)) {
            return Err(ConfigError::invalid(
                &format!("{field}.{key}"),
                format!("`{key}` holds for the whole run: set it in [train], not in a stage"),
            ));
        }
        let mut table = toml::Table::try_from(&self.train)
            .map_err(|e| ConfigError::invalid("train", e.to_string()))?;
        table.extend(config.train.clone());
        let mut train: TrainConfig = parse_table(&table, field)?;
        train.steps = config.steps;
        Ok(train)
    }
}

/// A stage's validation error, named by where to change it: the stage's own field
/// when it set one, else the experiment's.
fn in_stage(error: ConfigError, i: usize, name: &str, config: &StageConfig) -> ConfigError {
    let ConfigError::Invalid { field, reason } = error else {
        return error;
    };
    let own = field.strip_prefix("train.").is_some_and(|key| {
        config
            .train
            .contains_key(key.split('.').next().unwrap_or(key))
    });
    let field = if own || field == "objectives" {
        format!("stages.{i}.{field}")
    } else {
        field
    };
    ConfigError::invalid(&field, format!("in stage `{name}`: {reason}"))
}

/// A stage's `freeze` list checked against what the stage trains.
fn stage_freeze(list: &[String], stage: &Experiment, field: &str) -> Result<Freeze, ConfigError> {
    let mut freeze = Freeze::default();
    for part in list {
        if part == "encoder" {
            freeze.encoder = true;
        } else if stage.objectives.contains_key(part) {
            freeze.heads.push(part.clone());
        } else {
            let trained: Vec<&str> = stage.objectives.keys().map(String::as_str).collect();
            return Err(ConfigError::invalid(
                field,
                format!(
                    "`{part}` is neither `encoder` nor an objective of this stage ({}): a head is frozen in a stage that trains its objective",
                    trained.join(", ")
                ),
            ));
        }
    }
    if freeze.encoder && freeze.heads.len() == stage.objectives.len() {
        return Err(ConfigError::invalid(
            field,
            "the stage freezes the encoder and every head: nothing would train; leave at least one head out of `freeze`",
        ));
    }
    Ok(freeze)
}
