//! What a person sees while a run trains: a progress bar with the live losses on a
//! terminal, plain lines when the output is piped.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::{Duration, Instant};
use xp_framework::train::{Reporter, SplitMetrics};

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
/// progress line (`progress STEP/STEPS ...`, what `xp sweep` follows) every
/// [`PlainReporter::EVERY`].
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

    /// The step of an evaluation line (`step N  valid ...`), if `line` is one.
    pub fn eval_step(line: &str) -> Option<usize> {
        line.strip_prefix("step ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// The step of a progress line, if `line` is one.
    pub fn progress_step(line: &str) -> Option<usize> {
        let rest = line.strip_prefix(Self::PROGRESS)?;
        rest.split('/').next()?.parse().ok()
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
