//! Runs from Python: started, resumed, read and exported through the run owner
//! (`xp_framework::run`), as `xp run` and `xp export` do.

use crate::progress::PyReporter;
use crate::to_py;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use xp_cli::args::{ExperimentArgs, Overrides};
use xp_cli::resolve;
use xp_framework::export::check::compare_export_as;
use xp_framework::export::{verdict, write_run, ExportOptions, WeightFormat};
use xp_framework::run::{self, Outcome, RunDir, RunFiles, RunSummary};
use xp_framework::train::{ResumePoint, Session};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(start, m)?)?;
    m.add_function(wrap_pyfunction!(resume, m)?)?;
    m.add_function(wrap_pyfunction!(summary, m)?)?;
    m.add_function(wrap_pyfunction!(run_file, m)?)?;
    m.add_function(wrap_pyfunction!(export, m)?)?;
    Ok(())
}

/// Starts a run of the experiment at `experiment` with `overrides` (`KEY=VALUE`) in
/// `out` (default: runs/NAME); returns how it ended as JSON (`dir`, `outcome`,
/// `message`). Ctrl-C writes a resume point and raises `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (experiment, overrides, out=None, progress=None, pause_at=None))]
fn start(
    py: Python<'_>,
    experiment: PathBuf,
    overrides: Vec<String>,
    out: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
    pause_at: Option<usize>,
) -> PyResult<String> {
    let args = ExperimentArgs {
        experiment,
        set: Overrides {
            overrides,
            device: None,
        },
    };
    let (session, dir) = py
        .detach(|| -> anyhow::Result<(Session, RunDir)> {
            let session = resolve::session(&args)?;
            let (dir, _) =
                run::create(&session, out.as_deref()).map_err(|e| resolve::locate_in(&args, e))?;
            if session.experiment.model.kind == xp_framework::config::ModelKind::Transformer {
                xp_cli::show::gradient_check(&session)?;
            }
            Ok((session, dir))
        })
        .map_err(to_py)?;
    drive(py, &session, &dir, None, progress, pause_at)
}

/// Continues the stopped run in `dir` from its resume point (`overrides` may raise
/// `train.steps` only); returns as [`start`] does.
#[pyfunction]
#[pyo3(signature = (dir, overrides, progress=None, pause_at=None))]
fn resume(
    py: Python<'_>,
    dir: PathBuf,
    overrides: Vec<String>,
    progress: Option<Py<PyAny>>,
    pause_at: Option<usize>,
) -> PyResult<String> {
    let (session, reopened) = py
        .detach(|| -> anyhow::Result<_> {
            let reopened = run::reopen(&dir, &overrides)
                .map_err(|e| resolve::locate(e, &RunFiles::at(&dir).experiment(), &overrides))?;
            let session = resolve::session_of(resolve::with_corpus(reopened.experiment.clone()))?;
            Ok((session, reopened))
        })
        .map_err(to_py)?;
    drive(
        py,
        &session,
        &reopened.run,
        reopened.point,
        progress,
        pause_at,
    )
}

/// Trains `session` into `dir` with the GIL released, Python's progress object told
/// and its signals checked at every step.
fn drive(
    py: Python<'_>,
    session: &Session,
    dir: &RunDir,
    point: Option<ResumePoint>,
    progress: Option<Py<PyAny>>,
    pause_at: Option<usize>,
) -> PyResult<String> {
    let stop = AtomicBool::new(false);
    let mut reporter = PyReporter::new(progress, &stop);
    let outcome = py.detach(|| {
        let options = run::Options {
            reporter: &mut reporter,
            stop: Some(&stop),
            pause_at,
        };
        run::execute(session, dir, point, options)
    });
    let outcome = outcome.map_err(|e| to_py(e.into()))?;
    let path = dir.path.display().to_string();
    let ended = |outcome: &str, message: String| {
        json!({ "dir": path, "outcome": outcome, "message": message }).to_string()
    };
    match outcome {
        Outcome::Finished(done) => Ok(ended("finished", done.warnings.join("\n"))),
        Outcome::Paused(stop) => Ok(ended(
            "paused",
            run::stopped_message("paused", &stop, &dir.path),
        )),
        Outcome::Interrupted(stop) => {
            let message = run::stopped_message("stopped", &stop, &dir.path);
            match reporter.raised.take() {
                Some(e) if !e.is_instance_of::<PyKeyboardInterrupt>(py) => Err(e),
                _ => Err(PyKeyboardInterrupt::new_err(format!(
                    "{message} (in Python: xp.Run({path:?}).resume())"
                ))),
            }
        }
    }
}

