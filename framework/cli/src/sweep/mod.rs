//! `xp sweep`: every run of a sweep, on this machine (`local`: `--jobs` processes at
//! a time) or on a Slurm cluster (`slurm`: one job array); `xp sweep --status` says
//! where each run stands. Started again, a sweep skips its finished runs and resumes
//! the interrupted ones, whichever backend ran them.

mod local;
mod slurm;
mod status;

pub use slurm::run_task;
pub use status::status;
pub use xp_study::slurm::SlurmOptions;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use xp_study::sweep::hparams;
use xp_study::sweep::{run_state, RunState, Sweep, SweepRun};

/// Where the sweep's runs train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Processes on this machine, `--jobs` at a time.
    Local,
    /// One Slurm job array (`sbatch --array`), a task per run.
    Slurm,
}

/// How `xp sweep` was asked to run.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Overrides for every run.
    pub overrides: Vec<String>,
    /// Print the runs and the cost, run nothing.
    pub dry_run: bool,
    /// The sweep's folder (default `runs/NAME`).
    pub out: Option<PathBuf>,
    /// Runs at once (default: cores / `train.threads` locally, no limit on Slurm).
    pub jobs: Option<usize>,
    /// Only these points (all when empty).
    pub only: Vec<String>,
    /// Where the runs train.
    pub backend: Backend,
    /// The Slurm backend's options.
    pub slurm: SlurmOptions,
}

/// `xp sweep SWEEP.toml`.
pub fn sweep(path: &Path, options: &SweepOptions) -> Result<()> {
    let sweep = Sweep::load(path, &options.overrides)?;
    let dir = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(&sweep.name));
    let runs = selected(&sweep, &options.only)?;
    for run in &runs {
        xp_framework::train::check_device(&run.experiment.train.device)
            .with_context(|| format!("{}: run {}", path.display(), run.experiment.name))?;
    }
    if options.dry_run {
        return print_plan(&sweep, &runs, &dir, options);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    xp_framework::files::write_atomic(&dir.join(SWEEP_FILE), sweep.resolved.as_bytes())?;
    hparams::write_study(&sweep.name, &sweep.runs.iter().collect::<Vec<_>>(), &dir)?;
    match options.backend {
        Backend::Local => local::run(&sweep.name, &runs, &dir, local_jobs(&sweep, options)),
        Backend::Slurm => slurm::submit(&sweep, &runs, &dir, options),
    }
}

/// The resolved sweep, saved in the sweep's folder (what `--status` reads).
const SWEEP_FILE: &str = "sweep.toml";

/// The runs of the points named by `--only` (every run when none is named).
fn selected<'a>(sweep: &'a Sweep, only: &[String]) -> Result<Vec<&'a SweepRun>> {
    let points = sweep.points();
    if let Some(unknown) = only.iter().find(|p| !points.contains(&p.as_str())) {
        bail!(
            "--only {unknown}: the sweep has no such point; its points are:\n  {}",
            points.join("\n  ")
        );
    }
    Ok(sweep
        .runs
        .iter()
        .filter(|r| only.is_empty() || only.contains(&r.point))
        .collect())
}

/// `--jobs`, or the cores over the first run's training threads.
fn local_jobs(sweep: &Sweep, options: &SweepOptions) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = sweep.runs.first().map_or(1, |r| r.experiment.train.threads);
    let default = match threads {
        0 => 1,
        t => (cores / t).max(1),
    };
    options.jobs.unwrap_or(default).max(1)
}

/// `--dry-run`: every run, one line each, and the cost from a few timed steps of the
/// first run.
fn print_plan(sweep: &Sweep, runs: &[&SweepRun], dir: &Path, options: &SweepOptions) -> Result<()> {
    for run in runs {
        let state = match run_state(&run.dir(dir)) {
            RunState::Done => " (done)",
            RunState::Interrupted => " (resumes)",
            RunState::Pending => "",
        };
        println!(
            "{:<60} seed {:<6} {} steps{state}",
            run.point, run.seed, run.experiment.train.steps
        );
    }
    let to_run: Vec<&&SweepRun> = runs
        .iter()
        .filter(|r| run_state(&r.dir(dir)) != RunState::Done)
        .collect();
    let steps: usize = to_run.iter().map(|r| r.experiment.train.steps).sum();
    let mut points: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
    points.dedup();
    let Some(first) = runs.first() else {
        bail!("the sweep has no run");
    };
    let rate = steps_per_second(first)?;
    let (jobs, at_once) = match options.backend {
        Backend::Local => {
            let jobs = local_jobs(sweep, options);
            (jobs, format!("{jobs} at a time (--jobs)"))
        }
        Backend::Slurm => (
            options.jobs.unwrap_or(to_run.len()).max(1),
            "as one Slurm job array".to_owned(),
        ),
    };
    println!(
        "{} runs of {} point{}, {} to run: {steps} training steps; {at_once}; at {rate:.0} steps/s a run (timed here on the first), {} if the jobs do not slow each other, evaluations aside",
        runs.len(),
        points.len(),
        if points.len() == 1 { "" } else { "s" },
        to_run.len(),
        duration(steps as f64 / rate / jobs as f64)
    );
    Ok(())
}

/// Training steps per second of `run` on this machine, over 20 steps after 5.
fn steps_per_second(run: &SweepRun) -> Result<f64> {
    use xp_framework::train::{Batches, Session, Trainer};
    let experiment = crate::corpus::with_corpus(run.experiment.clone());
    crate::threads::set_threads(experiment.train.threads);
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

/// A duration for people: seconds, minutes or hours.
fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 120.0 => format!("about {s:.0} s"),
        s if s < 7200.0 => format!("about {:.0} min", s / 60.0),
        s => format!("about {:.1} h", s / 3600.0),
    }
}
