//! `xp tune`: the search of a tune file, here or on Slurm, shown as it goes; then the
//! final comparison of the best trials; `xp tune --status DIR` says where it stands.

mod figures;

use crate::sweep::{Backend, SlurmOptions};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use xp_study::tune::{self, LocalBackend, Progress, Search, Tune};

/// How `xp tune` was asked to run.
#[derive(Debug, Clone)]
pub struct TuneOptions {
    /// Overrides for every trial.
    pub overrides: Vec<String>,
    /// The tune's folder (default `runs/NAME`).
    pub out: Option<PathBuf>,
    /// Trials at once.
    pub jobs: Option<usize>,
    /// Training steps in all, instead of the file's.
    pub budget: Option<usize>,
    /// Print the plan, run nothing.
    pub dry_run: bool,
    /// Where the trials train.
    pub backend: Backend,
    /// The Slurm backend's options.
    pub slurm: SlurmOptions,
}

/// The copy of the tune file a search keeps, and the command line's overrides: a
/// search started again must be the same search.
const SOURCE_FILE: &str = "tune.toml";

/// `xp tune TUNE.toml`.
pub fn tune(path: &Path, options: &TuneOptions) -> Result<()> {
    let mut tune = Tune::load(path, &options.overrides)?;
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
    keep_source(path, options, &tune, &dir)?;
    let jobs = options.jobs.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = base.train.threads.max(1);
        (cores / threads).max(1)
    });
    let stop = crate::signals::stop_flag()?;
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
        options: options.slurm.clone(),
        exe: local.exe.clone(),
    };
    let backend: &mut dyn tune::Backend = match options.backend {
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
    for warning in draw_figures(&tune, &dir, &search)? {
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

/// Whether `dir` is a tune's folder (it holds the kept tune file and the journal).
pub fn is_tune(dir: &Path) -> bool {
    dir.join(SOURCE_FILE).is_file() && dir.join(tune::Journal::FILE).is_file()
}

/// `xp figures DIR` for a tune's folder: its figures drawn again; returns them.
pub fn redraw(dir: &Path) -> Result<Vec<PathBuf>> {
    let tune = kept_tune(dir)?;
    let events = tune::Journal::read(dir)?;
    let search = Search::replay(&events, &tune.schedule);
    let warnings = draw_figures(&tune, dir, &search)?;
    if let Some(first) = warnings.first() {
        bail!("{first}");
    }
    Ok(["best_vs_compute.png", "score_by_field.png"]
        .iter()
        .map(|f| dir.join(f))
        .collect())
}

/// Draws the search's figures into `dir`; returns what could not be drawn.
fn draw_figures(tune: &Tune, dir: &Path, search: &Search) -> Result<Vec<String>> {
    let events = tune::Journal::read(dir)?;
    let mut warnings = Vec::new();
    let path = dir.join("best_vs_compute.png");
    if let Err(e) = figures::best_vs_compute(&path, tune, &events) {
        warnings.push(format!("{} not drawn: {e}", path.display()));
    }
    let path = dir.join("score_by_field.png");
    if let Err(e) = figures::score_by_field(&path, tune, search) {
        warnings.push(format!("{} not drawn: {e}", path.display()));
    }
    Ok(warnings)
}

/// `--dry-run`: the rungs, the budget, about how many trials it pays for, and the
/// experiment of a first trial.
fn print_plan(tune: &Tune, dir: &Path) -> Result<()> {
    let s = &tune.schedule;
    // A trial at rung r costs its steps there; about 1/eta^r of the trials get there.
    let per_trial: f64 = (0..s.rungs.len())
        .map(|r| s.cost(r) as f64 / (s.eta as f64).powi(r as i32))
        .sum();
    println!(
        "{}: rungs {:?} (eta {}), budget {} steps: about {:.0} trials, about {:.0} of them to {} steps; {} fields searched; then the best {} with seeds {:?}{}; in {}",
        tune.name,
        s.rungs,
        s.eta,
        s.budget,
        s.budget as f64 / per_trial,
        s.budget as f64 / per_trial / (s.eta as f64).powi(s.rungs.len() as i32 - 1),
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

/// The first line of a kept tune file: `# PATH (overrides: [...], budget: N)`.
struct KeptHeader<'a> {
    path: &'a str,
    /// The overrides as written (a JSON list of strings).
    overrides: &'a str,
    budget: Option<usize>,
}

impl<'a> KeptHeader<'a> {
    fn write(path: &Path, overrides: &[String], budget: usize) -> String {
        format!(
            "# {} (overrides: {overrides:?}, budget: {budget})",
            path.display()
        )
    }

    /// The header of the kept file `text` (empty parts where it is not one).
    fn parse(text: &'a str) -> Self {
        let first = text.lines().next().unwrap_or_default();
        let (path, settings) = first
            .trim_start_matches("# ")
            .split_once(" (overrides: ")
            .unwrap_or_default();
        let (overrides, budget) = settings.split_once(", budget: ").unwrap_or((settings, ""));
        Self {
            path,
            overrides,
            budget: budget.trim_end_matches(')').parse().ok(),
        }
    }
}

/// Writes the tune file and overrides into `dir` at the first start; refuses to go
/// on with another file or other overrides.
fn keep_source(path: &Path, options: &TuneOptions, tune: &Tune, dir: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = KeptHeader::write(path, &options.overrides, tune.schedule.budget);
    let kept = format!("{header}\n{text}");
    let file = dir.join(SOURCE_FILE);
    match std::fs::read_to_string(&file) {
        Ok(before)
            if before.lines().skip(1).eq(kept.lines().skip(1))
                && KeptHeader::parse(&before).overrides == KeptHeader::parse(&kept).overrides =>
        {
            if before != kept {
                // Only the budget differs: the search goes on, longer or shorter.
                eprintln!("{}: the budget is now {} steps", tune.name, tune.schedule.budget);
                xp_framework::files::write_atomic(&file, kept.as_bytes())?;
            }
            Ok(())
        }
        Ok(_) => bail!(
            "{} holds a search of another tune file or other overrides (see {}): continue it with what it started with, or give another --out",
            dir.display(),
            file.display()
        ),
        Err(_) => Ok(xp_framework::files::write_atomic(&file, kept.as_bytes())?),
    }
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

/// The tune a folder's search started with (its kept file and overrides), with the
/// budget it runs to.
fn kept_tune(dir: &Path) -> Result<Tune> {
    let source = dir.join(SOURCE_FILE);
    let text = std::fs::read_to_string(&source).with_context(|| {
        format!(
            "{} is not a tune's folder (no {SOURCE_FILE}): give the folder `xp tune` made",
            dir.display()
        )
    })?;
    let header = KeptHeader::parse(&text);
    let overrides: Vec<String> = serde_json::from_str(header.overrides).unwrap_or_default();
    let path = header.path;
    let mut tune = Tune::load(Path::new(path), &overrides)
        .with_context(|| format!("cannot read the tune file the search started with ({path})"))?;
    if let Some(budget) = header.budget {
        tune.schedule.budget = budget;
    }
    Ok(tune)
}

/// `xp tune --status DIR`: every trial's rung, state and score, and the best.
pub fn status(dir: &Path) -> Result<()> {
    let tune = kept_tune(dir)?;
    let events = tune::Journal::read(dir)?;
    let search = Search::replay(&events, &tune.schedule);
    println!("{:>6}  {:<32} {:>28}", "trial", "state", "score");
    for trial in &search.trials {
        let state = match (&trial.failed, trial.running, trial.rung()) {
            (Some(reason), _, _) => {
                format!("failed: {}", reason.chars().take(60).collect::<String>())
            }
            (None, Some(rung), _) => format!("training to rung {rung}"),
            (None, None, Some(rung)) if trial.stopped_early => {
                format!("stopped early at rung {rung}")
            }
            (None, None, Some(rung)) if rung + 1 == tune.schedule.rungs.len() => {
                "done (last rung)".into()
            }
            (None, None, Some(rung)) => format!("paused at rung {rung}"),
            (None, None, None) => "sampled".into(),
        };
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
