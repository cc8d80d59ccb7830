//! The local backend: every run of the sweep as its own `xp run` process, `--jobs` at
//! a time, with a bar per running run and one for the sweep (lines when standard error
//! is not a terminal).

use super::{log_file, run_arguments, run_state, write_experiment, RunState};
use crate::progress::PlainReporter;
use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use xp_study::sweep::SweepRun;

/// Runs the unfinished ones of `runs` in `dir`, `jobs` at a time.
pub(super) fn run(name: &str, runs: &[&SweepRun], dir: &Path, jobs: usize) -> Result<()> {
    let mut queue = Vec::new();
    let mut done_steps = 0;
    for run in runs {
        let run_dir = run.dir(dir);
        match run_state(&run_dir) {
            RunState::Done => done_steps += run.experiment.train.steps,
            state => queue.push((*run, run_dir, state)),
        }
    }
    let done = runs.len() - queue.len();
    eprintln!(
        "{name}: {} runs, {done} already done, {} to run, {jobs} at a time, in {}",
        runs.len(),
        queue.len(),
        dir.display()
    );
    let total_steps: usize = runs.iter().map(|r| r.experiment.train.steps).sum();
    let view = View::new(total_steps, done_steps);
    let mut pool = Pool {
        jobs,
        total: runs.len(),
        done,
        done_steps,
        started: Instant::now(),
        view,
    };
    let failed = pool.run(queue)?;
    pool.view.finish();
    if !failed.is_empty() {
        bail!(
            "{} runs failed (their logs: {}); start the sweep again to retry them",
            failed.len(),
            failed.join(", ")
        );
    }
    eprintln!("{name}: all {} runs done in {}", runs.len(), dir.display());
    Ok(())
}

/// What a person sees: on a terminal, a bar per running run under one for the sweep
/// (steps of all runs, with the time left); otherwise plain lines.
struct View {
    bars: Option<(MultiProgress, ProgressBar)>,
}

impl View {
    fn new(total_steps: usize, done_steps: usize) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { bars: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let sweep = multi.add(ProgressBar::new(total_steps as u64));
        sweep.set_style(style(
            "sweep {bar:30.green/blue} {pos}/{len} steps, eta {eta}  {msg}",
        ));
        sweep.set_position(done_steps as u64);
        sweep.reset_eta();
        Self {
            bars: Some((multi, sweep)),
        }
    }

    /// A bar for a run that starts (hidden without a terminal).
    fn run_bar(&self, label: &str, steps: usize) -> ProgressBar {
        match &self.bars {
            Some((multi, _)) => {
                let bar = multi.add(ProgressBar::new(steps as u64));
                bar.set_style(style("{prefix:>40} {bar:20.cyan/blue} {pos}/{len}  {msg}"));
                bar.set_prefix(label.to_owned());
                bar
            }
            None => ProgressBar::hidden(),
        }
    }

    /// A line above the bars.
    fn line(&self, text: &str) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// The sweep's bar at `steps` of all runs, with `message`.
    fn sweep_at(&self, steps: usize, message: String) {
        if let Some((_, sweep)) = &self.bars {
            sweep.set_position(steps as u64);
            sweep.set_message(message);
        }
    }

    fn finish(&self) {
        if let Some((multi, sweep)) = &self.bars {
            sweep.finish_and_clear();
            let _ = multi.clear();
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// A running run.
struct Running {
    child: Child,
    label: String,
    log: PathBuf,
    steps: usize,
    bar: ProgressBar,
}

/// Runs `jobs` runs at once and shows their progress.
struct Pool {
    jobs: usize,
    total: usize,
    done: usize,
    done_steps: usize,
    started: Instant,
    view: View,
}

impl Pool {
    /// Runs `queue`; returns the logs of the runs that failed.
    fn run(&mut self, queue: Vec<(&SweepRun, PathBuf, RunState)>) -> Result<Vec<String>> {
        let stop = crate::signals::stop_flag()?;
        let mut queue = queue.into_iter();
        let mut running: Vec<Running> = Vec::new();
        let mut failed = Vec::new();
        let (first_done, mut finished_now) = (self.done, 0usize);
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
                running.push(self.start(run, &dir, state)?);
            }
            if running.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            let mut still = Vec::new();
            for mut r in running {
                let Some(status) = r.child.try_wait()? else {
                    still.push(r);
                    continue;
                };
                r.bar.finish_and_clear();
                if !status.success() && stopping {
                    self.view.line(&format!(
                        "{} stopped; it resumes when the sweep starts again",
                        r.label
                    ));
                    continue;
                }
                self.done += 1;
                self.done_steps += r.steps;
                finished_now += 1;
                let what = if status.success() {
                    "done"
                } else {
                    failed.push(r.log.display().to_string());
                    "FAILED"
                };
                let per_run = self.started.elapsed().as_secs_f64() / finished_now as f64;
                let left = match self.total - self.done {
                    0 => "sweep complete".to_owned(),
                    n => format!(
                        "{} left",
                        super::duration(per_run * n as f64 / self.jobs as f64)
                    ),
                };
                self.view.line(&format!(
                    "[{}/{}] {} {what}; {left}",
                    self.done, self.total, r.label
                ));
            }
            running = still;
            let steps = self.done_steps
                + running
                    .iter()
                    .map(|r| r.bar.position() as usize)
                    .sum::<usize>();
            self.view
                .sweep_at(steps, format!("{}/{} runs done", self.done, self.total));
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

    /// Starts `run` in `dir` from where it stands, its standard error going to its
    /// log and to its bar (or, without a terminal, its evaluations to ours).
    fn start(&self, run: &SweepRun, dir: &Path, state: RunState) -> Result<Running> {
        if state == RunState::Pending {
            write_experiment(run, dir)?;
        }
        let exe = std::env::current_exe()
            .context("cannot find the xp program to run the sweep's runs")?;
        let mut child = Command::new(exe)
            .args(run_arguments(dir, state))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start a run of the sweep")?;
        let label = format!("{} seed {}", run.point, run.seed);
        let steps = run.experiment.train.steps;
        let bar = self.view.run_bar(&label, steps);
        let stderr = child
            .stderr
            .take()
            .context("no standard error from a run")?;
        let log = log_file(dir);
        follow(stderr, &log, label.clone(), steps, bar.clone())?;
        let resuming = if state == RunState::Interrupted {
            " (resuming)"
        } else {
            ""
        };
        self.view.line(&format!("started {label}{resuming}"));
        Ok(Running {
            child,
            label,
            log,
            steps,
            bar,
        })
    }
}

/// Copies a run's standard error to `log`; its progress lines move `bar`, its
/// evaluations become the bar's message (or, with the bar hidden, lines of ours).
fn follow(
    stderr: std::process::ChildStderr,
    log: &Path,
    label: String,
    steps: usize,
    bar: ProgressBar,
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
            if let Some(step) = PlainReporter::progress_step(&line) {
                bar.set_position(step as u64);
                continue;
            }
            if let Some(step) = PlainReporter::eval_step(&line) {
                bar.set_position(step as u64);
                if bar.is_hidden() {
                    eprintln!("  {label}: step {step}/{steps}");
                } else {
                    bar.set_message(
                        line.split_whitespace()
                            .skip(2)
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                }
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
