//! What a person sees while a run trains (a progress bar with the live losses on a
//! terminal, plain lines when the output is piped), Ctrl-C and SIGTERM, and a run
//! driven through the library to its outcome, printed.

use crate::show::summary_table;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use xp_framework::config::ModelKind;
use xp_framework::run::{self, Outcome, RunDir};
use xp_framework::train::{Reporter, ResumePoint, Session, SplitMetrics};

/// How a run is shown and where it pauses.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunControl {
    /// Plain lines instead of a bar.
    pub plain: bool,
    /// The step to pause at.
    pub pause_at: Option<usize>,
}

/// Trains `session` into `run` (from `resume` when given) through the library,
/// stopping at Ctrl-C or SIGTERM with a resume point; prints how it ended.
pub fn drive(
    session: &Session,
    run: &RunDir,
    resume: Option<ResumePoint>,
    control: RunControl,
) -> Result<()> {
    let mut reporter: Box<dyn Reporter> = if control.plain || !std::io::stderr().is_terminal() {
        Box::new(PlainReporter::new())
    } else {
        Box::new(ProgressReporter::new())
    };
    let stop = stop_flag()?;
    let options = run::Options {
        reporter: reporter.as_mut(),
        stop: Some(&stop),
        pause_at: control.pause_at,
    };
    match run::execute(session, run, resume, options)? {
        Outcome::Paused(stop) => {
            eprintln!("{}", run::stopped_message("paused", &stop, &run.path));
            Ok(())
        }
        Outcome::Interrupted(stop) => {
            anyhow::bail!("{}", run::stopped_message("stopped", &stop, &run.path))
        }
        Outcome::Finished(done) => {
            for warning in &done.warnings {
                eprintln!("warning: {warning}");
            }
            let summary = &done.summary;
            println!("{}", summary_table(summary));
            let trained = match session.experiment.model.kind {
                ModelKind::Ngram => format!(
                    "fitted in {:.1} s ({} L-BFGS iterations)",
                    summary.train_seconds, summary.steps
                ),
                ModelKind::Transformer => format!(
                    "{} steps ({:.1} steps/s), best at step {}{}",
                    summary.steps,
                    summary.steps_per_second,
                    summary.best_step,
                    if summary.stopped_early {
                        ", stopped early"
                    } else {
                        ""
                    },
                ),
            };
            println!("{trained}; outputs in {}", run.path.display());
            Ok(())
        }
    }
}

/// A flag that SIGINT and SIGTERM set: the first asks the run (or the sweep, the
/// search) to stop at the next step with a resume point; a second one ends the
/// process at once.
pub fn stop_flag() -> std::io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registered first, so it sees the flag before this signal sets it: it exits
        // only on a second signal.
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag))?;
        signal_hook::flag::register(signal, Arc::clone(&flag))?;
    }
    Ok(flag)
}

fn eval_line(step: usize, valid: &SplitMetrics, best: bool) -> String {
    let parts: Vec<String> = valid
        .objectives
        .iter()
        .map(|(n, m)| format!("{n} {:.3}/{:.3}", m.loss, m.accuracy))
        .collect();
    format!(
        "step {step:>6}  valid total {:.4}{}  ({} loss/acc)",
        valid.total,
        if best { " *" } else { "  " },
        parts.join("  ")
    )
}

/// Plain lines for logs and pipes: one at each evaluation, and between them a
/// progress line (`progress STEP/STEPS steps`) every [`PlainReporter::EVERY`].
pub struct PlainReporter {
    steps: usize,
    last: Instant,
    started: Instant,
}

impl PlainReporter {
    /// How often a progress line is printed.
    pub const EVERY: Duration = Duration::from_secs(10);
    /// The start of a progress line.
    pub const PROGRESS: &str = "progress ";

    /// A reporter that has printed nothing yet.
    pub fn new() -> Self {
        Self {
            steps: 0,
            last: Instant::now(),
            started: Instant::now(),
        }
    }
}

impl Default for PlainReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for PlainReporter {
    fn start(&mut self, steps: usize) {
        self.steps = steps;
        self.started = Instant::now();
        self.last = self.started;
    }
    fn step(&mut self, step: usize, _losses: &[(String, f64)]) {
        if self.last.elapsed() >= Self::EVERY {
            self.last = Instant::now();
            eprintln!("{}{step}/{} steps", Self::PROGRESS, self.steps);
        }
    }
    fn eval(&mut self, step: usize, valid: &SplitMetrics, best: bool) {
        eprintln!("{}", eval_line(step, valid, best));
    }
    fn note(&mut self, message: &str) {
        eprintln!("{message}");
    }
}

/// A progress bar with the live train losses.
pub struct ProgressReporter {
    bar: ProgressBar,
}

impl ProgressReporter {
    /// A bar on standard error.
    pub fn new() -> Self {
        Self {
            bar: ProgressBar::hidden(),
        }
    }
}

impl Default for ProgressReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for ProgressReporter {
    fn start(&mut self, steps: usize) {
        self.bar = ProgressBar::new(steps as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:30.cyan/blue} {pos}/{len} {per_sec} eta {eta}  {msg}",
        ) {
            self.bar.set_style(style);
        }
    }
    fn step(&mut self, step: usize, losses: &[(String, f64)]) {
        self.bar.set_position(step as u64);
        if step.is_multiple_of(10) {
            let parts: Vec<String> = losses.iter().map(|(n, l)| format!("{n} {l:.3}")).collect();
            self.bar.set_message(parts.join(" "));
        }
    }
    fn eval(&mut self, step: usize, valid: &SplitMetrics, best: bool) {
        self.bar.println(eval_line(step, valid, best));
    }
    fn note(&mut self, message: &str) {
        self.bar.println(message);
    }
    fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}
