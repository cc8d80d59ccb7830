//! A trained [`Model`] as one ONNX model: one encoder pass per kind of input the served
//! objectives read (bidirectional, causal, with segments), each objective's own export
//! of its head, and the metadata a server needs.

pub mod check;
pub mod ensemble;
mod file;
pub mod ngram;

pub use file::{verdict, write_run, Written};

pub use xp_models::onnx::WeightFormat;

use crate::config::Experiment;
use crate::error::{Result, XpError};
use crate::model::{DataInfo, Model};
use candle_core::{DType, Tensor};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use xp_format::{attention_output, ModelMetadata, ServedObjective, Serving};
use xp_models::onnx::{stack_layers, Dim, Message, OnnxGraph};
use xp_models::{Causal, EncoderInput, Mode};

/// The result of [`to_onnx`].
pub struct OnnxExport {
    /// The serialised `ModelProto`.
    pub bytes: Vec<u8>,
    /// Exported objectives by name.
    pub objectives: BTreeMap<String, ServedObjective>,
    /// Objectives without an ONNX form, left out.
    pub skipped: Vec<String>,
}

/// What an export holds beyond the objectives' outputs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Add each encoder pass's attention weights as an output
    /// (`attention`, `attention_causal`, `attention_pairs`), `(layers, batch, heads,
    /// seq, seq)`, named in each objective's metadata.
    pub attention: bool,
    /// The format of the weight products: f32, or dynamic int8 quantization (a
    /// transformer run's only).
    pub weights: WeightFormat,
}

/// Builds the ONNX model of `model`.
pub fn to_onnx(
    model: &Model,
    exp: &Experiment,
    info: &DataInfo,
    options: ExportOptions,
) -> Result<OnnxExport> {
    let mut g = OnnxGraph::with_weights(options.weights);
    let token_dims = [Dim::Dynamic("batch"), Dim::Dynamic("seq")];
    let tokens = g.input_i64("tokens", &token_dims);
    let served: Vec<_> = model
        .objectives
        .iter()
        .filter_map(|a| a.objective.serving().map(|s| (a, s)))
        .collect();
    let segments = served
        .iter()
        .any(|(_, s)| s.segments)
        .then(|| g.input_i64("segments", &token_dims));
    let mut passes: HashMap<(bool, bool), String> = HashMap::new();
    let mut objectives = BTreeMap::new();
    for (active, serving) in &served {
        let key = (serving.causal, serving.segments);
        let hidden = match passes.get(&key) {
            Some(h) => h.clone(),
            None => {
                let seg = segments.as_deref().filter(|_| serving.segments);
                let (h, maps) =
                    model
                        .encoder
                        .to_onnx_with_attention(&mut g, &tokens, seg, serving.causal)?;
                if options.attention {
                    let stacked = stack_layers(&mut g, &maps);
                    g.output_f32(&attention_output(*serving), &stacked, &attention_dims());
                }
                passes.insert(key, h.clone());
                h
            }
        };
        let prefix = format!("heads.{}", active.name);
        let out = active
            .objective
            .head()
            .export(&mut g, &hidden, &tokens, &prefix)?;
        let mut entry =
            ServedObjective::new(&active.name, *serving, active.objective.class_names());
        entry.attention = options.attention.then(|| attention_output(*serving));
        let rank = sample_output(model, &active.name, serving)?;
        g.output_f32(&entry.output, &out, &output_dims(&rank));
        objectives.insert(active.name.clone(), entry);
    }
    if objectives.is_empty() {
        return Err(XpError::Run(
            "none of the run's objectives has an ONNX export".into(),
        ));
    }
    let skipped = model
        .objectives
        .iter()
        .filter(|a| !objectives.contains_key(&a.name))
        .map(|a| a.name.clone())
        .collect();
    let readable_len = model.encoder.positions().served_rows()? - 1;
    let metadata = metadata(
        exp,
        info,
        readable_len,
        objectives.clone(),
        weights_hash(model)?,
    );
    Ok(OnnxExport {
        bytes: encode(g, &exp.name, &metadata)?,
        objectives,
        skipped,
    })
}

