//! The arguments several commands share. Each command's own arguments are in its
//! file under `cmd/`.

use clap::Args;
use std::path::PathBuf;

/// An experiment file and overrides of its fields.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// The experiment (TOML), e.g. experiments/four_losses.toml.
    pub experiment: PathBuf,
    /// Overrides of its fields.
    #[command(flatten)]
    pub set: Overrides,
}

/// Overrides of an experiment's fields.
#[derive(Debug, Clone, Args)]
pub struct Overrides {
    /// Override a field: --set train.steps=500 --set objectives.MLM.mask_prob=0.2
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Train on this device (cpu, cuda, cuda:N); same as --set train.device=...
    #[arg(long)]
    pub device: Option<String>,
}

impl Overrides {
    /// The overrides, `--device` included.
    pub fn all(&self) -> Vec<String> {
        let mut all = self.overrides.clone();
        if let Some(device) = &self.device {
            all.push(format!("train.device=\"{device}\""));
        }
        all
    }
}

/// Where a sweep's runs or a tune's trials train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Processes on this machine, `--jobs` at a time.
    Local,
    /// Slurm job arrays (`sbatch --array`), a task per run.
    Slurm,
}

/// Where a sweep's runs or a tune's trials train, and Slurm's options.
#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    /// Here (`local`), or as Slurm job arrays (`slurm`, sbatch --array).
    #[arg(long, value_enum, default_value = "local")]
    pub backend: Backend,
    /// Slurm partition (--backend slurm).
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm time limit of each task, e.g. 1:00:00 (--backend slurm).
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs of each Slurm task (default: the runs' train.threads, at least 1).
    #[arg(long)]
    pub cpus_per_task: Option<usize>,
}

impl BackendArgs {
    /// `sbatch`'s options.
    pub fn slurm(&self) -> xp_study::slurm::SlurmOptions {
        xp_study::slurm::SlurmOptions {
            partition: self.partition.clone(),
            time: self.time.clone(),
            cpus_per_task: self.cpus_per_task,
        }
    }
}
