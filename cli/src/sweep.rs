//! `xp sweep SWEEP.toml`: every run of a sweep as its own `xp run` process, `--jobs`
//! at a time. Started again, a sweep skips its finished runs and resumes the
//! interrupted ones.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use xp_framework::sweep::{Sweep, SweepRun};
use xp_framework::train::RunDir;

/// How `xp sweep` was asked to run.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Overrides for every run.
    pub overrides: Vec<String>,
    /// Print the runs and the cost, run nothing.
    pub dry_run: bool,
    /// The sweep's folder (default `runs/NAME`).
    pub out: Option<PathBuf>,
    /// Runs at once (default: cores / `train.threads`).
    pub jobs: Option<usize>,
}

/// Where one run of the sweep stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Not started.
    Pending,
    /// Started and stopped before its end: it resumes.
    Interrupted,
    /// Its summary is written.
    Done,
}

/// The state of `run` from its folder.
pub fn run_state(run: &Path) -> RunState {
    if run.join(crate::report::SUMMARY).exists() {
        RunState::Done
    } else if run.join(RunDir::EXPERIMENT).exists() {
        RunState::Interrupted
    } else {
        RunState::Pending
    }
}

/// `xp sweep`.
pub fn sweep(path: &Path, options: &SweepOptions) -> Result<()> {
    let sweep = Sweep::load(path, &options.overrides)?;
    let dir = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(&sweep.name));
    let jobs = options.jobs.unwrap_or_else(|| default_jobs(&sweep)).max(1);
    if options.dry_run {
        return print_plan(&sweep, &dir, jobs);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    xp_framework::files::write_atomic(&dir.join("sweep.toml"), sweep.resolved.as_bytes())?;
    let mut queue = Vec::new();
    for run in &sweep.runs {
        let run_dir = run.dir(&dir);
        match run_state(&run_dir) {
            RunState::Done => {}
            state => queue.push((run, run_dir, state)),
        }
    }
    let done = sweep.runs.len() - queue.len();
    eprintln!(
        "{}: {} runs ({} points), {done} already done, {} to run, {jobs} at a time, in {}",
        sweep.name,
        sweep.runs.len(),
        sweep.points().len(),
        queue.len(),
        dir.display()
    );
    let failed = Pool::new(jobs, queue.len(), done).run(queue)?;
    if !failed.is_empty() {
        bail!(
            "{} runs failed (their logs: {}); start the sweep again to retry them",
            failed.len(),
            failed.join(", ")
        );
    }
    eprintln!(
        "{}: all {} runs done in {}",
        sweep.name,
        sweep.runs.len(),
        dir.display()
    );
    Ok(())
}

/// Cores over the first run's training threads.
fn default_jobs(sweep: &Sweep) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = sweep.runs.first().map_or(1, |r| r.experiment.train.threads);
    match threads {
        0 => 1,
        t => (cores / t).max(1),
    }
}

/// `--dry-run`: every run, one line each, and the cost from a few timed steps of the
/// first run.
fn print_plan(sweep: &Sweep, dir: &Path, jobs: usize) -> Result<()> {
    for run in &sweep.runs {
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
    let steps: usize = sweep.runs.iter().map(|r| r.experiment.train.steps).sum();
    let rate = match sweep.runs.first() {
        Some(run) => steps_per_second(run)?,
        None => bail!("the sweep has no run"),
    };
    println!(
        "{} runs of {} points, {steps} training steps in all; {jobs} at a time (--jobs); at {rate:.0} steps/s a run (timed here on the first), {} if the jobs do not slow each other, evaluations aside",
        sweep.runs.len(),
        sweep.points().len(),
        duration(steps as f64 / rate / jobs as f64)
    );
    Ok(())
}

/// Training steps per second of `run` on this machine, over 20 steps after 5.
fn steps_per_second(run: &SweepRun) -> Result<f64> {
    use xp_framework::train::{Batches, Session, Trainer};
    let experiment = crate::fetch::with_corpus(run.experiment.clone())?;
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

fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 120.0 => format!("about {s:.0} s"),
        s if s < 7200.0 => format!("about {:.0} min", s / 60.0),
        s => format!("about {:.1} h", s / 3600.0),
    }
}

/// A running run and what its log has said.
struct Running {
    child: Child,
    label: String,
    log: PathBuf,
}

/// Runs `jobs` runs at once, printing a line at every evaluation of each and when
/// one ends, with the sweep's progress and an estimate of the time left.
struct Pool {
    jobs: usize,
    total: usize,
    done: usize,
    started: Instant,
}