/// The graph `g` as a serialised model named `name` with `metadata`.
fn encode(g: OnnxGraph, name: &str, metadata: &[(String, String)]) -> Result<Vec<u8>> {
    g.finish(name, metadata)
        .write_to_bytes()
        .map_err(|e| XpError::Run(format!("could not encode the ONNX model: {e}")))
}

/// The export of a graph `g` that computes one class objective's logits, `logits`
/// `(batch, labels)` over the `tokens` input (an n-gram baseline, an ensemble): served
/// as objective `name` of `exp` (on the data `info`), reading `readable_len` tokens a
/// row, its weights named by `weights_sha256`.
fn class_export(
    mut g: OnnxGraph,
    logits: &str,
    name: &str,
    exp: &Experiment,
    info: &DataInfo,
    readable_len: usize,
    weights_sha256: String,
) -> Result<OnnxExport> {
    let entry = ServedObjective::new(name, Serving::default(), Some(info.labels.clone()));
    let classes = Dim::Fixed(info.labels.len());
    g.output_f32(&entry.output, logits, &[Dim::Dynamic("batch"), classes]);
    let objectives = BTreeMap::from([(name.to_owned(), entry)]);
    let meta = metadata(exp, info, readable_len, objectives.clone(), weights_sha256);
    Ok(OnnxExport {
        bytes: encode(g, &exp.name, &meta)?,
        objectives,
        skipped: Vec::new(),
    })
}

/// Axes of an attention output: `(layers, batch, heads, seq, seq)`.
fn attention_dims() -> Vec<Dim> {
    vec![
        Dim::Dynamic("layers"),
        Dim::Dynamic("batch"),
        Dim::Dynamic("heads"),
        Dim::Dynamic("seq"),
        Dim::Dynamic("seq"),
    ]
}

/// Output axes: `batch`, then `seq` for per-position outputs, then the fixed class axis.
fn output_dims(shape: &[usize]) -> Vec<Dim> {
    let mut dims = vec![Dim::Dynamic("batch")];
    if shape.len() == 3 {
        dims.push(Dim::Dynamic("seq"));
    }
    dims.push(Dim::Fixed(shape.last().copied().unwrap_or(0)));
    dims
}

/// The shape of the objective's served output on a one-row input.
fn sample_output(model: &Model, name: &str, serving: &Serving) -> Result<Vec<usize>> {
    let row: Vec<u32> = vec![crate::data::CLS, 4, 5];
    let tokens = Tensor::from_vec(row, (1, 3), &model.device)?;
    let segments = serving
        .segments
        .then(|| Tensor::zeros((1, 3), DType::U32, &model.device))
        .transpose()?;
    Ok(model
        .serve(name, &tokens, segments.as_ref())?
        .dims()
        .to_vec())
}

/// The metadata of an export of `exp`'s model, its encoder reading `readable_len`
/// tokens a row; `weights_sha256` names its weights.
fn metadata(
    exp: &Experiment,
    info: &DataInfo,
    readable_len: usize,
    objectives: BTreeMap<String, ServedObjective>,
    weights_sha256: String,
) -> Vec<(String, String)> {
    let meta = ModelMetadata {
        experiment: exp.name.clone(),
        experiment_toml: exp.to_toml(),
        vocab: info.vocab.all_tokens(),
        specials: info
            .vocab
            .specials()
            .into_iter()
            .map(|(s, i)| (s.to_owned(), i64::from(i)))
            .collect(),
        labels: info.labels.clone(),
        min_len: exp.data.reading().min_len,
        max_len: info.max_len,
        readable_len,
        folding: info.normalization.describe(),
        normalization: info.normalization,
        objectives,
        weights_sha256,
    };
    meta.to_pairs()
}

