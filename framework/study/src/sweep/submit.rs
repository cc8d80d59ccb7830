//! A sweep sent to Slurm as one job array, and what one of its tasks trains.

use super::{run_arguments, write_experiment, Sweep, SweepRun};
use crate::slurm::{queued_runs, submissions, submit_array, task_lines, SlurmError, SlurmOptions};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use xp_framework::run::{state, RunState};

/// What a submission did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Every run was done: nothing submitted.
    AllDone,
    /// The job array `job`, with a task per run that was not done.
    Array {
        /// Its id.
        job: String,
        /// Runs submitted.
        runs: usize,
        /// Runs done already.
        done: usize,
    },
}

/// Submits the unfinished ones of `runs` of `sweep` in its folder `dir` as one job
/// array of `exe` (`xp`); refuses while runs of the sweep are still queued.
pub fn submit(
    sweep: &Sweep,
    runs: &[&SweepRun],
    dir: &Path,
    (jobs, options): (Option<usize>, &SlurmOptions),
    exe: &Path,
) -> Result<Submitted, SlurmError> {
    let queued = queued_runs(&submissions(dir)?)?;
    if !queued.is_empty() {
        let mut jobs: Vec<&str> = queued.values().map(|t| t.job.as_str()).collect();
        jobs.sort_unstable();
        jobs.dedup();
        return Err(SlurmError(format!(
            "{} runs of this sweep are still in Slurm's queue (jobs {}): wait for them (`xp sweep --status {}`), or cancel them with scancel, before submitting again",
            queued.len(),
            jobs.join(", "),
            dir.display()
        )));
    }
    let mut todo = Vec::new();
    for run in runs {
        let run_dir = run.dir(dir);
        match state(&run_dir) {
            RunState::Finished => {}
            RunState::NotStarted => {
                write_experiment(run, &run_dir)
                    .map_err(|e| SlurmError(format!("cannot write {}: {e}", run_dir.display())))?;
                todo.push(run_dir);
            }
            _ => todo.push(run_dir),
        }
    }
    if todo.is_empty() {
        return Ok(Submitted::AllDone);
    }
    let threads = runs.first().map_or(1, |r| r.experiment.train.threads);
    let tasks: Vec<(PathBuf, Option<usize>)> = todo.iter().map(|d| (d.clone(), None)).collect();
    let job = submit_array(dir, &sweep.name, &tasks, threads, (jobs, options), exe)?;
    Ok(Submitted::Array {
        job,
        runs: todo.len(),
        done: runs.len() - todo.len(),
    })
}

/// What task `index` of the task list `tasks` trains: its run folder and the `xp`
/// arguments that train it from where it stands (none when it is finished; a resume
/// when a requeued or preempted task finds it started).
pub fn task(tasks: &Path, index: usize) -> Result<(PathBuf, Option<Vec<OsString>>), SlurmError> {
    let runs = task_lines(tasks)?;
    let Some((dir, pause_at)) = runs.get(index) else {
        return Err(SlurmError(format!(
            "task {index}: {} lists {} runs",
            tasks.display(),
            runs.len()
        )));
    };
    if state(dir) == RunState::Finished {
        return Ok((dir.clone(), None));
    }
    let mut args = run_arguments(dir);
    if let Some(step) = pause_at {
        args.extend(["--pause-at".into(), step.to_string().into()]);
    }
    Ok((dir.clone(), Some(args)))
}

/// Training steps per second of `experiment` (its data stated) on this machine, over
/// 20 steps after 5: what a sweep's plan estimates its cost from.
pub fn steps_per_second(experiment: xp_framework::config::Experiment) -> xp_framework::Result<f64> {
    use std::time::{Duration, Instant};
    use xp_framework::train::{Batches, Session, Trainer};
    let session = Session::open(experiment)?;
    let (exp, model) = (&session.experiment, &session.model);
    let mut trainer = Trainer::new(model, &exp.train, exp.seed)?;
    let mut batches = Batches::training(&session);
    let mut timed = Duration::ZERO;
    for step in 0..25 {
        let start = Instant::now();
        trainer.step(model, &batches.next(model), step)?;
        if step >= 5 {
            timed += start.elapsed();
        }
    }
    Ok(20.0 / timed.as_secs_f64().max(1e-9))
}
