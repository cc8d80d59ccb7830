//! `xp tune`: the search of a tune file, here or on Slurm, shown as it goes; then the
//! final comparison of the best trials; `xp tune --status DIR` says where it stands.

use crate::args::{Backend, BackendArgs, Overrides};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use xp_study::tune::{self, Kept, LocalBackend, Progress, Search, Tune, TuneFolder};

/// `xp tune`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The tune (TOML), e.g. experiments/tune_cls.toml.
    #[arg(required_unless_present = "status")]
    tune: Option<PathBuf>,
    /// Where the search in DIR stands: each trial's rung, state and score, the best.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["overrides", "device", "budget", "dry_run"])]
    status: Option<PathBuf>,
    /// Fields of every trial (`--set`), and the device they train on (`--device`;
    /// with `--jobs N`, N trials share one GPU).
    #[command(flatten)]
    set: Overrides,
    /// The tune's folder (default: runs/NAME).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Trials trained at once (a wave); default: cores / train.threads.
    #[arg(long)]
    jobs: Option<usize>,
    /// Training steps in all (default: the file's `budget`).
    #[arg(long)]
    budget: Option<usize>,
    /// Print the plan (rungs, budget, about how many trials) and the first
    /// trial's experiment; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where the trials train: here, or a Slurm job array per wave.
    #[command(flatten)]
    backend: BackendArgs,
}

/// Runs `xp tune`.
pub fn run(args: Args) -> Result<()> {
    match (&args.status, &args.tune) {
        (Some(dir), _) => status(dir),
        (None, Some(path)) => tune(path, &args),
        (None, None) => anyhow::bail!("give a tune file, or --status DIR"),
    }
}

/// `xp tune TUNE.toml`.
fn tune(path: &Path, options: &Args) -> Result<()> {
    let overrides = options.set.all();
    let mut tune = Tune::load(path, &overrides)?;
    if let Some(budget) = options.budget {
        tune.schedule.budget = budget;
    }
    let base = tune.trial_experiment(0, &tune::Sample::new())?;
    xp_framework::train::check_device(&base.train.device)
        .with_context(|| format!("{}: its trials", path.display()))?;
    let dir = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(&tune.name));
    if options.dry_run {
        return print_plan(&tune, &dir);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let folder = TuneFolder::at(&dir);
    if folder.keep_source(path, &overrides, &tune)? == Kept::Budget {
        eprintln!("{}: the budget is now {} steps", tune.name, tune.schedule.budget);
    }
    let jobs = options.jobs.unwrap_or_else(|| tune::default_jobs(&base));
    let stop = crate::watch::stop_flag()?;
    let exe = std::env::current_exe().context("cannot find the xp program to run the trials")?;
    let mut local = LocalBackend {
        exe,
        stop: Some(&stop),
    };
    let mut slurm = tune::SlurmBackend {
        dir: dir.clone(),
        name: tune.name.clone(),
        threads: tune
            .trial_experiment(0, &tune::Sample::new())
            .map_or(1, |e| e.train.threads.max(1)),
        jobs,
        options: options.backend.slurm(),
        exe: local.exe.clone(),
    };
    let backend: &mut dyn tune::Backend = match options.backend.backend {
        Backend::Local => &mut local,
        Backend::Slurm => &mut slurm,
    };
    let mut view = View::new(tune.schedule.budget);
    eprintln!(
        "{}: budget {} steps, rungs {:?} (eta {}), {} trials a wave, in {}",
        tune.name,
        tune.schedule.budget,
        tune.schedule.rungs,
        tune.schedule.eta,
        jobs,
        dir.display()
    );
    let search = tune::search(&tune, &dir, backend, jobs, &mut |p| view.show(p))?;
    view.finish();
    print_ranking(&tune, &search, 10);
    for warning in folder.draw_figures(&tune, &search)?.1 {
        eprintln!("warning: {warning}");
    }
    let runs = tune::final_comparison(&tune, &dir, &search, backend, jobs, &mut |p| view.show(p))?;
    view.finish();
    let top = runs
        .first()
        .map_or("trial-001".to_owned(), |r| r.point.clone());
    eprintln!(
        "{}: done; the best trials retrained with fresh seeds are in {}; compare them:\n  xp compare {} --against {top}",
        tune.name,
        dir.join("final").display(),
        dir.join("final").display()
    );
    Ok(())
}