/// The ONNX model of the finished run in `run`, whatever its model kind (or of the
/// ensemble there), and the experiment it was trained with.
pub fn export_run(
    run: &std::path::Path,
    options: ExportOptions,
) -> Result<(Experiment, OnnxExport)> {
    if crate::run::RunFiles::at(run).is_ensemble() {
        if options.attention {
            return Err(XpError::Run(format!(
                "{} is an ensemble, which has no attention maps of its own: export a member with --attention",
                run.display()
            )));
        }
        only_f32(run, options)?;
        return ensemble::to_onnx(run);
    }
    let experiment = crate::run::load_experiment(run)?;
    if experiment.model.kind == crate::config::ModelKind::Ngram {
        only_f32(run, options)?;
        let info = crate::run::load_info(&crate::run::RunFiles::at(run))?;
        let exported = ngram::to_onnx(&ngram::load(run)?, &experiment, &info)?;
        return Ok((experiment, exported));
    }
    let (experiment, info, model) = crate::run::load(run, &candle_core::Device::Cpu)?;
    let exported = to_onnx(&model, &experiment, &info, options)?;
    Ok((experiment, exported))
}

/// Refuses to quantize `run`, which is not a transformer run.
fn only_f32(run: &std::path::Path, options: ExportOptions) -> Result<()> {
    if options.weights == WeightFormat::F32 {
        return Ok(());
    }
    Err(XpError::Run(format!(
        "{} is not a transformer run: int8 quantization applies to a transformer's weight products; export it without --quantize (an ensemble's members can each be exported with it)",
        run.display()
    )))
}

/// SHA-256 over every parameter's name and little-endian f32 values, in name order.
pub fn weights_hash(model: &Model) -> Result<String> {
    let mut vars = model.params.vars();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = Sha256::new();
    for (name, var) in vars {
        hasher.update(name.as_bytes());
        let values = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        for v in values {
            hasher.update(v.to_le_bytes());
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

impl Model {
    /// Candle inference for objective `name`: eval-mode encoder over `tokens`
    /// `(batch, seq)` u32 (and `segments` when it reads them), then its served output.
    pub fn serve(&self, name: &str, tokens: &Tensor, segments: Option<&Tensor>) -> Result<Tensor> {
        let (active, serving) = self.served(name)?;
        let input = served_input(tokens, segments, serving);
        let hidden = self.encoder.forward(input, &Mode::eval())?;
        Ok(active.objective.head().serve(&hidden, tokens)?)
    }

    /// Like [`Model::serve`], also returning the attention weights of the encoder pass,
    /// every layer stacked: `(layers, batch, heads, seq, seq)`.
    pub fn serve_with_attention(
        &self,
        name: &str,
        tokens: &Tensor,
        segments: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor)> {
        let (active, serving) = self.served(name)?;
        let input = served_input(tokens, segments, serving);
        let out = self.encoder.forward_with_attention(input, &Mode::eval())?;
        let maps = Tensor::stack(&out.attention, 0)?;
        Ok((active.objective.head().serve(&out.hidden, tokens)?, maps))
    }

    /// Objective `name` and how it is served.
    fn served(&self, name: &str) -> Result<(&crate::model::Active, Serving)> {
        let active = self
            .objectives
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| XpError::Run(format!("the model has no objective {name}")))?;
        let serving = active
            .objective
            .serving()
            .ok_or_else(|| XpError::Run(format!("objective {name} is not served")))?;
        Ok((active, serving))
    }
}

/// The encoder input of a served objective.
fn served_input<'a>(
    tokens: &'a Tensor,
    segments: Option<&'a Tensor>,
    serving: Serving,
) -> EncoderInput<'a> {
    EncoderInput {
        tokens,
        segments: segments.filter(|_| serving.segments),
        causal: if serving.causal {
            Causal::All
        } else {
            Causal::None
        },
    }
}
