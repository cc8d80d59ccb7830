//! An ensemble (`xp ensemble`) as one ONNX model: every member's graph over the same
//! `tokens` input (each in its own scope, so weights of the same name stay apart),
//! their class probabilities mixed with the fitted weights, and the mixture's log as
//! the objective's output: softmax of it gives the mixture back, so `xp predict` and
//! `xp serve` read it as they read any run's export.

use super::OnnxExport;
use crate::config::{Experiment, ModelKind};
use crate::error::{Result, XpError};
use crate::model::DataInfo;
use crate::run::{EnsembleRecord, RunFiles};
use std::path::Path;
use xp_models::onnx::{Attr, Dim, OnnxGraph};

/// The least probability the output's log is taken of: a class every member rules
/// out reads as a very small probability, not as minus infinity.
const FLOOR: f32 = 1e-30;
/// `ln(FLOOR)`, the least value the output holds.
pub(crate) const FLOOR_LOG: f32 = -69.07755;

/// One member's part: its experiment, data and how long a text it reads.
struct Part {
    experiment: Experiment,
    info: DataInfo,
    readable_len: usize,
}

/// Builds the ONNX model of the ensemble in `dir`; returns it with the experiment its
/// metadata describes (the first member's, named after the ensemble).
pub fn to_onnx(dir: &Path) -> Result<(Experiment, OnnxExport)> {
    let record = EnsembleRecord::read(dir)?;
    record.check_members()?;
    let name = &record.objective;
    let mut g = OnnxGraph::new();
    let tokens = g.input_i64("tokens", &[Dim::Dynamic("batch"), Dim::Dynamic("seq")]);
    let mut parts = Vec::new();
    let mut mixed: Option<String> = None;
    for (i, member) in record.members.iter().enumerate() {
        let (part, logits) = g.scoped(&format!("member{i}"), |g| {
            member_logits(g, &member.run, name, &tokens)
        })?;
        if let Some(first) = parts.first() {
            same_reading(first, &part, &member.run)?;
        }
        let probabilities = g.op("Softmax", &[&logits], &[("axis", Attr::Int(-1))]);
        let weight = g.const_f32(&[member.weight as f32], &[]);
        let weighted = g.op("Mul", &[&probabilities, &weight], &[]);
        mixed = Some(match mixed {
            None => weighted,
            Some(sum) => g.op("Add", &[&sum, &weighted], &[]),
        });
        parts.push(part);
    }
    let (Some(mixed), Some(first)) = (mixed, parts.first()) else {
        return Err(XpError::Run(format!(
            "{} names no member",
            RunFiles::at(dir).ensemble().display()
        )));
    };
    if first.info.labels != record.classes {
        return Err(XpError::Run(
            "the ensemble's classes are not its first member's labels in order: make it again with `xp ensemble`".into(),
        ));
    }
    let floor = g.const_f32(&[FLOOR], &[]);
    let floored = g.op("Max", &[&mixed, &floor], &[]);
    let log = g.op("Log", &[&floored], &[]);
    let mut experiment = first.experiment.clone();
    experiment.name = crate::run::RunSummary::read(dir)?.name;
    let readable_len = parts.iter().map(|p| p.readable_len).min().unwrap_or(0);
    let record_bytes = serde_json::to_vec(&record).map_err(|e| XpError::Run(e.to_string()))?;
    let hash = crate::files::sha256_hex(&record_bytes);
    let exported =
        super::class_export(g, &log, name, &experiment, &first.info, readable_len, hash)?;
    Ok((experiment, exported))
}

/// Adds the graph of member `run`'s objective `name` over `tokens` to `g`; returns
/// the member's part and its logits.
fn member_logits(
    g: &mut OnnxGraph,
    run: &Path,
    name: &str,
    tokens: &str,
) -> Result<(Part, String)> {
    let experiment = crate::run::load_experiment(run)?;
    if experiment.model.kind == ModelKind::Ngram {
        let info = crate::run::load_info(&RunFiles::at(run))?;
        let model = super::ngram::load(run)?;
        let logits = xp_ngram::export_graph(g, &model, tokens);
        let readable_len = info.max_len;
        let part = Part {
            experiment,
            info,
            readable_len,
        };
        return Ok((part, logits));
    }
    let (experiment, info, model) = crate::run::load(run, &candle_core::Device::Cpu)?;
    let (active, serving) = model.served(name)?;
    if serving.segments || serving.causal {
        return Err(XpError::Run(format!(
            "{name} of {} reads pairs or a causal mask: an ensemble mixes classifiers of one text",
            run.display()
        )));
    }
    let (hidden, _) = model
        .encoder
        .to_onnx_with_attention(g, tokens, None, false)?;
    let prefix = format!("heads.{name}");
    let logits = active
        .objective
        .head()
        .export(g, &hidden, tokens, &prefix)?;
    let readable_len = model.encoder.positions().served_rows()? - 1;
    let part = Part {
        experiment,
        info,
        readable_len,
    };
    Ok((part, logits))
}

/// Refuses a member that reads texts otherwise than the first (other tokens, labels or
/// normalization): one graph has one input.
fn same_reading(first: &Part, part: &Part, run: &Path) -> Result<()> {
    let (a, b) = (&first.info, &part.info);
    if a.vocab != b.vocab || a.labels != b.labels || a.normalization != b.normalization {
        return Err(XpError::Run(format!(
            "{} reads texts otherwise than the ensemble's first member (other tokens, labels or normalization): one ONNX graph serves members of one vocabulary",
            run.display()
        )));
    }
    Ok(())
}
