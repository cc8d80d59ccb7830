//! The Slurm backend of a tune: each wave is one job array (`sbatch --array`), a task
//! per trial, and the search waits for the array to end before the next wave. A
//! requeued or preempted task resumes its trial from its resume point.

use crate::sweep::slurm::{sbatch, slurm_output, task_line, write_task_script};
use crate::sweep::SlurmOptions;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use xp_study::tune::{Backend, Task, Tune};

/// Submits waves from the tune's folder.
pub(super) struct SlurmBackend {
    dir: PathBuf,
    name: String,
    threads: usize,
    jobs: usize,
    options: SlurmOptions,
}

impl SlurmBackend {
    pub(super) fn new(dir: &Path, tune: &Tune, jobs: usize, options: SlurmOptions) -> Result<Self> {
        let threads = tune
            .trial_experiment(0, &xp_study::tune::Sample::new())
            .map_or(1, |e| e.train.threads.max(1));
        Ok(Self {
            dir: dir.to_path_buf(),
            name: tune.name.clone(),
            threads,
            jobs,
            options,
        })
    }

    fn submit(&self, wave: &[Task]) -> Result<String> {
        let slurm = std::fs::canonicalize(&self.dir)?.join("slurm");
        std::fs::create_dir_all(&slurm)?;
        let waves = std::fs::read_dir(&slurm)?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tasks"))
            .count();
        let tasks_file = slurm.join(format!("wave-{}.tasks", waves + 1));
        let mut lines = String::new();
        for task in wave {
            let dir = std::fs::canonicalize(task.dir.parent().unwrap_or(Path::new(".")))?
                .join(task.dir.file_name().unwrap_or_default());
            lines.push_str(&task_line(&dir, task.pause_at));
        }
        xp_framework::files::write_atomic(&tasks_file, lines.as_bytes())?;
        let script = slurm.join("task.sh");
        write_task_script(&script)?;
        sbatch(
            &self.name,
            (&slurm, &script, &tasks_file),
            wave.len(),
            self.threads,
            (Some(self.jobs), &self.options),
        )
    }
}

impl Backend for SlurmBackend {
    fn run_wave(&mut self, wave: &[Task]) -> std::result::Result<(), String> {
        let job = self.submit(wave).map_err(|e| format!("{e:#}"))?;
        loop {
            let queued = slurm_output(
                Command::new("squeue").args([
                    "--noheader",
                    "--array",
                    "--format=%i",
                    "--jobs",
                    &job,
                ]),
                "the tune went to Slurm; run it from a machine of the cluster",
            )
            .map_err(|e| format!("{e:#}"))?;
            if queued.trim().is_empty() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }
}
