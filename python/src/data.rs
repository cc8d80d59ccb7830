//! What an experiment's data holds (`xp data`'s report) and which objectives this
//! build knows (`xp objectives`), for Python.

use crate::to_py;
use pyo3::prelude::*;
use std::path::PathBuf;
use xp_cli::resolve;
use xp_framework::config::Experiment;
use xp_framework::data::prepare;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(data_report, m)?)?;
    m.add_function(wrap_pyfunction!(objectives, m)?)?;
    Ok(())
}

/// The data report of the experiment at `experiment` with `overrides`, as the JSON
/// of `xp data --json` (a run folder's `data.json`).
#[pyfunction]
fn data_report(py: Python<'_>, experiment: PathBuf, overrides: Vec<String>) -> PyResult<String> {
    py.detach(|| -> anyhow::Result<String> {
        let exp = resolve::with_corpus(Experiment::load(&experiment, &overrides)?);
        let report = prepare(&exp.data, exp.seed)?.report();
        Ok(serde_json::to_string(&report)?)
    })
    .map_err(to_py)
}

/// The registered objectives with their fields, defaults and docs, as JSON.
#[pyfunction]
fn objectives() -> PyResult<String> {
    serde_json::to_string(&xp_framework::objective::listing()).map_err(|e| to_py(e.into()))
}
