//! The local backend: every run of the sweep as its own `xp run` process, `--jobs` at
//! a time, with a bar per running run and one for the sweep (lines when standard error
//! is not a terminal).

use crate::progress::PlainReporter;
use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;
use xp_study::runner::{Job, Outcome, Pool, Watch};
use xp_study::sweep::SweepRun;
use xp_study::sweep::{log_file, run_arguments, run_state, write_experiment, RunState};

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
    let mut watcher = Watcher {
        view: View::new(total_steps, done_steps),
        total: runs.len(),
        done,
        done_steps,
        finished_now: 0,
        jobs,
        started: Instant::now(),
        bars: Vec::new(),
    };
    let stop = crate::signals::stop_flag()?;
    let pool = Pool {
        exe: std::env::current_exe()
            .context("cannot find the xp program to run the sweep's runs")?,
        at_once: jobs,
        stop: Some(&stop),
    };
    let jobs = queue.into_iter().map(|(run, dir, state)| {
        if state == RunState::Pending {
            write_experiment(run, &dir).map_err(std::io::Error::other)?;
        }
        Ok(Job {
            label: format!("{} seed {}", run.point, run.seed),
            args: run_arguments(&dir, state),
            log: log_file(&dir),
            steps: run.experiment.train.steps,
        })
    });
    let ended = pool.run(jobs, &mut watcher)?;
    watcher.view.finish();
    if ended.stopped {
        bail!(
            "sweep stopped with {} of {} runs done ({} this time); start it again to go on",
            watcher.done,
            runs.len(),
            watcher.finished_now
        );
    }
    if !ended.failed.is_empty() {
        let logs: Vec<String> = ended
            .failed
            .iter()
            .map(|j| j.log.display().to_string())
            .collect();
        bail!(
            "{} runs failed (their logs: {}); start the sweep again to retry them",
            logs.len(),
            logs.join(", ")
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
    bars: Vec<(String, ProgressBar)>,
}

impl Watch for Watcher {
    fn started(&mut self, job: &Job) -> Box<dyn FnMut(&str) + Send> {
        let bar = self.view.run_bar(&job.label, job.steps);
        let resuming = match job.args.iter().any(|a| a == "--resume") {
            true => " (resuming)",
            false => "",
        };
        self.view.line(&format!("started {}{resuming}", job.label));
        self.bars.push((job.label.clone(), bar.clone()));
        let (label, steps) = (job.label.clone(), job.steps);
        Box::new(move |line: &str| follow(line, &label, steps, &bar))
    }

    fn ended(&mut self, job: &Job, outcome: Outcome) {
        if let Some(i) = self.bars.iter().position(|(l, _)| *l == job.label) {
            self.bars.remove(i).1.finish_and_clear();
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
                super::duration(per_run * n as f64 / self.jobs as f64)
            ),
        };
        self.view.line(&format!(
            "[{}/{}] {} {what}; {left}",
            self.done, self.total, job.label
        ));
    }

    fn tick(&mut self) {
        let steps = self.done_steps
            + self
                .bars
                .iter()
                .map(|(_, b)| b.position() as usize)
                .sum::<usize>();
        self.view
            .sweep_at(steps, format!("{}/{} runs done", self.done, self.total));
    }
}

/// A line of a run's standard error: its progress lines move `bar`, its evaluations
/// become the bar's message (or, with the bar hidden, lines of ours).
fn follow(line: &str, label: &str, steps: usize, bar: &ProgressBar) {
    if let Some(step) = PlainReporter::progress_step(line) {
        bar.set_position(step as u64);
        return;
    }
    if let Some(step) = PlainReporter::eval_step(line) {
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
