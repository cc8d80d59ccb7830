//! The encoder and the experiment's objectives, built together over one [`ParamStore`].
//! Parameter names: `encoder.*` and `heads.NAME.*` (the checkpoint's keys).

use crate::config::{Experiment, Freeze};
use crate::data::{Normalization, Vocab};
use crate::error::{Result, XpError};
use crate::objective::{
    find, BuildContext, DeviceBatch, HeadConfig, NameBatch, Objective, ObjectiveSettings, Prepared,
};
use crate::params::ParamStore;
use crate::stack::Stacked;
use candle_core::{Device, Tensor};
use rand::rngs::SmallRng;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};
use xp_models::{Encoder, EncoderConfig, Kernels, Mode};

/// What a trained model needs to know of its data; saved as `vocab.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataInfo {
    /// Token vocabulary.
    pub vocab: Vocab,
    /// Class labels, by id; empty for unlabeled data.
    pub labels: Vec<String>,
    /// Why the data has no labels, when it has none (for the objectives that need them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabeled: Option<String>,
    /// Longest text, in tokens.
    pub max_len: usize,
    /// How texts become tokens (files of older xp, which have none, folded to ASCII).
    #[serde(default = "reference_rule")]
    pub normalization: Normalization,
}

fn reference_rule() -> Normalization {
    Normalization::REFERENCE
}

impl DataInfo {
    /// Reads `vocab.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| XpError::read(path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            XpError::Run(format!(
                "{} is not a vocabulary file written by xp: {e}",
                path.display()
            ))
        })
    }

    /// Writes `vocab.json` (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(|e| XpError::Run(e.to_string()))?;
        crate::files::write_atomic(path, json.as_bytes())
    }

    /// The header metadata of a checkpoint: this, as JSON under [`DataInfo::KEY`], so
    /// that a checkpoint alone says how to read texts for it.
    pub fn metadata(&self) -> Result<std::collections::HashMap<String, String>> {
        let json = serde_json::to_string(self).map_err(|e| XpError::Run(e.to_string()))?;
        Ok([(Self::KEY.to_owned(), json)].into())
    }

    /// The checkpoint metadata key of [`DataInfo::metadata`].
    pub const KEY: &'static str = "xp.data";

    /// The data the checkpoint at `path` was trained on, where its header says.
    pub fn of_checkpoint(path: &Path) -> Result<Option<Self>> {
        let metadata = ParamStore::metadata(path)?;
        metadata
            .get(Self::KEY)
            .map(|json| {
                serde_json::from_str(json).map_err(|e| {
                    XpError::Run(format!(
                        "{}: its {} metadata does not read: {e}",
                        path.display(),
                        Self::KEY
                    ))
                })
            })
            .transpose()
    }

    /// What differs between this and `other`, in words.
    pub fn differences(&self, other: &Self) -> Vec<String> {
        let mut out = Vec::new();
        if self.vocab != other.vocab {
            let (a, b) = (self.vocab.tokens(), other.vocab.tokens());
            let gone: String = a
                .iter()
                .filter(|t| b.binary_search(t).is_err())
                .take(10)
                .cloned()
                .collect();
            let new: String = b
                .iter()
                .filter(|t| a.binary_search(t).is_err())
                .take(10)
                .cloned()
                .collect();
            out.push(format!(
                "tokens then {}, now {} (gone: {gone:?}, new: {new:?})",
                self.vocab.len(),
                other.vocab.len()
            ));
        }
        if self.labels != other.labels {
            out.push(format!(
                "labels then {:?}, now {:?}",
                self.labels, other.labels
            ));
        }
        if self.normalization != other.normalization {
            out.push(format!(
                "normalisation then {}, now {}",
                self.normalization.name(),
                other.normalization.name()
            ));
        }
        if self.max_len != other.max_len {
            out.push(format!(
                "longest text then {}, now {} tokens",
                self.max_len, other.max_len
            ));
        }
        if out.is_empty() {
            out.push("the reason a text has no label".into());
        }
        out
    }
}

/// One objective of the experiment, with its generic settings.
pub struct Active {
    /// Registered name.
    pub name: String,
    /// Weight and detach.
    pub settings: ObjectiveSettings,
    /// Its own fields, resolved: the registered defaults under the experiment's.
    pub config: toml::Table,
    /// The objective.
    pub objective: Box<dyn Objective>,
}

