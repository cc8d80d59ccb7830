//! Where each run of a sweep stands, from the run folders ([`xp_framework::run::state`])
//! and, for a sweep sent to Slurm, its queue.

use super::Sweep;
use crate::slurm::{queued_runs, submissions, SlurmError};

/// Why a sweep's status cannot be told.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The folder holds no sweep, or its sweep does not read.
    #[error("{0}")]
    Folder(String),
    /// Slurm's queue could not be read.
    #[error(transparent)]
    Slurm(#[from] SlurmError),
}
use std::path::Path;
use xp_framework::run::{state, RunState};

/// The resolved sweep, saved in the sweep's folder.
pub const SWEEP_FILE: &str = "sweep.toml";

/// Where one run of a sweep stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Finished: its summary is written.
    Done,
    /// Training now.
    Running,
    /// Waiting in Slurm's queue.
    Queued,
    /// Ended with an error.
    Failed,
    /// Stopped before its end (interrupted, paused, killed): it resumes when the
    /// sweep is started again.
    Stopped,
    /// Not started.
    Pending,
}

impl Status {
    /// The word a table shows.
    pub fn word(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Running => "running",
            Status::Queued => "queued",
            Status::Failed => "failed",
            Status::Stopped => "stopped",
            Status::Pending => "pending",
        }
    }
}

/// One run's line of a sweep's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStatus {
    /// Its point.
    pub point: String,
    /// Its seed.
    pub seed: u64,
    /// Where it stands.
    pub status: Status,
    /// More on it: the Slurm task, the step reached, the error.
    pub detail: String,
}

/// The sweep saved in the sweep folder `dir`, and where each of its runs stands.
pub fn status(dir: &Path) -> Result<(Sweep, Vec<RunStatus>), StatusError> {
    let sweep_file = dir.join(SWEEP_FILE);
    let not_a_sweep = StatusError::Folder;
    if !sweep_file.exists() {
        return Err(not_a_sweep(format!(
            "{} is not a sweep folder: it has no {SWEEP_FILE} (give the folder `xp sweep` wrote, e.g. runs/NAME)",
            dir.display()
        )));
    }
    let sweep = Sweep::load(&sweep_file, &[]).map_err(|e| {
        not_a_sweep(format!(
            "cannot read the sweep saved in {}: {e}",
            dir.display()
        ))
    })?;
    let dir = dir
        .canonicalize()
        .map_err(|e| not_a_sweep(format!("cannot resolve {}: {e}", dir.display())))?;
    let queued = queued_runs(&submissions(&dir)?)?;
    let lines = sweep
        .runs
        .iter()
        .map(|run| {
            let run_dir = run.dir(&dir);
            let steps = run.experiment.train.steps;
            let (status, detail) = match (state(&run_dir), queued.get(&run_dir)) {
                (RunState::Finished, _) => (Status::Done, String::new()),
                (_, Some(task)) if task.state == "PENDING" => (
                    Status::Queued,
                    format!("task {} ({})", task.id, task.reason),
                ),
                (RunState::Running { step, .. }, Some(task)) => (
                    Status::Running,
                    at(&format!("task {}", task.id), step, steps),
                ),
                (_, Some(task)) => (Status::Running, format!("task {}", task.id)),
                (RunState::Running { pid, step }, None) => {
                    let pid = pid.map_or("unknown".to_owned(), |p| p.to_string());
                    (Status::Running, at(&format!("process {pid}"), step, steps))
                }
                (RunState::Failed { message }, None) => (Status::Failed, message),
                (RunState::NotStarted, None) => (Status::Pending, String::new()),
                (RunState::Paused(stop), None) => (
                    Status::Stopped,
                    at(
                        "resumes when the sweep starts again",
                        Some(stop.step),
                        steps,
                    ),
                ),
                (RunState::Interrupted { step, .. }, None) => (
                    Status::Stopped,
                    at("resumes when the sweep starts again", step, steps),
                ),
            };
            RunStatus {
                point: run.point.clone(),
                seed: run.seed,
                status,
                detail,
            }
        })
        .collect();
    Ok((sweep, lines))
}

/// `what, step S/STEPS`, or `what` alone when no step is known.
fn at(what: &str, step: Option<usize>, steps: usize) -> String {
    match step {
        Some(step) => format!("{what}; step {step}/{steps}"),
        None => what.to_owned(),
    }
}
