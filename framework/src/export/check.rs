//! `xp export --check`: ONNX Runtime against candle, objective by objective, on the
//! run's whole test split, in batches and sequence lengths unlike training's.

use crate::config::Experiment;
use crate::data::PAD as PAD_ID;
use crate::error::{Result, XpError};
use crate::model::Model;
use crate::objective::EncoderIds;
use crate::train::Session;
use crate::SmallRng;
use candle_core::{Device, Tensor};
use rand::SeedableRng;
use std::path::Path;
use xp_models::onnx::WeightFormat;
use xp_serve::predict::softmax;
use xp_serve::OnnxModel;

/// Largest difference between candle and ONNX Runtime that passes.
pub const TOLERANCE: f32 = 1e-4;
/// Largest difference of a probability between candle (f32) and an int8 export that
/// passes.
pub const INT8_TOLERANCE: f32 = 0.1;
/// Largest drop of a class objective's test accuracy from candle (f32) to an int8
/// export that passes.
pub const INT8_ACCURACY_DROP: f64 = 0.005;
/// Names per comparison batch.
const BATCH: usize = 100;
/// Full batches kept per objective as samples.
const SAMPLES: usize = 2;

/// One exported objective compared.
#[derive(Debug, Clone)]
pub struct ObjectiveCheck {
    /// The objective.
    pub objective: String,
    /// Its ONNX output.
    pub output: String,
    /// Test names compared.
    pub names: usize,
    /// Largest `|candle - onnxruntime|` over every compared value.
    pub worst: f32,
    /// The same over the attention weights of its encoder pass (token queries), when
    /// the file has them.
    pub attention_worst: Option<f32>,
    /// The first full batches: inputs and candle's outputs.
    pub samples: Vec<Sample>,
    /// For an int8 export: how far its probabilities and answers are from f32.
    pub quantized: Option<QuantizedCheck>,
}

/// An int8 export against candle in f32: the softmax of each output row (a name's, or
/// a token position's) compared, and for a class objective the test accuracy of both.
#[derive(Debug, Clone, Default)]
pub struct QuantizedCheck {
    /// Largest `|p_f32 - p_int8|` over every probability compared.
    pub probability_worst: f32,
    /// Rows compared.
    pub rows: usize,
    /// Rows whose most probable class is the same in both.
    pub same_answer: usize,
    /// Names whose label f32 predicts, and int8 predicts, when the objective's classes
    /// are the data's labels.
    pub correct: Option<(usize, usize)>,
}

impl QuantizedCheck {
    /// f32's and int8's test accuracy, when the objective predicts the labels.
    pub fn accuracies(&self) -> Option<(f64, f64)> {
        let (f32_correct, int8_correct) = self.correct?;
        let n = self.rows.max(1) as f64;
        Some((f32_correct as f64 / n, int8_correct as f64 / n))
    }

    /// Within [`INT8_TOLERANCE`] and [`INT8_ACCURACY_DROP`].
    pub fn passed(&self) -> bool {
        let accurate = self
            .accuracies()
            .is_none_or(|(f32_acc, int8_acc)| f32_acc - int8_acc <= INT8_ACCURACY_DROP);
        self.probability_worst < INT8_TOLERANCE && accurate
    }

    /// Counts one batch's pairs of logit rows (ONNX Runtime's, candle's), with the
    /// names' `labels` when the objective predicts them.
    fn add(&mut self, rows: impl Iterator<Item = (Vec<f32>, Vec<f32>)>, labels: Option<&[u32]>) {
        let mut correct = self.correct.unwrap_or_default();
        for (row, (got, expected)) in rows.enumerate() {
            let (got, expected) = (softmax(&got, 1.0), softmax(&expected, 1.0));
            for (a, b) in got.iter().zip(&expected) {
                self.probability_worst = self.probability_worst.max((a - b).abs());
            }
            let (answer, reference) = (argmax(&got), argmax(&expected));
            self.rows += 1;
            self.same_answer += usize::from(answer == reference);
            if let Some(label) = labels.and_then(|l| l.get(row)).map(|&l| l as usize) {
                correct.0 += usize::from(reference == label);
                correct.1 += usize::from(answer == label);
            }
        }
        if labels.is_some() {
            self.correct = Some(correct);
        }
    }
}

fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

impl ObjectiveCheck {
    /// Nothing compared yet of `objective`, served as `output`.
    fn new(objective: &str, output: &str) -> Self {
        Self {
            objective: objective.to_owned(),
            output: output.to_owned(),
            names: 0,
            worst: 0.0,
            attention_worst: None,
            samples: Vec::new(),
            quantized: None,
        }
    }

