//! The command-line grammar.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Train character-level transformers on the names corpus with any mix of objectives.
#[derive(Debug, Parser)]
#[command(name = "xp", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// An experiment file and overrides of its fields.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// The experiment (TOML), e.g. experiments/four_losses.toml.
    pub experiment: PathBuf,
    /// Override a field: --set train.steps=500 --set objectives.MLM.mask_prob=0.2
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Train on this device (cpu, cuda, cuda:N); same as --set train.device=...
    #[arg(long)]
    pub device: Option<String>,
}

impl ExperimentArgs {
    /// The overrides, `--device` included.
    pub fn all_overrides(&self) -> Vec<String> {
        let mut all = self.overrides.clone();
        if let Some(device) = &self.device {
            all.push(format!("train.device=\"{device}\""));
        }
        all
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train from an experiment; writes metrics, figures and the best checkpoint.
    Run {
        /// The experiment.
        #[command(flatten)]
        experiment: ExperimentArgs,
        /// Run directory (default: runs/NAME, or runs/NAME-2.. if taken).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Plain progress lines instead of a progress bar.
        #[arg(long)]
        plain: bool,
    },
    /// Check that every parameter gets a gradient from each objective.
    Check {
        /// The experiment.
        #[command(flatten)]
        experiment: ExperimentArgs,
    },
    /// List the registered objectives, their fields and defaults.
    Objectives,
    /// Show where the corpus is and what it holds; fetch it.
    Data {
        /// Corpus folder (default: $XP_DATA_DIR, else the cache).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Download the corpus (into --dir, or the cache) even if one is there.
        #[arg(long)]
        fetch: bool,
        /// Archive to download.
        #[arg(long, default_value = xp_framework::data::CORPUS_URL)]
        url: String,
    },
}
