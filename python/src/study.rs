//! Studies from Python: sweeps and searches run here through `xp_study` (their runs
//! are processes of the package's `xp` command, as the shell's are of `xp`), where
//! they stand, and `xp compare`'s figures and paired tests.

use crate::to_py;
use anyhow::Context;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use xp_study::compare::{collect, long_rows, mean_sd_ci, paired_against};
use xp_study::runner::{Job, Outcome, Pool, Watch};
use xp_study::sweep::local::{self, Queue};
use xp_study::sweep::Sweep;
use xp_study::tune::{self, LocalBackend, Progress, Tune, TuneFolder};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_status, m)?)?;
    m.add_function(wrap_pyfunction!(tune_search, m)?)?;
    m.add_function(wrap_pyfunction!(tune_trials, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    Ok(())
}

/// How often the waiting caller runs Python's signal handlers.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `work` on a thread of its own, the GIL released, while this thread runs
/// Python's signal handlers every [`SIGNAL_POLL`]: Ctrl-C (a `KeyboardInterrupt`, by
/// whatever handler Python has then) sets `work`'s stop flag. A stopped study raises
/// `KeyboardInterrupt` with `work`'s message.
fn interruptible<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&AtomicBool) -> anyhow::Result<T> + Send,
) -> PyResult<T> {
    let stop = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        let stop = &stop;
        let worker = scope.spawn(move || work(stop));
        while !worker.is_finished() {
            py.detach(|| std::thread::sleep(SIGNAL_POLL));
            if !stop.load(Ordering::SeqCst) && py.check_signals().is_err() {
                stop.store(true, Ordering::SeqCst);
            }
        }
        worker.join()
    });
    let result = result.map_err(|_| PyRuntimeError::new_err("the study's thread panicked"))?;
    match result {
        Ok(value) => Ok(value),
        Err(e) if stop.load(Ordering::SeqCst) => {
            Err(PyKeyboardInterrupt::new_err(xp_cli::describe(&e)))
        }
        Err(e) => Err(to_py(e)),
    }
}

/// Runs the sweep at `path` in `out` (default: runs/NAME), `jobs` at a time, each run
/// a process of the `xp` program `exe`; started again, it skips the finished runs and
/// resumes the rest. `progress(line)` hears of each run that starts and ends.
#[pyfunction]
#[pyo3(signature = (path, overrides, exe, out=None, jobs=None, only=Vec::new(), progress=None))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    path: PathBuf,
    overrides: Vec<String>,
    exe: PathBuf,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    only: Vec<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    interruptible(py, |stop| {
        let sweep = Sweep::load(&path, &overrides)?;
        let dir = out.unwrap_or_else(|| Path::new("runs").join(&sweep.name));
        let runs = local::select(&sweep, &only).map_err(anyhow::Error::msg)?;
        for run in &runs {
            xp_framework::train::check_device(&run.experiment.train.device)
                .with_context(|| format!("{}: run {}", path.display(), run.experiment.name))?;
        }
        local::prepare(&sweep, &dir).map_err(anyhow::Error::msg)?;
        let queue = Queue::of(&runs, &dir);
        let mut watch = Lines {
            progress,
            done: queue.done,
            total: runs.len(),
            now: 0,
        };
        let pool = Pool {
            exe,
            at_once: jobs.unwrap_or_else(|| local::default_jobs(&sweep)).max(1),
            stop: Some(stop),
        };
        let ended = pool.run(queue.jobs(), &mut watch)?;
        local::ended(&ended, runs.len(), watch.done, watch.now).map_err(anyhow::Error::msg)?;
        Ok(dir.display().to_string())
    })
}

/// A sweep's pool told as lines to a Python callable.
struct Lines {
    progress: Option<Py<PyAny>>,
    done: usize,
    total: usize,
    now: usize,
}

impl Lines {
    fn say(&self, line: String) {
        if let Some(progress) = &self.progress {
            // A failing progress callable must not stop the runs it reports on.
            Python::attach(|py| {
                let _ = progress.call1(py, (line,));
            });
        }
    }
}

impl Watch for Lines {
    fn started(&mut self, job: &Job) -> Box<dyn FnMut(&str) + Send> {
        self.say(format!("started {}", job.label));
        Box::new(|_| {})
    }

    fn ended(&mut self, job: &Job, outcome: Outcome) {
        let what = match outcome {
            Outcome::Stopped => {
                return self.say(format!(
                    "{} stopped; it resumes when the sweep starts again",
                    job.label
                ))
            }
            Outcome::Done => "done",
            Outcome::Failed => "FAILED",
        };
        self.done += 1;
        self.now += 1;
        self.say(format!(
            "[{}/{}] {} {what}",
            self.done, self.total, job.label
        ));
    }
}

/// Where each run of the sweep in `dir` stands, as JSON rows (`point`, `seed`,
/// `state`, `detail`, `dir`).
#[pyfunction]
fn sweep_status(dir: PathBuf) -> PyResult<String> {
    let (_, lines) = xp_study::sweep::status(&dir).map_err(|e| to_py(e.into()))?;
    let rows: Vec<_> = lines
        .iter()
        .map(|l| {
            json!({
                "point": l.point,
                "seed": l.seed,
                "state": l.status.word(),
                "detail": l.detail,
                "dir": dir.join(&l.point).join(format!("seed-{}", l.seed)).display().to_string(),
            })
        })
        .collect();
    Ok(serde_json::Value::Array(rows).to_string())
}