/// `--dry-run`: the rungs, the budget, about how many trials it pays for, and the
/// experiment of a first trial.
fn print_plan(tune: &Tune, dir: &Path) -> Result<()> {
    let s = &tune.schedule;
    let (trials, to_last) = tune::expected_trials(tune);
    println!(
        "{}: rungs {:?} (eta {}), budget {} steps: about {:.0} trials, about {:.0} of them to {} steps; {} fields searched; then the best {} with seeds {:?}{}; in {}",
        tune.name,
        s.rungs,
        s.eta,
        s.budget,
        trials,
        to_last,
        s.rungs.last().copied().unwrap_or(0),
        tune.space.len(),
        tune.top,
        tune.final_seeds,
        match tune.against.is_empty() {
            true => String::new(),
            false => format!(
                " beside {}",
                tune.against.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            ),
        },
        dir.display()
    );
    let sample = tune.sample(1, &Search::default());
    println!(
        "trial 1 would train:\n{}",
        tune.trial_experiment(1, &sample)?.to_toml()
    );
    Ok(())
}

/// The ten best trials so far.
fn print_ranking(tune: &Tune, search: &Search, n: usize) {
    println!("{:>6} {:>5} {:>28}  fields", "trial", "rung", "score");
    for trial in search.ranking().into_iter().take(n) {
        let fields: Vec<String> = trial
            .sample
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!(
            "{:>6} {:>5} {:>28}  {}",
            trial.id,
            trial.scores.len() - 1,
            trial
                .score()
                .map_or_else(String::new, |s| tune::shown(s, tune)),
            fields.join(" ")
        );
    }
}

/// A bar for the search on a terminal (trials, steps spent, best so far), lines
/// otherwise.
struct View {
    bar: Option<ProgressBar>,
}

impl View {
    fn new(budget: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(budget as u64);
            bar.set_style(
                ProgressStyle::with_template("tune {bar:30.green/blue} {pos}/{len} steps  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self { bar }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn show(&mut self, progress: Progress) {
        match progress {
            Progress::Wave { tasks } => self.line(&format!("training {}", tasks.join(", "))),
            Progress::Result {
                line,
                spent,
                budget,
                trials,
                best,
            } => {
                let best = best.unwrap_or_else(|| "none yet".into());
                self.line(&line);
                match &self.bar {
                    Some(bar) => {
                        bar.set_position(spent as u64);
                        bar.set_message(format!("{trials} trials; best {best}"));
                    }
                    None => {
                        eprintln!("  {spent}/{budget} steps spent, {trials} trials; best {best}")
                    }
                }
            }
            Progress::Final { runs } => {
                self.line(&format!("final comparison: {runs} runs to train"))
            }
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// `xp tune --status DIR`: every trial's rung, state and score, and the best.
fn status(dir: &Path) -> Result<()> {
    let folder = TuneFolder::at(dir);
    let tune = folder.tune()?;
    let search = folder.search(&tune)?;
    println!("{:>6}  {:<32} {:>28}", "trial", "state", "score");
    for trial in &search.trials {
        let state = trial.state(tune.schedule.rungs.len());
        let score = trial
            .score()
            .map_or_else(String::new, |s| tune::shown(s, &tune));
        println!("{:>6}  {state:<32} {score:>28}", trial.id);
    }
    println!(
        "{} trials; {} of {} steps spent",
        search.trials.len(),
        search.spent,
        tune.schedule.budget
    );
    if let Some(best) = search.ranking().first() {
        println!(
            "best so far: trial {} at rung {}: {}",
            best.id,
            best.scores.len() - 1,
            best.score()
                .map_or_else(String::new, |s| tune::shown(s, &tune))
        );
    }
    Ok(())
}
