//! A sweep's runs on this machine, whoever shows them (the command line's bars, the
//! Python package's): the folder prepared, the unfinished runs queued as `xp run`
//! jobs for a [`Pool`](crate::runner::Pool), and how the pool's end reads.

use super::{hparams, log_file, run_arguments, write_experiment, Sweep, SweepRun, SWEEP_FILE};
use crate::runner::{Ended, Job};
use std::path::{Path, PathBuf};
use xp_framework::run::{state, RunState};

/// Creates the sweep's folder `dir` with its resolved sweep file and its study for
/// TensorBoard's HParams view.
pub fn prepare(sweep: &Sweep, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    xp_framework::files::write_atomic(&dir.join(SWEEP_FILE), sweep.resolved.as_bytes())
        .map_err(|e| e.to_string())?;
    hparams::write_study(&sweep.name, &sweep.runs.iter().collect::<Vec<_>>(), dir)
        .map_err(|e| e.to_string())
}

/// The runs of a sweep still to train, and what is done already.
pub struct Queue<'a> {
    /// Each unfinished run, its folder and where it stands.
    pub runs: Vec<(&'a SweepRun, PathBuf, RunState)>,
    /// Runs finished before this start.
    pub done: usize,
    /// Their training steps.
    pub done_steps: usize,
    /// Every run's training steps.
    pub total_steps: usize,
}

impl<'a> Queue<'a> {
    /// The unfinished ones of `runs` in the sweep folder `dir`.
    pub fn of(runs: &[&'a SweepRun], dir: &Path) -> Self {
        let mut queue = Queue {
            runs: Vec::new(),
            done: 0,
            done_steps: 0,
            total_steps: runs.iter().map(|r| r.experiment.train.steps).sum(),
        };
        for run in runs {
            let run_dir = run.dir(dir);
            match state(&run_dir) {
                RunState::Finished => {
                    queue.done += 1;
                    queue.done_steps += run.experiment.train.steps;
                }
                state => queue.runs.push((*run, run_dir, state)),
            }
        }
        queue
    }

    /// The queued runs as jobs of `xp run`; a run not started gets its experiment
    /// file as its job is taken.
    pub fn jobs(self) -> impl Iterator<Item = std::io::Result<Job>> + 'a {
        self.runs.into_iter().map(|(run, dir, state)| {
            if state == RunState::NotStarted {
                write_experiment(run, &dir)?;
            }
            Ok(Job {
                label: format!("{} seed {}", run.point, run.seed),
                args: run_arguments(&dir),
                log: log_file(&dir),
                dir,
                steps: run.experiment.train.steps,
            })
        })
    }
}

/// How a local sweep of `total` runs ended, `done` of them finished (`now` in this
/// start): an error that says what to do when the pool was stopped or runs failed.
pub fn ended(ended: &Ended, total: usize, done: usize, now: usize) -> Result<(), String> {
    if ended.stopped {
        return Err(format!(
            "sweep stopped with {done} of {total} runs done ({now} this time); start it again to go on"
        ));
    }
    if !ended.failed.is_empty() {
        let logs: Vec<String> = ended
            .failed
            .iter()
            .map(|j| j.log.display().to_string())
            .collect();
        return Err(format!(
            "{} runs failed (their logs: {}); start the sweep again to retry them",
            logs.len(),
            logs.join(", ")
        ));
    }
    Ok(())
}

/// The runs of the points named in `only` (every run when it names none); an unknown
/// point is refused with the list of the sweep's points.
pub fn select<'a>(sweep: &'a Sweep, only: &[String]) -> Result<Vec<&'a SweepRun>, String> {
    let points = sweep.points();
    if let Some(unknown) = only.iter().find(|p| !points.contains(&p.as_str())) {
        return Err(format!(
            "--only {unknown}: the sweep has no such point; its points are:\n  {}",
            points.join("\n  ")
        ));
    }
    Ok(sweep
        .runs
        .iter()
        .filter(|r| only.is_empty() || only.contains(&r.point))
        .collect())
}

/// Runs at once by default: the cores over the first run's training threads (one
/// when a run takes every core, `train.threads = 0`).
pub fn default_jobs(sweep: &Sweep) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match sweep.runs.first().map_or(1, |r| r.experiment.train.threads) {
        0 => 1,
        threads => (cores / threads).max(1),
    }
}
