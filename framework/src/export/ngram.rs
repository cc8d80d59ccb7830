//! A run of the n-gram baseline as one ONNX model: ONNX's `TfIdfVectorizer` and the
//! linear layer (see [`xp_ngram::export_graph`]), served as the run's class objective
//! is, with the same metadata a transformer's export has.

use super::OnnxExport;
use crate::config::Experiment;
use crate::error::{Result, XpError};
use crate::model::DataInfo;
use std::path::Path;
use xp_models::onnx::{Dim, OnnxGraph};
use xp_ngram::NgramModel;

/// The fitted model of the n-gram run in `run`.
pub fn load(run: &Path) -> Result<NgramModel> {
    let path = crate::run::RunFiles::at(run).ngram_model();
    if !path.is_file() {
        return Err(XpError::Run(format!(
            "{} has no {}: the run did not finish its fit; run it again",
            run.display(),
            crate::run::RunFiles::NGRAM
        )));
    }
    NgramModel::load(&path).map_err(|e| XpError::Run(e.to_string()))
}

/// The class objective an n-gram run stands in for: the experiment's one objective.
pub fn objective_name(exp: &Experiment) -> Result<&str> {
    match exp.objectives.keys().collect::<Vec<_>>()[..] {
        [one] => Ok(one),
        _ => Err(XpError::Run(format!(
            "the n-gram run {} names {} objectives; it stands in for exactly one",
            exp.name,
            exp.objectives.len()
        ))),
    }
}

/// Builds the ONNX model of the n-gram `model` of experiment `exp`: input `tokens`
/// `(batch, seq)` int64 (`[CLS]` first, padded with `[PAD]`), the objective's logits as
/// output.
pub fn to_onnx(model: &NgramModel, exp: &Experiment, info: &DataInfo) -> Result<OnnxExport> {
    let name = objective_name(exp)?;
    let mut g = OnnxGraph::new();
    let tokens = g.input_i64("tokens", &[Dim::Dynamic("batch"), Dim::Dynamic("seq")]);
    let logits = xp_ngram::export_graph(&mut g, model, &tokens);
    // n-grams read a text of any length; the data's longest is what was fitted.
    let hash = weights_hash(model);
    super::class_export(g, &logits, name, exp, info, info.max_len, hash)
}

/// SHA-256 over the n-grams, IDF weights, weights and biases, in that order.
fn weights_hash(model: &NgramModel) -> String {
    let mut bytes = Vec::new();
    for gram in model.features.grams() {
        bytes.extend(gram.iter().flat_map(|t| t.to_le_bytes()));
        bytes.push(0xff);
    }
    let floats = [
        model.features.idf(),
        &model.classifier.weights,
        &model.classifier.bias,
    ];
    for values in floats {
        bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    crate::files::sha256_hex(&bytes)
}