/// The summary of the finished run (or ensemble) in `dir`, as JSON.
#[pyfunction]
fn summary(dir: PathBuf) -> PyResult<String> {
    if !RunFiles::at(&dir).summary().is_file() {
        return Err(missing(&dir, RunFiles::SUMMARY));
    }
    let summary = RunSummary::read(&dir).map_err(|e| to_py(e.into()))?;
    serde_json::to_string(&summary).map_err(|e| to_py(e.into()))
}

/// The path of one of the run's files: `metrics` (metrics.csv), `data` (data.json),
/// `experiment`, or `predictions` of `split` for `objective` (default: the first
/// objective with predictions); an error when the run has none.
#[pyfunction]
#[pyo3(signature = (dir, which, split="test", objective=None))]
fn run_file(dir: PathBuf, which: &str, split: &str, objective: Option<String>) -> PyResult<String> {
    let files = RunFiles::at(&dir);
    let path = match which {
        "metrics" => files.metrics_csv(),
        "data" => files.data(),
        "experiment" => files.experiment(),
        "predictions" => {
            let objective = match objective {
                Some(o) => o,
                None => files
                    .confusion_objectives()
                    .into_iter()
                    .next()
                    .ok_or_else(|| missing(&dir, "class predictions (no class objective)"))?,
            };
            files.predictions_csv(split, &objective)
        }
        other => return Err(crate::XpError::new_err(format!("no run file {other:?}"))),
    };
    if !path.is_file() {
        return Err(missing(&dir, &path.display().to_string()));
    }
    Ok(path.display().to_string())
}

fn missing(dir: &Path, what: &str) -> PyErr {
    let hint = match RunFiles::at(dir).is_run() {
        true => "is it finished? xp.Run(path).resume() finishes a stopped run",
        false => "it is not a run folder (no experiment.toml)",
    };
    crate::XpError::new_err(format!("{} has no {what}: {hint}", dir.display()))
}

/// Writes the run in `dir` as ONNX to `output` (default: exported/NAME.onnx), in f32
/// or `int8`; with `check`, compares ONNX Runtime with candle on the test split and
/// fails when they differ. Returns JSON: `path`, `outputs`, `skipped`, `checks`.
#[pyfunction]
#[pyo3(signature = (dir, output=None, quantize=None, check=false, attention=false, strict=false))]
fn export(
    py: Python<'_>,
    dir: PathBuf,
    output: Option<PathBuf>,
    quantize: Option<&str>,
    check: bool,
    attention: bool,
    strict: bool,
) -> PyResult<String> {
    let weights = match quantize {
        None => WeightFormat::F32,
        Some("int8") => WeightFormat::Int8,
        Some(other) => {
            return Err(crate::XpError::new_err(format!(
                "quantize={other:?}: the one format is \"int8\" (or None for f32)"
            )))
        }
    };
    let options = ExportOptions { attention, weights };
    py.detach(|| -> anyhow::Result<String> {
        let written = write_run(&dir, output.as_deref(), options, strict)?;
        let mut checks = Vec::new();
        if check {
            let compared = compare_export_as(&dir, &written.path, weights, resolve::with_corpus)?;
            checks = compared
                .iter()
                .map(|c| {
                    json!({
                        "objective": c.objective,
                        "output": c.output,
                        "passed": c.passed(),
                        "detail": c.describe(),
                    })
                })
                .collect();
            verdict(&compared, weights)?;
        }
        Ok(json!({
            "path": written.path.display().to_string(),
            "outputs": written.outputs(),
            "skipped": written.export.skipped,
            "checks": checks,
        })
        .to_string())
    })
    .map_err(to_py)
}
