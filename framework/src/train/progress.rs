//! What a person sees while a run trains: the trainer is given a [`Reporter`] and
//! never prints. A progress bar with live losses on a terminal, plain lines when the
//! output is piped, nothing in tests.

use super::SplitMetrics;
use indicatif::{ProgressBar, ProgressStyle};

/// Receives the trainer's events.
pub trait Reporter {
    /// Training starts, `steps` steps at most.
    fn start(&mut self, _steps: usize) {}
    /// A step finished with these running-mean train losses per objective.
    fn step(&mut self, _step: usize, _losses: &[(String, f64)]) {}
    /// An evaluation on validation finished; `best` if it is the best so far.
    fn eval(&mut self, _step: usize, _valid: &SplitMetrics, _best: bool) {}
    /// A line worth telling (early stop, checkpoint, ...).
    fn note(&mut self, _message: &str) {}
    /// Training ended.
    fn finish(&mut self) {}
}

/// Reports nothing.
pub struct SilentReporter;
impl Reporter for SilentReporter {}

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

/// Plain lines at each evaluation, for logs and pipes.
pub struct PlainReporter;
impl Reporter for PlainReporter {
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
        if step % 10 == 0 {
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