/// Runs the search of the tune file at `path` in `out` (default: runs/NAME): trials
/// as processes of `exe`, `jobs` at a time, then the final comparison of the best;
/// started again, it continues. `progress(line)` hears of each wave and result.
#[pyfunction]
#[pyo3(signature = (path, overrides, exe, out=None, jobs=None, budget=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn tune_search(
    py: Python<'_>,
    path: PathBuf,
    overrides: Vec<String>,
    exe: PathBuf,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    budget: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    interruptible(py, |stop| {
        let mut tune = Tune::load(&path, &overrides)?;
        if let Some(budget) = budget {
            tune.schedule.budget = budget;
        }
        let base = tune.trial_experiment(0, &tune::Sample::new())?;
        xp_framework::train::check_device(&base.train.device)
            .with_context(|| format!("{}: its trials", path.display()))?;
        let dir = out.unwrap_or_else(|| Path::new("runs").join(&tune.name));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let folder = TuneFolder::at(&dir);
        folder.keep_source(&path, &overrides, &tune)?;
        let jobs = jobs.unwrap_or_else(|| tune::default_jobs(&base)).max(1);
        let mut backend = LocalBackend {
            exe,
            stop: Some(stop),
        };
        let mut tell = |p: Progress| {
            let line = match p {
                Progress::Wave { tasks } => format!("training {}", tasks.join(", ")),
                Progress::Result { line, .. } => line,
                Progress::Final { runs } => format!("final comparison: {runs} runs to train"),
            };
            if let Some(progress) = &progress {
                Python::attach(|py| {
                    let _ = progress.call1(py, (line,));
                });
            }
        };
        let search = tune::search(&tune, &dir, &mut backend, jobs, &mut tell)?;
        folder.draw_figures(&tune, &search)?;
        tune::final_comparison(&tune, &dir, &search, &mut backend, jobs, &mut tell)?;
        Ok(dir.display().to_string())
    })
}

/// Every trial of the search in `dir` as JSON rows: `trial`, `rung`, `state`,
/// `score` (the monitored figure: an accuracy as itself), `monitor`, and each sampled
/// field.
#[pyfunction]
fn tune_trials(dir: PathBuf) -> PyResult<String> {
    let folder = TuneFolder::at(&dir);
    let tune = folder.tune().map_err(|e| to_py(e.into()))?;
    let search = folder.search(&tune).map_err(|e| to_py(e.into()))?;
    let sign = if tune.monitor_is_accuracy() {
        -1.0
    } else {
        1.0
    };
    let rows: Vec<_> = search
        .trials
        .iter()
        .map(|t| {
            let mut row = serde_json::Map::new();
            row.insert("trial".into(), json!(t.id));
            row.insert("rung".into(), json!(t.rung()));
            row.insert("state".into(), json!(t.state(tune.schedule.rungs.len())));
            row.insert("score".into(), json!(t.score().map(|s| sign * s)));
            row.insert("monitor".into(), json!(tune.monitor));
            for (field, value) in &t.sample {
                row.insert(
                    field.clone(),
                    serde_json::to_value(value).unwrap_or_default(),
                );
            }
            serde_json::Value::Object(row)
        })
        .collect();
    Ok(serde_json::Value::Array(rows).to_string())
}

/// The finished runs under `paths` (runs, sweeps) compared as `xp compare` does:
/// JSON with `rows` (its long-form rows), `summary` (per point, split, objective and
/// metric: seeds, mean, sd, the 95% interval) and, with `against`, `paired` (each other
/// point's CLS test accuracy against it on common seeds: difference, bootstrap
/// interval, McNemar's test).
#[pyfunction]
#[pyo3(signature = (paths, against=None))]
fn compare(py: Python<'_>, paths: Vec<PathBuf>, against: Option<String>) -> PyResult<String> {
    py.detach(|| -> anyhow::Result<String> {
        let runs = collect(&paths)?;
        let rows = long_rows(&runs);
        let mut groups: BTreeMap<(&str, &str, &str, &str), Vec<f64>> = BTreeMap::new();
        for r in &rows {
            let key = (
                r.point.as_str(),
                r.split.as_str(),
                r.objective.as_str(),
                r.metric.as_str(),
            );
            groups.entry(key).or_default().push(r.value);
        }
        let summary: Vec<_> = groups
            .iter()
            .map(|((point, split, objective, metric), values)| {
                let (mean, sd, ci) = mean_sd_ci(values);
                json!({
                    "point": point, "split": split, "objective": objective, "metric": metric,
                    "seeds": values.len(), "mean": mean, "sd": sd,
                    "ci_low": mean - ci, "ci_high": mean + ci,
                })
            })
            .collect();
        let paired: Vec<_> = match &against {
            None => Vec::new(),
            Some(reference) => {
                if !runs.iter().any(|r| &r.point == reference) {
                    let points: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
                    anyhow::bail!(
                        "against={reference:?}: no such point; the points are {}",
                        points.join(", ")
                    );
                }
                paired_against(&runs, reference)?
                    .into_iter()
                    .map(|(point, p)| {
                        json!({
                            "point": point, "against": reference, "seeds": p.seeds,
                            "difference": p.difference,
                            "diff_low": p.interval.0, "diff_high": p.interval.1,
                            "only_this": p.only_this, "only_reference": p.only_reference,
                            "chi_square": p.chi_square, "p_value": p.p_value,
                        })
                    })
                    .collect()
            }
        };
        Ok(json!({ "rows": rows, "summary": summary, "paired": paired }).to_string())
    })
    .map_err(to_py)
}