    /// Counts one batch: ONNX Runtime's `got` against `expected`.
    fn add(&mut self, input: &Input, got: &[f32], expected: Expected) {
        self.worst = self.worst.max(input.difference(got, &expected));
        self.names += input.rows;
        if self.samples.len() < SAMPLES && input.rows == BATCH {
            self.samples.push(input.sample(&self.output, expected));
        }
    }

    /// Whether the difference is within [`TOLERANCE`] (an int8 export's: see
    /// [`QuantizedCheck::passed`]).
    pub fn passed(&self) -> bool {
        if let Some(quantized) = &self.quantized {
            return quantized.passed();
        }
        self.worst < TOLERANCE && self.attention_worst.is_none_or(|w| w < TOLERANCE)
    }
}

/// One batch's inputs and candle's outputs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sample {
    /// The output name.
    pub output: String,
    /// Token ids, a row per name.
    pub tokens: Vec<Vec<i64>>,
    /// Segment ids, for pair objectives.
    pub segments: Option<Vec<Vec<i64>>>,
    /// candle's output shape.
    pub shape: Vec<usize>,
    /// candle's outputs, row-major.
    pub expected: Vec<f32>,
}

/// Compares every objective of the run at `run` that the ONNX file `onnx` exports, on
/// the test split of the data `state_data` gives the run's experiment (the caller
/// says where data is read from when the experiment does not).
pub fn compare_export(
    run: &Path,
    onnx: &Path,
    state_data: impl FnOnce(Experiment) -> Experiment,
) -> Result<Vec<ObjectiveCheck>> {
    compare_export_as(run, onnx, WeightFormat::F32, state_data)
}

/// [`compare_export`] of an export whose products take the format `weights`: an int8
/// export is held to [`QuantizedCheck::passed`] instead of [`TOLERANCE`].
pub fn compare_export_as(
    run: &Path,
    onnx: &Path,
    weights: WeightFormat,
    state_data: impl FnOnce(Experiment) -> Experiment,
) -> Result<Vec<ObjectiveCheck>> {
    if crate::run::RunFiles::at(run).is_ensemble() {
        return compare_ensemble(run, onnx, state_data).map(|c| vec![c]);
    }
    let recorded = crate::run::load_experiment(run)?;
    if recorded.model.kind == crate::config::ModelKind::Ngram {
        let model = super::ngram::load(run)?;
        let session = Session::open(state_data(recorded))?;
        return compare_ngram(&model, &session, onnx).map(|c| vec![c]);
    }
    let (experiment, info, model) = crate::run::load(run, &Device::Cpu)?;
    let experiment = state_data(experiment);
    let session = Session::open(experiment)?;
    let mut runtime = OnnxModel::load(onnx).map_err(serve_error)?;
    let mut rng = SmallRng::seed_from_u64(3);
    let mut checks = Vec::new();
    for active in &model.objectives {
        let Some(served) = runtime.info.objectives.get(&active.name).cloned() else {
            continue;
        };
        let mut check = ObjectiveCheck::new(&active.name, &served.output);
        if weights == WeightFormat::Int8 {
            check.quantized = Some(QuantizedCheck::default());
        }
        let predicts_labels = active.objective.class_names().as_ref() == Some(&info.labels);
        for chunk in session.sets.test.chunks(BATCH) {
            let names = session.dataset.batch(chunk);
            let input = Input::trimmed(&active.objective.prepare(&names, &mut rng).input);
            let expected = input.candle(&model, &active.name)?;
            let got = runtime
                .run(
                    &served.output,
                    input.tokens.clone(),
                    input.rows,
                    input.segments.clone(),
                )
                .map_err(serve_error)?;
            if got.shape != expected.shape {
                return Err(XpError::Run(format!(
                    "{}: ONNX Runtime gives shape {:?}, candle {:?}",
                    active.name, got.shape, expected.shape
                )));
            }
            if let Some(output) = &served.attention {
                let maps = input.candle_attention(&model, &active.name)?;
                let got = runtime
                    .run(
                        output,
                        input.tokens.clone(),
                        input.rows,
                        input.segments.clone(),
                    )
                    .map_err(serve_error)?;
                if got.shape != maps.shape {
                    return Err(XpError::Run(format!(
                        "{}: ONNX Runtime's {output} has shape {:?}, candle's {:?}",
                        active.name, got.shape, maps.shape
                    )));
                }
                let worst = input.attention_difference(&got.values, &maps);
                check.attention_worst = Some(check.attention_worst.unwrap_or(0.0).max(worst));
            }
            if let Some(quantized) = &mut check.quantized {
                let labels = (predicts_labels && expected.shape.len() == 2)
                    .then_some(names.labels.as_slice());
                quantized.add(input.token_rows(&got.values, &expected), labels);
            }
            check.add(&input, &got.values, expected);
        }
        checks.push(check);
    }
    Ok(checks)
}

