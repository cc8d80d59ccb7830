//! A run as a Python caller sees it: the trainer's events handed to a Python progress
//! object (`xp._progress.Progress`: a tqdm bar, or lines), and Ctrl-C (a pending
//! `KeyboardInterrupt`) turned into the run's stop flag, so that the run writes a
//! resume point and ends as it does in the shell.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use xp_framework::train::{Reporter, SplitMetrics};

/// How often the progress object hears of steps.
const STEP_EVERY: Duration = Duration::from_millis(100);

/// The events of a run, forwarded to `progress`; Python's signals checked at every
/// step.
pub struct PyReporter<'a> {
    progress: Option<Py<PyAny>>,
    stop: &'a AtomicBool,
    /// What stopped the run: Ctrl-C, or an exception of the progress object.
    pub raised: Option<PyErr>,
    last: Instant,
    /// The last step trained.
    at: usize,
}

impl<'a> PyReporter<'a> {
    /// Forwards to `progress` (none: checks signals only), sets `stop` on Ctrl-C.
    pub fn new(progress: Option<Py<PyAny>>, stop: &'a AtomicBool) -> Self {
        Self {
            progress,
            stop,
            raised: None,
            last: Instant::now(),
            at: 0,
        }
    }

    /// Calls `method` of the progress object (none: no call) with what `args` builds,
    /// after running Python's pending signal handlers; an exception stops the run.
    fn call<F>(&mut self, method: Option<&str>, args: F)
    where
        F: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
    {
        if self.raised.is_some() {
            return;
        }
        let result = Python::attach(|py| -> PyResult<()> {
            py.check_signals()?;
            if let (Some(progress), Some(method)) = (&self.progress, method) {
                progress.call_method1(py, method, args(py)?)?;
            }
            Ok(())
        });
        if let Err(e) = result {
            self.raised = Some(e);
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

impl Reporter for PyReporter<'_> {
    fn start(&mut self, steps: usize) {
        self.call(Some("start"), |py| (steps,).into_pyobject(py));
    }

    fn step(&mut self, step: usize, losses: &[(String, f64)]) {
        self.at = step;
        if self.last.elapsed() < STEP_EVERY {
            // Still checks for Ctrl-C at every step.
            self.call(None, |py| Ok(PyTuple::empty(py)));
            return;
        }
        self.last = Instant::now();
        self.call(Some("step"), |py| {
            let dict = PyDict::new(py);
            for (name, loss) in losses {
                dict.set_item(name, loss)?;
            }
            (step, dict).into_pyobject(py)
        });
    }

    fn eval(&mut self, step: usize, valid: &SplitMetrics, best: bool) {
        self.call(Some("eval"), |py| {
            let dict = PyDict::new(py);
            for (name, metric) in &valid.objectives {
                dict.set_item(name, (metric.loss, metric.accuracy))?;
            }
            (step, valid.total, dict, best).into_pyobject(py)
        });
    }

    fn note(&mut self, message: &str) {
        self.call(Some("note"), |py| (message,).into_pyobject(py));
    }

    fn finish(&mut self) {
        let at = self.at;
        self.call(Some("finish"), |py| (at,).into_pyobject(py));
    }
}
