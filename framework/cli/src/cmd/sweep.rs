//! `xp sweep`: every run of a sweep, on this machine (`local`: `--jobs` processes at
//! a time) or on a Slurm cluster (`slurm`: one job array); `xp sweep --status` says
//! where each run stands. Started again, a sweep skips its finished runs and resumes
//! the interrupted ones, whichever backend ran them.

use crate::args::{Backend, BackendArgs, Overrides};
use crate::show::duration;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use xp_framework::run::{state, RunState};
use xp_study::sweep::{local, Submitted, Sweep, SweepRun};

/// `xp sweep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sweep (TOML), e.g. experiments/reference_study.toml.
    #[arg(required_unless_present = "status")]
    sweep: Option<PathBuf>,
    /// Where each run of the sweep in DIR stands (done, running, queued, failed,
    /// stopped, pending), from its folder and Slurm's queue; runs nothing.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["dry_run", "overrides", "device", "only"])]
    status: Option<PathBuf>,
    /// Fields of every run (`--set`), and the device they train on (`--device`;
    /// with `--jobs N`, N runs share one GPU).
    #[command(flatten)]
    set: Overrides,
    /// Print the runs and the estimated cost; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// The sweep's folder (default: runs/NAME).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs at once (default: cores / train.threads here; on Slurm, no limit of
    /// ours: the array's tasks run as the cluster allows).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only this point (repeat for more); its folder name, as --dry-run lists.
    #[arg(long, value_name = "POINT")]
    only: Vec<String>,
    /// Where the runs train: here, or as one Slurm job array (sbatch --array).
    #[command(flatten)]
    backend: BackendArgs,
}

/// Runs `xp sweep`.
pub fn run(args: Args) -> Result<()> {
    match (&args.status, &args.sweep) {
        (Some(dir), _) => status(dir),
        (None, Some(sweep)) => sweep_runs(sweep, &args),
        (None, None) => bail!("give a sweep file, or --status DIR"),
    }
}

/// `xp sweep SWEEP.toml`.
fn sweep_runs(path: &Path, options: &Args) -> Result<()> {
    let sweep = Sweep::load(path, &options.set.all())?;
    let dir = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(&sweep.name));
    let runs = local::select(&sweep, &options.only).map_err(anyhow::Error::msg)?;
    for run in &runs {
        xp_framework::train::check_device(&run.experiment.train.device)
            .with_context(|| format!("{}: run {}", path.display(), run.experiment.name))?;
    }
    if options.dry_run {
        return print_plan(&sweep, &runs, &dir, options);
    }
    local::prepare(&sweep, &dir).map_err(anyhow::Error::msg)?;
    match options.backend.backend {
        Backend::Local => {
            crate::pool_view::run(&sweep.name, &runs, &dir, local_jobs(&sweep, options))
        }
        Backend::Slurm => submit(&sweep, &runs, &dir, options),
    }
}

/// Submits the unfinished runs as one Slurm job array.
fn submit(sweep: &Sweep, runs: &[&SweepRun], dir: &Path, options: &Args) -> Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let exe = std::env::current_exe().context("cannot find the xp program for the Slurm tasks")?;
    let slurm = (options.jobs, &options.backend.slurm());
    match xp_study::sweep::submit(sweep, runs, &dir, slurm, &exe)? {
        Submitted::AllDone => eprintln!(
            "{}: all {} runs are done in {}",
            sweep.name,
            runs.len(),
            dir.display()
        ),
        Submitted::Array { job, runs, done } => eprintln!(
            "{}: submitted {runs} runs as Slurm job array {job} ({done} already done); follow it with `xp sweep --status {}`; task outputs in {}",
            sweep.name,
            dir.display(),
            dir.join(xp_study::slurm::SLURM_DIR).display()
        ),
    }
    Ok(())
}

/// `xp sweep --status DIR`.
fn status(dir: &Path) -> Result<()> {
    let (sweep, lines) = xp_study::sweep::status(dir)?;
    let width = lines.iter().map(|l| l.point.len()).max().unwrap_or(5);
    println!("{:<width$}  {:<6} {:<8} detail", "point", "seed", "state");
    let mut counts: BTreeMap<_, usize> = BTreeMap::new();
    for line in &lines {
        *counts.entry(line.status).or_default() += 1;
        println!(
            "{:<width$}  {:<6} {:<8} {}",
            line.point,
            line.seed,
            line.status.word(),
            line.detail
        );
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.word()))
        .collect();
    println!("{}: {} runs: {}", sweep.name, lines.len(), parts.join(", "));
    Ok(())
}

/// `--jobs`, or the cores over the first run's training threads.
fn local_jobs(sweep: &Sweep, options: &Args) -> usize {
    options.jobs.unwrap_or_else(|| local::default_jobs(sweep)).max(1)
}

/// `--dry-run`: every run, one line each, and the cost from a few timed steps of the
/// first run.
fn print_plan(sweep: &Sweep, runs: &[&SweepRun], dir: &Path, options: &Args) -> Result<()> {
    for run in runs {
        let state = match state(&run.dir(dir)) {
            RunState::Finished => " (done)",
            RunState::NotStarted => "",
            _ => " (resumes)",
        };
        println!(
            "{:<60} seed {:<6} {} steps{state}",
            run.point, run.seed, run.experiment.train.steps
        );
    }
    let to_run: Vec<&&SweepRun> = runs
        .iter()
        .filter(|r| state(&r.dir(dir)) != RunState::Finished)
        .collect();
    let steps: usize = to_run.iter().map(|r| r.experiment.train.steps).sum();
    let mut points: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
    points.dedup();
    let Some(first) = runs.first() else {
        bail!("the sweep has no run");
    };
    let experiment = crate::resolve::with_corpus(first.experiment.clone());
    crate::resolve::set_threads(experiment.train.threads);
    let rate = xp_study::sweep::steps_per_second(experiment)?;
    let (jobs, at_once) = match options.backend.backend {
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