impl Pool {
    fn new(jobs: usize, to_run: usize, done: usize) -> Self {
        Self {
            jobs,
            total: to_run + done,
            done,
            started: Instant::now(),
        }
    }

    /// Runs `queue`; returns the logs of the runs that failed.
    fn run(mut self, queue: Vec<(&SweepRun, PathBuf, RunState)>) -> Result<Vec<String>> {
        let stop = crate::signals::stop_flag()?;
        let mut queue = queue.into_iter();
        let mut running: Vec<Running> = Vec::new();
        let mut failed = Vec::new();
        let (mut finished_now, first_done) = (0usize, self.done);
        let mut forwarded = false;
        loop {
            let stopping = stop.load(Ordering::SeqCst);
            if stopping && !forwarded {
                // A SIGTERM from a scheduler reaches this process only: pass the stop
                // on, so that every run writes its resume point and ends.
                running.iter().for_each(|r| interrupt(&r.child));
                forwarded = true;
            }
            while running.len() < self.jobs && !stop.load(Ordering::SeqCst) {
                let Some((run, dir, state)) = queue.next() else {
                    break;
                };
                running.push(start(run, &dir, state)?);
            }
            if running.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            let mut still = Vec::new();
            for mut r in running {
                match r.child.try_wait()? {
                    None => still.push(r),
                    Some(status) if !status.success() && stopping => {
                        eprintln!(
                            "{} stopped; it resumes when the sweep starts again",
                            r.label
                        );
                    }
                    Some(status) => {
                        self.done += 1;
                        finished_now += 1;
                        let what = if status.success() {
                            "done"
                        } else {
                            failed.push(r.log.display().to_string());
                            "FAILED"
                        };
                        let left = self.total - self.done;
                        let per_run = self.started.elapsed().as_secs_f64() / finished_now as f64;
                        eprintln!(
                            "[{}/{}] {} {what}; {}",
                            self.done,
                            self.total,
                            r.label,
                            match left {
                                0 => "sweep complete".to_owned(),
                                n => format!(
                                    "{} left",
                                    duration(per_run * n as f64 / self.jobs as f64)
                                ),
                            }
                        );
                    }
                }
            }
            running = still;
        }
        if stop.load(Ordering::SeqCst) {
            bail!(
                "sweep stopped with {} of {} runs done ({} this time); start it again to go on",
                self.done,
                self.total,
                self.done - first_done
            );
        }
        Ok(failed)
    }
}

/// Starts `run` in `dir` (resuming it when it was interrupted), its standard error
/// going to `dir`'s log, a line per evaluation also to ours.
fn start(run: &SweepRun, dir: &Path, state: RunState) -> Result<Running> {
    let exe =
        std::env::current_exe().context("cannot find the xp program to run the sweep's runs")?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let mut command = Command::new(exe);
    let dir_arg = dir.display().to_string();
    if state == RunState::Interrupted {
        command.args(["run", "--resume", &dir_arg, "--plain"]);
    } else {
        let experiment = parent.join(format!("seed-{}.toml", run.seed));
        xp_framework::files::write_atomic(&experiment, run.experiment.to_toml().as_bytes())?;
        command.args([
            "run",
            &experiment.display().to_string(),
            "--out",
            &dir_arg,
            "--plain",
        ]);
    }
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start a run of the sweep")?;
    let log = parent.join(format!("seed-{}.log", run.seed));
    let label = format!("{} seed {}", run.point, run.seed);
    let stderr = child
        .stderr
        .take()
        .context("no standard error from a run")?;
    follow(stderr, &log, label.clone(), run.experiment.train.steps)?;
    eprintln!(
        "started {label}{}",
        if state == RunState::Interrupted {
            " (resuming)"
        } else {
            ""
        }
    );
    Ok(Running { child, label, log })
}

/// Copies a run's standard error to `log`, and its evaluation lines to ours.
fn follow(
    stderr: std::process::ChildStderr,
    log: &Path,
    label: String,
    steps: usize,
) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot write {}", log.display()))?;
    std::thread::spawn(move || {
        for line in BufReader::new(stderr)
            .lines()
            .map_while(std::result::Result::ok)
        {
            let _ = writeln!(file, "{line}");
            let evaluated = line
                .strip_prefix("step ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<usize>().ok());
            if let Some(n) = evaluated {
                eprintln!("  {label}: step {n}/{steps}");
            }
        }
    });
    Ok(())
}

/// Sends SIGINT to `child` (a run stops at its next step with a resume point).
fn interrupt(child: &Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on a child this process started and has not reaped; it
        // touches no memory of ours.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }
}