impl Active {
    /// Every field of the objective as it trains: its own, `weight` and `detach`.
    pub fn resolved_fields(&self) -> toml::Table {
        let mut table = self.config.clone();
        table.insert("weight".into(), toml::Value::Float(self.settings.weight));
        table.insert("detach".into(), toml::Value::Boolean(self.settings.detach));
        table
    }
}

/// Every field of objective `name` written as `table`: the registered defaults under
/// the table's own fields, `weight` and `detach`.
pub fn resolved_fields(name: &str, table: &toml::Table) -> Result<toml::Table> {
    let entry = find(name)?;
    let (settings, own) = ObjectiveSettings::split(entry.name, table)?;
    let mut fields = (entry.defaults)();
    fields.extend(own);
    fields.insert("weight".into(), toml::Value::Float(settings.weight));
    fields.insert("detach".into(), toml::Value::Boolean(settings.detach));
    Ok(fields)
}

/// One objective's result on a batch.
pub struct ObjectiveOutput {
    /// Mean loss (a scalar).
    pub loss: Tensor,
    /// `(targets, classes)`.
    pub logits: Tensor,
    /// `(targets,)` u32.
    pub targets: Tensor,
}

/// The encoder, the heads, and their parameters.
pub struct Model {
    /// The shared encoder.
    pub encoder: Encoder,
    /// The experiment's objectives, sorted by name.
    pub objectives: Vec<Active>,
    /// Every parameter.
    pub params: ParamStore,
    /// Where the tensors live.
    pub device: Device,
    /// The layers' implementation, chosen from `train.kernels` and the device.
    pub kernels: Kernels,
    /// What does not train (a stage's `freeze`); a frozen encoder passes no gradient
    /// back, as if every objective were detached.
    pub frozen: Freeze,
}

impl Model {
    /// Builds the encoder and every objective of `exp` over `params`.
    pub fn build(
        exp: &Experiment,
        info: &DataInfo,
        params: ParamStore,
        device: &Device,
    ) -> Result<Self> {
        let entries = exp
            .objectives
            .keys()
            .map(|name| find(name))
            .collect::<Result<Vec<_>, _>>()?;
        let m = &exp.model;
        let kernels = exp.train.kernels.resolve(device, ParamStore::DTYPE)?;
        let config = EncoderConfig {
            vocab_size: info.vocab.len(),
            max_positions: info.max_len + 2,
            dim: m.dim,
            heads: m.heads,
            layers: m.layers,
            ffn_dim: m.ffn_dim,
            dropout: m.dropout,
            input_dropout: m.input_dropout,
            conv_width: m.conv_width,
            hashed_ngrams: m.hashed_ngrams,
            hashed_ngram_length: m.hashed_ngram_length,
            activation: m.activation,
            norm_first: m.norm_first,
            positions: m.positions,
            segments: entries.iter().map(|e| e.segments).max().unwrap_or(0),
            kernels,
        };
        let vb = params.var_builder(device);
        let encoder = Encoder::new(&config, vb.pp("encoder"))?;
        let head = HeadConfig {
            dim: m.dim,
            activation: m.activation,
            dropout: m.head_dropout,
            tie_embeddings: m.tie_embeddings,
            kernels,
        };
        let mut objectives = Vec::new();
        for entry in entries {
            let (settings, own) =
                ObjectiveSettings::split(entry.name, &exp.objectives[entry.name])?;
            let ctx = BuildContext {
                name: entry.name,
                vocab: &info.vocab,
                labels: &info.labels,
                unlabeled: info.unlabeled.as_deref(),
                max_len: info.max_len,
                batch_size: exp.train.batch_size,
                head,
                token_embeddings: encoder.token_embeddings(),
            };
            let objective = (entry.build)(&own, &ctx, vb.pp("heads").pp(entry.name))?;
            let mut config = (entry.defaults)();
            config.extend(own);
            objectives.push(Active {
                name: entry.name.to_owned(),
                settings,
                config,
                objective,
            });
        }
        Ok(Self {
            encoder,
            objectives,
            params,
            device: device.clone(),
            kernels,
            frozen: Freeze::default(),
        })
    }

