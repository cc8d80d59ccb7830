//! `xp sweep --status runs/SWEEP`: where each run of a sweep stands, from the run
//! folders, the runs' logs and, for a sweep sent to Slurm, `squeue`.

use super::SWEEP_FILE;
use crate::progress::PlainReporter;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use xp_study::slurm::{queued_runs, submissions, task_output, QueuedTask as Task, Submission};
use xp_study::sweep::Sweep;
use xp_study::sweep::{log_file, run_state, RunState};

/// What `--status` says of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Finished: its summary is written.
    Done,
    /// Training now.
    Running,
    /// Waiting in Slurm's queue.
    Queued,
    /// Ended with an error (its log's last line).
    Failed,
    /// Stopped before its end (interrupted, cancelled): it resumes when the sweep is
    /// started again.
    Stopped,
    /// Not started.
    Pending,
}

impl Status {
    fn word(self) -> &'static str {
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

/// `xp sweep --status DIR`.
pub fn status(dir: &Path) -> Result<()> {
    let sweep_file = dir.join(SWEEP_FILE);
    if !sweep_file.exists() {
        anyhow::bail!(
            "{} is not a sweep folder: it has no {SWEEP_FILE} (give the folder `xp sweep` wrote, e.g. runs/NAME)",
            dir.display()
        );
    }
    let sweep = Sweep::load(&sweep_file, &[])
        .with_context(|| format!("cannot read the sweep saved in {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let submissions = submissions(&dir)?;
    let queued = queued_runs(&submissions)?;
    let logs = task_logs(&dir, &submissions);
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    let width = sweep.runs.iter().map(|r| r.point.len()).max().unwrap_or(5);
    println!("{:<width$}  {:<6} {:<8} detail", "point", "seed", "state");
    for run in &sweep.runs {
        let run_dir = run.dir(&dir);
        let log = logs
            .get(&run_dir)
            .cloned()
            .unwrap_or_else(|| log_file(&run_dir));
        let (status, detail) = run_status(
            &run_dir,
            queued.get(&run_dir),
            &log,
            run.experiment.train.steps,
        );
        *counts.entry(status).or_default() += 1;
        println!(
            "{:<width$}  {:<6} {:<8} {detail}",
            run.point,
            run.seed,
            status.word()
        );
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.word()))
        .collect();
    println!(
        "{}: {} runs: {}",
        sweep.name,
        sweep.runs.len(),
        parts.join(", ")
    );
    Ok(())
}

/// The log of each run that went to Slurm: its latest task's output.
fn task_logs(dir: &Path, submissions: &[Submission]) -> BTreeMap<PathBuf, PathBuf> {
    let mut logs = BTreeMap::new();
    for submission in submissions {
        for (index, run) in submission.runs.iter().enumerate() {
            logs.insert(run.clone(), task_output(dir, &submission.job, index));
        }
    }
    logs
}

/// The status of the run in `dir` and a line on it.
fn run_status(dir: &Path, task: Option<&Task>, log: &Path, steps: usize) -> (Status, String) {
    let lines = std::fs::read_to_string(log).unwrap_or_default();
    let at = |what: &str| match last_step(&lines) {
        Some(step) => format!("{what}step {step}/{steps}"),
        None => what.trim_end_matches(", ").to_owned(),
    };
    match (run_state(dir), task) {
        (RunState::Done, _) => (Status::Done, String::new()),
        (_, Some(task)) if task.state == "PENDING" => (
            Status::Queued,
            format!("task {} ({})", task.id, task.reason),
        ),
        (_, Some(task)) => (Status::Running, at(&format!("task {}, ", task.id))),
        (state, None) => {
            if let Some(pid) = writer(dir) {
                return (Status::Running, at(&format!("process {pid}, ")));
            }
            if let Some(error) = last_error(&lines) {
                return (Status::Failed, format!("{error} (log: {})", log.display()));
            }
            match (state, lines.is_empty()) {
                (RunState::Pending, true) => (Status::Pending, String::new()),
                _ => (Status::Stopped, at("resumes when the sweep starts again; ")),
            }
        }
    }
}

/// The last step a run's log reports (a progress line or an evaluation).
fn last_step(log: &str) -> Option<usize> {
    log.lines().rev().find_map(|line| {
        PlainReporter::progress_step(line).or_else(|| PlainReporter::eval_step(line))
    })
}

/// The error a run ended with: its log's last line, when that is an error other than
/// a stop on a signal (`XpError::Stopped`, which leaves a resume point).
fn last_error(log: &str) -> Option<&str> {
    log.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("error") && !l.starts_with("error: stopped at step"))
}

/// The process writing the run in `dir`, when one on this machine is alive.
fn writer(dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(dir.join(xp_framework::train::RunDir::LOCK))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // The lock file keeps the id of the last writer; it is ours only while a process
    // with that id runs xp.
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    name.trim().starts_with("xp").then_some(pid)
}
