//! `xp.Predictor`: an exported model on ONNX Runtime, answering as `xp predict` does.

use pyo3::prelude::*;
use std::path::PathBuf;
use xp_serve::predict::{self, Sampling};
use xp_serve::{OnnxModel, ServeError};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()
}

fn to_py(e: ServeError) -> PyErr {
    crate::XpError::new_err(e.to_string())
}

/// An exported model loaded once; every call runs it.
#[pyclass(module = "xp._native")]
pub struct Model {
    model: OnnxModel,
}

#[pymethods]
impl Model {
    /// Loads the ONNX file at `path` (an export of xp's).
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        Ok(Self {
            model: OnnxModel::load(&path).map_err(to_py)?,
        })
    }

    /// The objectives the model serves.
    fn objectives(&self) -> Vec<String> {
        self.model.info.objectives.keys().cloned().collect()
    }

    /// The objective served when none is named.
    fn default_objective(&self) -> PyResult<String> {
        self.model.default_objective().map_err(to_py)
    }

    /// Whether `objective` is causal (samples names), has classes (classifies), or
    /// neither (fills masks): `"sample"`, `"classify"` or `"fill"`.
    fn kind(&self, objective: &str) -> PyResult<&'static str> {
        let (_, served) = self.model.objective(objective).map_err(to_py)?;
        Ok(match (served.causal, served.classes.is_some()) {
            (true, _) => "sample",
            (false, true) => "classify",
            (false, false) => "fill",
        })
    }

    /// The top `k` classes of each text, as JSON lines' values: one answer or
    /// `{"name", "error"}` per text, in order.
    fn classify(
        &mut self,
        py: Python<'_>,
        objective: &str,
        texts: Vec<String>,
        k: usize,
        batch_size: usize,
    ) -> PyResult<String> {
        let model = &mut self.model;
        let answers = py
            .detach(|| predict::classify(model, objective, &texts, k, batch_size))
            .map_err(to_py)?;
        answers_json(&texts, answers)
    }

    /// Each text's `[MASK]`s filled, as [`Model::classify`] answers.
    fn fill(
        &mut self,
        py: Python<'_>,
        objective: &str,
        texts: Vec<String>,
        k: usize,
    ) -> PyResult<String> {
        let model = &mut self.model;
        let answers = py
            .detach(|| predict::fill_masks(model, objective, &texts, k))
            .map_err(to_py)?;
        answers_json(&texts, answers)
    }

    /// `count` names sampled from a causal objective.
    #[pyo3(signature = (objective, count, temperature, seed, prefix=None, length=None))]
    #[allow(clippy::too_many_arguments)]
    fn sample(
        &mut self,
        py: Python<'_>,
        objective: &str,
        count: usize,
        temperature: f32,
        seed: u64,
        prefix: Option<String>,
        length: Option<usize>,
    ) -> PyResult<Vec<String>> {
        let sampling = Sampling {
            count,
            temperature,
            seed,
            prefix,
            length,
        };
        let model = &mut self.model;
        py.detach(|| predict::sample(model, objective, &sampling))
            .map_err(to_py)
    }
}

/// Answers as a JSON array, an error in its text's place (`xp predict --json`'s lines).
fn answers_json<T: serde::Serialize>(
    texts: &[String],
    answers: Vec<predict::Answer<T>>,
) -> PyResult<String> {
    let rows: Vec<serde_json::Value> = texts
        .iter()
        .zip(answers)
        .map(|(text, answer)| match answer {
            Ok(a) => serde_json::to_value(a).unwrap_or_default(),
            Err(e) => serde_json::json!({ "name": text, "error": e.to_string() }),
        })
        .collect();
    Ok(serde_json::Value::Array(rows).to_string())
}
