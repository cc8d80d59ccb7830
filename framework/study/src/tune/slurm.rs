//! The Slurm backend of a tune: each wave is one job array (see [`crate::slurm`]), a
//! task per trial, and the search waits for the array to end before the next wave. A
//! requeued or preempted task resumes its trial from its resume point.

use super::drive::{Backend, Task};
use crate::slurm::{submit_array, wait_for, SlurmOptions};
use std::path::{Path, PathBuf};

/// Submits waves from a tune's folder.
pub struct SlurmBackend {
    /// The tune's folder.
    pub dir: PathBuf,
    /// The job arrays' name.
    pub name: String,
    /// The trials' `train.threads` (CPUs a task by default).
    pub threads: usize,
    /// Tasks at once at most.
    pub jobs: usize,
    /// `sbatch`'s options.
    pub options: SlurmOptions,
    /// The `xp` program the tasks run.
    pub exe: PathBuf,
}

impl Backend for SlurmBackend {
    fn run_wave(&mut self, wave: &[Task]) -> Result<(), String> {
        let dir = std::fs::canonicalize(&self.dir)
            .map_err(|e| format!("cannot resolve {}: {e}", self.dir.display()))?;
        let absolute = |p: &Path| match p.is_absolute() {
            true => p.to_path_buf(),
            false => std::env::current_dir().map_or_else(|_| p.to_path_buf(), |d| d.join(p)),
        };
        let tasks: Vec<(PathBuf, Option<usize>)> = wave
            .iter()
            .map(|t| (absolute(&t.dir), t.pause_at))
            .collect();
        let job = submit_array(
            &dir,
            &self.name,
            &tasks,
            self.threads,
            (Some(self.jobs), &self.options),
            &self.exe,
        )
        .map_err(|e| e.to_string())?;
        wait_for(&job).map_err(|e| e.to_string())
    }
}
