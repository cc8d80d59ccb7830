//! A finished run's summary (`summary.json`): written with one typed struct, read
//! back with it, its format version checked in one place ([`RunSummary::read`]).

use super::RunFiles;
use crate::error::{Result, XpError};
use crate::train::SplitMetrics;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a finished run reports (`summary.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// Layout version of `summary.json`.
    pub format: u32,
    /// Experiment name.
    pub name: String,
    /// The experiment's seed.
    pub seed: u64,
    /// The corpus read: `embedded` (the one built into xp) or its folder (empty in
    /// summaries of an xp that did not record it).
    #[serde(default)]
    pub corpus: String,
    /// SHA-256 of the resolved experiment (`experiment.toml`): runs of one
    /// configuration share it.
    pub experiment_sha256: String,
    /// Steps trained.
    pub steps: usize,
    /// Step of the best checkpoint (of the last stage).
    pub best_step: usize,
    /// Whether patience ran out before `train.steps` (in the last stage).
    pub stopped_early: bool,
    /// Steps skipped because a loss or gradient was not finite.
    pub skipped_steps: usize,
    /// Wall time of the training loop (evaluations included).
    pub train_seconds: f64,
    /// Training steps per second, evaluations excluded.
    pub steps_per_second: f64,
    /// Number of scalar parameters (of the run's model).
    pub parameters: usize,
    /// The stages of a run in stages; absent for a run in one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageSummary>,
    /// Metrics of the best checkpoint on train, valid and test; written as an
    /// object keyed by split.
    #[serde(
        serialize_with = "crate::train::as_object",
        deserialize_with = "crate::train::from_object"
    )]
    pub splits: Vec<(String, SplitMetrics)>,
}

impl RunSummary {
    /// The layout version written in `format`.
    pub const FORMAT: u32 = 2;
}

/// What one stage of a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    /// The stage's name.
    pub name: String,
    /// Its objectives.
    pub objectives: Vec<String>,
    /// What it left untrained (`encoder`, objective names for heads).
    pub frozen: Vec<String>,
    /// The run's steps before it.
    pub first_step: usize,
    /// Steps it trained.
    pub steps: usize,
    /// The run's step of its best checkpoint, which the next stage started from.
    pub best_step: usize,
    /// Whether its patience ran out.
    pub stopped_early: bool,
}

impl RunSummary {
    /// Reads the summary of the run in `dir`, refusing one of another layout version.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = RunFiles::at(dir).summary();
        let text = std::fs::read_to_string(&path).map_err(|e| XpError::read(&path, e))?;
        #[derive(Deserialize)]
        struct Version {
            format: Option<u32>,
        }
        let not_ours = |e: serde_json::Error| {
            XpError::Run(format!(
                "{} is not a summary written by xp ({e}): run the run again",
                path.display()
            ))
        };
        let version: Version = serde_json::from_str(&text).map_err(not_ours)?;
        if version.format != Some(Self::FORMAT) {
            return Err(XpError::Run(format!(
                "{} was written by an older xp (summary format {}, this xp reads {}): `xp eval` it, or run it again",
                dir.display(),
                version.format.map_or("none".to_owned(), |f| f.to_string()),
                Self::FORMAT
            )));
        }
        serde_json::from_str(&text).map_err(not_ours)
    }

    /// Writes the summary into the run folder `files`, atomically; a run that has it is
    /// finished, so it is written last.
    pub fn write(&self, files: &RunFiles) -> Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(|e| XpError::Run(e.to_string()))?;
        crate::files::write_atomic(&files.summary(), json.as_bytes())
    }

    /// The metrics of `split` (`train`, `valid`, `test`).
    pub fn split(&self, split: &str) -> Option<&SplitMetrics> {
        self.splits.iter().find(|(s, _)| s == split).map(|(_, m)| m)
    }
}
