//! The Slurm backend: the sweep's unfinished runs as one job array (`sbatch --array`),
//! a task per run. Each task runs `xp sweep-task`, which trains its run, or resumes it
//! when a requeued or preempted task finds it interrupted. Slurm does the scheduling;
//! the sweep's folder records each submission (`slurm/jobs.tsv`, a task list per
//! submission) for `xp sweep --status` (see [`xp_study::slurm`]).

use super::SweepOptions;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use xp_study::slurm::{queued_runs, submissions, submit_array, task_lines, SLURM_DIR};
use xp_study::sweep::{run_arguments, run_state, write_experiment, RunState};
use xp_study::sweep::{Sweep, SweepRun};

/// Submits the unfinished ones of `runs` as one job array.
pub(super) fn submit(
    sweep: &Sweep,
    runs: &[&SweepRun],
    dir: &Path,
    options: &SweepOptions,
) -> Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let submissions = submissions(&dir)?;
    let queued = queued_runs(&submissions)?;
    if !queued.is_empty() {
        let mut jobs: Vec<&str> = queued.values().map(|t| t.job.as_str()).collect();
        jobs.sort_unstable();
        jobs.dedup();
        bail!(
            "{} runs of this sweep are still in Slurm's queue (jobs {}): wait for them (`xp sweep --status {}`), or cancel them with scancel, before submitting again",
            queued.len(),
            jobs.join(", "),
            dir.display()
        );
    }
    let mut todo = Vec::new();
    for run in runs {
        let run_dir = run.dir(&dir);
        match run_state(&run_dir) {
            RunState::Done => {}
            RunState::Pending => {
                write_experiment(run, &run_dir)?;
                todo.push(run_dir);
            }
            RunState::Interrupted => todo.push(run_dir),
        }
    }
    if todo.is_empty() {
        eprintln!(
            "{}: all {} runs are done in {}",
            sweep.name,
            runs.len(),
            dir.display()
        );
        return Ok(());
    }
    let threads = runs.first().map_or(1, |r| r.experiment.train.threads);
    let exe = std::env::current_exe().context("cannot find the xp program for the Slurm tasks")?;
    let tasks: Vec<(PathBuf, Option<usize>)> = todo.iter().map(|d| (d.clone(), None)).collect();
    let job = submit_array(
        &dir,
        &sweep.name,
        &tasks,
        threads,
        (options.jobs, &options.slurm),
        &exe,
    )?;
    let slurm = dir.join(SLURM_DIR);
    eprintln!(
        "{}: submitted {} runs as Slurm job array {job} ({} already done); follow it with `xp sweep --status {}`; task outputs in {}",
        sweep.name,
        todo.len(),
        runs.len() - todo.len(),
        dir.display(),
        slurm.display()
    );
    Ok(())
}

/// `xp sweep-task TASKS INDEX`: what a Slurm task runs. Trains the run on line
/// `index` of `tasks` from where it stands (nothing when it is done; a resume when a
/// requeued or preempted task finds it interrupted), as this very process.
pub fn run_task(tasks: &Path, index: usize) -> Result<()> {
    let runs = task_lines(tasks)?;
    let Some((dir, pause_at)) = runs.get(index) else {
        bail!(
            "task {index}: {} lists {} runs",
            tasks.display(),
            runs.len()
        );
    };
    let state = run_state(dir);
    if state == RunState::Done {
        eprintln!("{} is done already", dir.display());
        return Ok(());
    }
    eprintln!(
        "task {index}: {} {}",
        if state == RunState::Interrupted {
            "resuming"
        } else {
            "starting"
        },
        dir.display()
    );
    let exe = std::env::current_exe().context("cannot find the xp program")?;
    let mut command = Command::new(exe);
    command.args(run_arguments(dir, state));
    if let Some(step) = pause_at {
        command.args(["--pause-at", &step.to_string()]);
    }
    exec(&mut command)
}

/// Replaces this process with `command`, so that Slurm's signals reach the run.
#[cfg(unix)]
fn exec(command: &mut Command) -> Result<()> {
    use std::os::unix::process::CommandExt;
    Err(command.exec()).context("cannot start the run")
}