/// The n-gram `model` against its export `onnx` on the test split of `session`: the
/// logits of every test text, in batches as the transformer's check cuts them.
fn compare_ngram(
    model: &xp_ngram::NgramModel,
    session: &Session,
    onnx: &Path,
) -> Result<ObjectiveCheck> {
    let name = super::ngram::objective_name(&session.experiment)?;
    compare_test_texts(session, onnx, name, "the n-gram model", |_, chunk| {
        Expected {
            shape: vec![chunk.len(), model.classifier.classes],
            values: chunk
                .iter()
                .flat_map(|&i| model.logits(&session.dataset.served_row(i)))
                .collect(),
        }
    })
}

/// The export `onnx` of the ensemble in `run` against the ensemble's own test
/// probabilities (its members' candle and n-gram outputs, mixed), as log-probabilities
/// (what the export outputs), on its first member's test split.
fn compare_ensemble(
    run: &Path,
    onnx: &Path,
    state_data: impl FnOnce(Experiment) -> Experiment,
) -> Result<ObjectiveCheck> {
    let record = crate::run::EnsembleRecord::read(run)?;
    let first = record
        .members
        .first()
        .ok_or_else(|| XpError::Run(format!("the ensemble {} has no member", run.display())))?;
    let session = Session::open(state_data(crate::run::load_experiment(&first.run)?))?;
    let saved = crate::run::RunFiles::at(run).test_predictions_csv(&record.objective);
    let table = crate::run::read_predictions_csv(&saved)?;
    let rows = &table.predictions.probabilities;
    if rows.len() != session.sets.test.len() {
        return Err(XpError::Run(format!(
            "{} has {} rows and the data's test split {}: point [data] at the data the ensemble's members were trained on",
            saved.display(),
            rows.len(),
            session.sets.test.len()
        )));
    }
    let floor = super::ensemble::FLOOR_LOG;
    compare_test_texts(
        &session,
        onnx,
        &record.objective,
        "the ensemble",
        |batch, chunk| {
            let rows = &rows[batch * BATCH..batch * BATCH + chunk.len()];
            Expected {
                shape: vec![rows.len(), table.classes.len()],
                values: rows.iter().flatten().map(|q| q.ln().max(floor)).collect(),
            }
        },
    )
}

/// ONNX Runtime's output of objective `name` of `onnx` for the test texts of
/// `session` (tokens as served: `[CLS]`, the text, pads) against `expected` of each
/// batch (its index and the texts' indices), which `what` computed.
fn compare_test_texts(
    session: &Session,
    onnx: &Path,
    name: &str,
    what: &str,
    mut expected: impl FnMut(usize, &[usize]) -> Expected,
) -> Result<ObjectiveCheck> {
    let mut runtime = OnnxModel::load(onnx).map_err(serve_error)?;
    let served = runtime
        .info
        .objectives
        .get(name)
        .cloned()
        .ok_or_else(|| XpError::Run(format!("{} exports no {name}", onnx.display())))?;
    let mut check = ObjectiveCheck::new(name, &served.output);
    for (batch, chunk) in session.sets.test.chunks(BATCH).enumerate() {
        let names = session.dataset.batch(chunk);
        let input = Input::trimmed(&EncoderIds::plain(names.tokens, names.seq_len));
        let expected = expected(batch, chunk);
        let got = runtime
            .run(&served.output, input.tokens.clone(), input.rows, None)
            .map_err(serve_error)?;
        if got.shape != expected.shape {
            return Err(XpError::Run(format!(
                "{name}: ONNX Runtime gives shape {:?}, {what} {:?}",
                got.shape, expected.shape
            )));
        }
        check.add(&input, &got.values, expected);
    }
    Ok(check)
}

/// One batch as both runtimes read it: columns after the last token of every row
/// cut off (a batch shorter than training's sequence length).
struct Input {
    rows: usize,
    seq: usize,
    tokens: Vec<i64>,
    segments: Option<Vec<i64>>,
}

/// candle's output of one batch.
struct Expected {
    shape: Vec<usize>,
    values: Vec<f32>,
}

impl Expected {
    fn of(tensor: &Tensor) -> Result<Self> {
        Ok(Self {
            shape: tensor.dims().to_vec(),
            values: tensor.flatten_all()?.to_vec1::<f32>()?,
        })
    }
}