    /// The parameters that train (all but the frozen ones), sorted by name.
    pub fn trainable(&self) -> Vec<(String, candle_core::Var)> {
        let mut vars = self.params.vars();
        vars.retain(|(name, _)| !self.frozen.holds(name));
        vars
    }

    /// Each objective's view of `batch`, in objective order.
    /// Draws the batch's masking seed first (see [`NameBatch::mask_seed`]).
    pub fn prepare(&self, batch: &NameBatch, rng: &mut SmallRng) -> Vec<Prepared> {
        self.prepare_timed(batch, rng).0
    }

    /// Like [`Model::prepare`], with the time each objective's transform took.
    pub fn prepare_timed(
        &self,
        batch: &NameBatch,
        rng: &mut SmallRng,
    ) -> (Vec<Prepared>, Vec<Duration>) {
        let mut batch = batch.clone();
        batch.mask_seed = rng.random();
        self.objectives
            .iter()
            .map(|a| {
                let start = Instant::now();
                let prepared = a.objective.prepare(&batch, rng);
                (prepared, start.elapsed())
            })
            .unzip()
    }

    /// Runs the encoder once over every objective's rows (see [`Stacked`]), then each
    /// head on its own rows.
    pub fn forward(&self, prepared: &[Prepared], mode: &Mode) -> Result<Vec<ObjectiveOutput>> {
        let stacked = Stacked::new(prepared, self.encoder.no_segment(), &self.device)?;
        let hidden_all = self.encoder.forward(stacked.input(), mode)?;
        let mut outputs = Vec::with_capacity(prepared.len());
        for (i, (active, p)) in self.objectives.iter().zip(prepared).enumerate() {
            let batch = DeviceBatch::new(p, &self.device)?;
            outputs.push(self.head_output(active, stacked.block(&hidden_all, i)?, batch, mode)?);
        }
        Ok(outputs)
    }

    /// Like [`Model::forward`], with one encoder pass per objective (the plain
    /// definition, kept to test that stacking changes nothing).
    pub fn forward_unstacked(
        &self,
        prepared: &[Prepared],
        mode: &Mode,
    ) -> Result<Vec<ObjectiveOutput>> {
        let mut outputs = Vec::with_capacity(prepared.len());
        for (active, p) in self.objectives.iter().zip(prepared) {
            let batch = DeviceBatch::new(p, &self.device)?;
            let hidden = self.encoder.forward(batch.encoder_input(), mode)?;
            outputs.push(self.head_output(active, hidden, batch, mode)?);
        }
        Ok(outputs)
    }

    /// `sum(weight * loss)` over the objectives.
    pub fn total_loss(&self, outputs: &[ObjectiveOutput]) -> Result<Tensor> {
        self.weighted_loss(outputs, &vec![1.0; outputs.len()])
    }

    /// `sum(weight * share * loss)` over the objectives: a slice's part of the total
    /// loss when `shares` are its shares of each objective's targets.
    pub fn weighted_loss(&self, outputs: &[ObjectiveOutput], shares: &[f64]) -> Result<Tensor> {
        let mut total: Option<Tensor> = None;
        for ((active, out), share) in self.objectives.iter().zip(outputs).zip(shares) {
            let term = (&out.loss * (active.settings.weight * share))?;
            total = Some(match total {
                Some(t) => (t + term)?,
                None => term,
            });
        }
        total.ok_or_else(|| XpError::Run("the experiment has no objective".into()))
    }

    /// One objective's head and loss on its encoder output (detached if it says so, or
    /// if the encoder is frozen).
    fn head_output(
        &self,
        active: &Active,
        hidden: Tensor,
        batch: DeviceBatch,
        mode: &Mode,
    ) -> Result<ObjectiveOutput> {
        let hidden = if active.settings.detach || self.frozen.encoder {
            hidden.detach()
        } else {
            hidden
        };
        let logits = active.objective.logits(&hidden, &batch, mode)?;
        let loss = active.objective.loss(&logits, &batch.targets)?;
        Ok(ObjectiveOutput {
            loss,
            logits,
            targets: batch.targets,
        })
    }
}
