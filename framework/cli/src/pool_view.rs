//! A sweep's local backend as a person sees it: every run of the sweep as its own
//! `xp run` process, `--jobs` at a time, with a bar per running run (moved by the
//! run's recorded events) and one for the sweep; lines when standard error is not a
//! terminal.

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use xp_framework::run::{EventLog, RunEvent};
use xp_study::runner::{Job, Outcome, Pool, Watch};
use xp_study::sweep::local::{self, Queue};
use xp_study::sweep::SweepRun;

/// How often a running run's events are read.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// Runs the unfinished ones of `runs` in `dir`, `jobs` at a time.
pub fn run(name: &str, runs: &[&SweepRun], dir: &Path, jobs: usize) -> Result<()> {
    let queue = Queue::of(runs, dir);
    let done = queue.done;
    eprintln!(
        "{name}: {} runs, {done} already done, {} to run, {jobs} at a time, in {}",
        runs.len(),
        queue.runs.len(),
        dir.display()
    );
    let mut watcher = Watcher {
        view: View::new(queue.total_steps, queue.done_steps),
        total: runs.len(),
        done,
        done_steps: queue.done_steps,
        finished_now: 0,
        jobs,
        started: Instant::now(),
        bars: Vec::new(),
        followed: Instant::now(),
    };
    let stop = crate::watch::stop_flag()?;
    let pool = Pool {
        exe: std::env::current_exe()
            .context("cannot find the xp program to run the sweep's runs")?,
        at_once: jobs,
        stop: Some(&stop),
    };
    let ended = pool.run(queue.jobs(), &mut watcher)?;
    watcher.view.finish();
    local::ended(&ended, runs.len(), watcher.done, watcher.finished_now)
        .map_err(anyhow::Error::msg)?;
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

/// The sweep's view as the pool's watch: a bar per running run (its evaluations as
/// the message; without a terminal, a line per evaluation), a line as each ends, and
/// the sweep's bar over every run's steps.
struct Watcher {
    view: View,
    total: usize,
    done: usize,
    done_steps: usize,
    finished_now: usize,
    jobs: usize,
    started: Instant,
    /// Each running run: its label, folder, bar, and the last evaluation shown.
    bars: Vec<RunBar>,
    followed: Instant,
}

/// A running run's bar.
struct RunBar {
    label: String,
    dir: PathBuf,
    steps: usize,
    bar: ProgressBar,
    shown: usize,
}

impl RunBar {
    /// Moves the bar to the run's last recorded step; its evaluations become the
    /// bar's message (or, with the bar hidden, lines of ours).
    fn follow(&mut self) {
        let events = EventLog::read(&self.dir);
        for event in events.iter().skip(self.shown) {
            match event {
                RunEvent::Progress { step } => self.bar.set_position(*step as u64),
                RunEvent::Evaluated {
                    step,
                    valid_total,
                    improved,
                } => {
                    self.bar.set_position(*step as u64);
                    match self.bar.is_hidden() {
                        true => eprintln!("  {}: step {step}/{}", self.label, self.steps),
                        false => self.bar.set_message(format!(
                            "valid total {valid_total:.4}{}",
                            if *improved { " *" } else { "" }
                        )),
                    }
                }
                _ => {}
            }
        }
        self.shown = events.len();
    }
}

impl Watch for Watcher {
    fn started(&mut self, job: &Job) -> Box<dyn FnMut(&str) + Send> {
        let bar = self.view.run_bar(&job.label, job.steps);
        let resuming = match job.args.iter().any(|a| a == "--resume") {
            true => " (resuming)",
            false => "",
        };
        self.view.line(&format!("started {}{resuming}", job.label));
        self.bars.push(RunBar {
            label: job.label.clone(),
            dir: job.dir.clone(),
            steps: job.steps,
            bar,
            // What earlier sessions of the run recorded is not news.
            shown: EventLog::read(&job.dir).len(),
        });
        Box::new(|_: &str| {})
    }

    fn ended(&mut self, job: &Job, outcome: Outcome) {
        if let Some(i) = self.bars.iter().position(|b| b.label == job.label) {
            self.bars.remove(i).bar.finish_and_clear();
        }
        if outcome == Outcome::Stopped {
            self.view.line(&format!(
                "{} stopped; it resumes when the sweep starts again",
                job.label
            ));
            return;
        }
        self.done += 1;
        self.done_steps += job.steps;
        self.finished_now += 1;
        let what = match outcome {
            Outcome::Done => "done",
            _ => "FAILED",
        };
        let per_run = self.started.elapsed().as_secs_f64() / self.finished_now as f64;
        let left = match self.total - self.done {
            0 => "sweep complete".to_owned(),
            n => format!(
                "{} left",
                crate::show::duration(per_run * n as f64 / self.jobs as f64)
            ),
        };
        self.view.line(&format!(
            "[{}/{}] {} {what}; {left}",
            self.done, self.total, job.label
        ));
    }

    fn tick(&mut self) {
        if self.followed.elapsed() >= FOLLOW_EVERY {
            self.followed = Instant::now();
            self.bars.iter_mut().for_each(RunBar::follow);
        }
        let steps = self.done_steps
            + self
                .bars
                .iter()
                .map(|b| b.bar.position() as usize)
                .sum::<usize>();
        self.view
            .sweep_at(steps, format!("{}/{} runs done", self.done, self.total));
    }
}