impl Input {
    fn trimmed(ids: &EncoderIds) -> Self {
        let rows = ids.tokens.len() / ids.seq_len.max(1);
        let seq = ids
            .tokens
            .chunks(ids.seq_len)
            .map(|row| row.iter().rposition(|&t| t != PAD_ID).map_or(1, |p| p + 1))
            .max()
            .unwrap_or(1);
        let columns = |values: &[u32]| -> Vec<i64> {
            values
                .chunks(ids.seq_len)
                .flat_map(|row| row[..seq].iter().map(|&v| v as i64))
                .collect()
        };
        Self {
            rows,
            seq,
            tokens: columns(&ids.tokens),
            segments: ids.segments.as_deref().map(columns),
        }
    }

    /// The batch as candle tensors: tokens and segments.
    fn tensors(&self) -> Result<(Tensor, Option<Tensor>)> {
        let as_tensor = |values: &[i64]| -> Result<Tensor> {
            let ids: Vec<u32> = values.iter().map(|&v| v as u32).collect();
            Ok(Tensor::from_vec(ids, (self.rows, self.seq), &Device::Cpu)?)
        };
        let segments = self.segments.as_deref().map(as_tensor).transpose()?;
        Ok((as_tensor(&self.tokens)?, segments))
    }

    fn candle(&self, model: &Model, objective: &str) -> Result<Expected> {
        let (tokens, segments) = self.tensors()?;
        let logits = model
            .serve(objective, &tokens, segments.as_ref())
            .map_err(|e| XpError::Run(format!("candle's {objective}: {e}")))?;
        Expected::of(&logits)
    }

    fn candle_attention(&self, model: &Model, objective: &str) -> Result<Expected> {
        let (tokens, segments) = self.tensors()?;
        let (_, maps) = model
            .serve_with_attention(objective, &tokens, segments.as_ref())
            .map_err(|e| XpError::Run(format!("candle's attention for {objective}: {e}")))?;
        Expected::of(&maps)
    }

    /// The largest difference of attention weights `(layers, batch, heads, seq, seq)`,
    /// over the rows of token queries (a pad query's row is unspecified).
    fn attention_difference(&self, got: &[f32], expected: &Expected) -> f32 {
        let [_, batch, heads, seq, _] = expected.shape[..] else {
            return f32::INFINITY;
        };
        got.chunks(seq)
            .zip(expected.values.chunks(seq))
            .enumerate()
            .filter(|(row, _)| {
                let (query, row) = (row % seq, row / seq);
                let name = (row / heads) % batch;
                self.tokens[name * seq + query] != PAD_ID as i64
            })
            .flat_map(|(_, (a, b))| a.iter().zip(b).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f32::max)
    }

    /// Pairs of output rows (ONNX Runtime's, candle's) over the last axis: every row of
    /// a per-name output, the token positions' of a per-position one.
    fn token_rows<'a>(
        &'a self,
        got: &'a [f32],
        expected: &'a Expected,
    ) -> impl Iterator<Item = (Vec<f32>, Vec<f32>)> + 'a {
        let width = expected.shape.last().copied().unwrap_or(1).max(1);
        let per_position = expected.shape.len() == 3;
        got.chunks(width)
            .zip(expected.values.chunks(width))
            .enumerate()
            .filter(move |(i, _)| !per_position || self.tokens[*i] != PAD_ID as i64)
            .map(|(_, (a, b))| (a.to_vec(), b.to_vec()))
    }

    /// The largest difference. Per-position outputs count at token positions only:
    /// what an encoder leaves at a pad position is unspecified (candle skips pads).
    fn difference(&self, got: &[f32], expected: &Expected) -> f32 {
        let per_position = match expected.shape[..] {
            [_, _, width] => width,
            _ => 0,
        };
        got.iter()
            .zip(&expected.values)
            .enumerate()
            .filter(|(i, _)| per_position == 0 || self.tokens[i / per_position] != PAD_ID as i64)
            .map(|(_, (a, b))| (a - b).abs())
            .fold(0.0, f32::max)
    }

    fn sample(&self, output: &str, expected: Expected) -> Sample {
        let rows = |values: &[i64]| values.chunks(self.seq).map(<[i64]>::to_vec).collect();
        Sample {
            output: output.to_owned(),
            tokens: rows(&self.tokens),
            segments: self.segments.as_deref().map(rows),
            shape: expected.shape,
            expected: expected.values,
        }
    }
}

/// An ONNX Runtime error, as the framework's.
fn serve_error(e: xp_serve::ServeError) -> XpError {
    XpError::Run(format!("ONNX Runtime: {e}"))
}
