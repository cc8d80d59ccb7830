//! `xp._native`: the library behind the `xp` Python package. Each function calls the
//! same library code as the command line (the run owner, the study, ONNX Runtime's
//! server) and hands Python plain values or JSON; the package's Python layer makes
//! them DataFrames and objects. Errors reach Python as `xp.XpError` with the command
//! line's message.

mod data;
mod predictor;
mod progress;
mod run;
mod study;

use pyo3::prelude::*;

pyo3::create_exception!(
    xp,
    XpError,
    pyo3::exceptions::PyException,
    "An experiment, its data, a run folder or a model is unusable; the message says what to fix."
);

/// An `anyhow` error as `XpError`, its causes each once (as `xp` prints them).
pub(crate) fn to_py(error: anyhow::Error) -> PyErr {
    XpError::new_err(xp_cli::describe(&error))
}

/// Runs the `xp` command line on `argv` (the program's name first) and returns its
/// exit code: what the package's `xp` script calls.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| xp::main_from(&[], argv.into_iter().map(Into::into)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("XpError", m.py().get_type::<XpError>())?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    run::register(m)?;
    study::register(m)?;
    data::register(m)?;
    predictor::register(m)?;
    Ok(())
}
