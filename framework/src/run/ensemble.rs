//! `ensemble.json`: what an ensemble of finished runs is made of (its members, their
//! weights, the class objective it averages), written by `xp ensemble` and read back
//! by its export. Its figures are in its `summary.json`, as a run's are.

use super::RunFiles;
use crate::error::{Result, XpError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// An ensemble's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleRecord {
    /// Layout version of `ensemble.json`.
    pub format: u32,
    /// The class objective whose probabilities it averages.
    pub objective: String,
    /// Its classes, in the order of its probability columns.
    pub classes: Vec<String>,
    /// The validation split's negative log-likelihood the weights reach.
    pub valid_nll: f64,
    /// Iterations of the weights' fit.
    pub iterations: usize,
    /// Its members, in the order given.
    pub members: Vec<EnsembleMember>,
}

/// One member run and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleMember {
    /// The run's folder, absolute.
    pub run: PathBuf,
    /// Its weight in the mixture (the weights sum to 1).
    pub weight: f64,
    /// Its seed.
    pub seed: u64,
    /// Its `experiment_sha256`: a member trained again since is not this member.
    pub experiment_sha256: String,
}

impl EnsembleRecord {
    /// The layout version written in `format`.
    pub const FORMAT: u32 = 1;

    /// Reads the record of the ensemble in `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = RunFiles::at(dir).ensemble();
        let text = std::fs::read_to_string(&path).map_err(|e| XpError::read(&path, e))?;
        let record: Self = serde_json::from_str(&text).map_err(|e| {
            XpError::Run(format!(
                "{} is not an ensemble written by xp ({e}): make it again with `xp ensemble`",
                path.display()
            ))
        })?;
        if record.format != Self::FORMAT {
            return Err(XpError::Run(format!(
                "{} has format {}, this xp reads {}: make it again with `xp ensemble`",
                path.display(),
                record.format,
                Self::FORMAT
            )));
        }
        Ok(record)
    }

    /// Writes the record into the ensemble's folder `files`, atomically; returns the
    /// bytes written.
    pub fn write(&self, files: &RunFiles) -> Result<Vec<u8>> {
        let json = serde_json::to_string_pretty(self).map_err(|e| XpError::Run(e.to_string()))?;
        crate::files::write_atomic(&files.ensemble(), json.as_bytes())?;
        Ok(json.into_bytes())
    }

    /// Refuses a member whose folder no longer holds the run it was fitted with.
    pub fn check_members(&self) -> Result<()> {
        for member in &self.members {
            let summary = super::RunSummary::read(&member.run)?;
            if summary.experiment_sha256 != member.experiment_sha256 {
                return Err(XpError::Run(format!(
                    "{} holds another run than the ensemble's member (its experiment changed): make the ensemble again with `xp ensemble`",
                    member.run.display()
                )));
            }
        }
        Ok(())
    }
}
