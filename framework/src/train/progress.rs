//! What a person sees while a run trains: the trainer is given a [`Reporter`] and
//! never prints. The command line draws a progress bar or plain lines; tests see
//! nothing.

use super::SplitMetrics;

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
