//! The typed experiment: `name`, `seed`, `[data]`, `[model]`, `[train]`, `[objectives.X]`.
//! Every field has the reference's default, so a file states only what differs.

use super::{
    apply_override, parse_table, with_suggestion, ConfigError, InitConfig, Monitor, StageConfig,
};
pub use crate::data::DataConfig;
use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use xp_models::{Activation, Kernels, Positions};
pub use xp_ngram::NgramConfig;

/// One experiment, as read from TOML with overrides applied.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Run directory name (`runs/NAME`).
    pub name: String,
    /// Seed of the split, initialisation, transforms and dropout.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The data, how it is read, and its split.
    #[serde(default)]
    pub data: DataConfig,
    /// The encoder and heads.
    #[serde(default)]
    pub model: ModelConfig,
    /// The optimiser and the loop.
    #[serde(default)]
    pub train: TrainConfig,
    /// Objective name -> its table (`weight`, `detach`, and its own fields). With
    /// stages, the fields of the objectives the stages name.
    #[serde(default)]
    pub objectives: BTreeMap<String, toml::Table>,
    /// Start from another run's best checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<InitConfig>,
    /// Train in stages, one after the other (`[[stages]]`); none: one stage
    /// of `train.steps` over every objective.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageConfig>,
}

fn default_seed() -> u64 {
    Experiment::DEFAULT_SEED
}

/// What kind of model an experiment trains (`model.kind`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// The transformer encoder with the objectives' heads, trained by gradient steps.
    #[default]
    Transformer,
    /// The baseline: character n-gram TF-IDF features and a logistic regression
    /// (`[model.ngram]`), fitted in one go for the experiment's one class objective.
    Ngram,
}

impl ModelKind {
    fn is_transformer(&self) -> bool {
        *self == Self::Transformer
    }
}

fn is_unset(n: &usize) -> bool {
    *n == 0
}

/// The hashed n-gram front's longest n-gram unless set: the baseline's too.
const DEFAULT_NGRAM_LENGTH: usize = 5;

fn is_default_ngram_length(n: &usize) -> bool {
    *n == DEFAULT_NGRAM_LENGTH
}

fn is_default_ngram(config: &NgramConfig) -> bool {
    *config == NgramConfig::default()
}

/// `[model]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// `transformer` (the default) or `ngram` (the n-gram baseline).
    #[serde(skip_serializing_if = "ModelKind::is_transformer")]
    pub kind: ModelKind,
    /// The n-gram baseline's lengths and regularisation (`kind = "ngram"`).
    #[serde(skip_serializing_if = "is_default_ngram")]
    pub ngram: NgramConfig,
    /// Width.
    pub dim: usize,
    /// Attention heads (divide `dim`).
    pub heads: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Feed-forward width.
    pub ffn_dim: usize,
    /// Dropout inside the encoder layers.
    pub dropout: f32,
    /// Dropout on the input embeddings.
    pub input_dropout: f32,
    /// Width of a convolutional front over the input embeddings: each position also
    /// reads the `conv_width` characters around it before the first layer (odd, e.g. 3;
    /// 0, the default: none).
    #[serde(skip_serializing_if = "is_unset")]
    pub conv_width: usize,
    /// Buckets of a hashed n-gram front: each position also reads learned vectors of
    /// the character n-grams (2 to `hashed_ngram_length` characters) that end there,
    /// hashed into this many rows (e.g. 16384; 0, the default: none).
    #[serde(skip_serializing_if = "is_unset")]
    pub hashed_ngrams: usize,
    /// Longest n-gram of the hashed front, in characters (2 to 8; default 5).
    #[serde(skip_serializing_if = "is_default_ngram_length")]
    pub hashed_ngram_length: usize,
    /// Dropout inside the heads.
    pub head_dropout: f32,
    /// `relu` or `gelu` (exact erf form).
    pub activation: Activation,
    /// Pre-norm layers.
    pub norm_first: bool,
    /// `sinusoidal` or `learned`.
    pub positions: Positions,
    /// Token-predicting heads use the transposed token embedding as output layer.
    pub tie_embeddings: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            kind: ModelKind::Transformer,
            ngram: NgramConfig::default(),
            dim: 128,
            heads: 2,
            layers: 2,
            ffn_dim: 512,
            dropout: 0.2,
            input_dropout: 0.0,
            conv_width: 0,
            hashed_ngrams: 0,
            hashed_ngram_length: DEFAULT_NGRAM_LENGTH,
            head_dropout: 0.2,
            activation: Activation::Relu,
            norm_first: false,
            positions: Positions::Sinusoidal,
            tie_embeddings: false,
        }
    }
}

/// Which implementation of the layers a model runs (`train.kernels`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum KernelChoice {
    /// The fastest for the device: fused CPU kernels on the CPU, composed elsewhere.
    #[default]
    Auto,
    /// The fused CPU kernels (CPU only).
    Fused,
    /// candle's composed ops everywhere: the same maths, slower on the CPU; for
    /// comparisons.
    Composed,
}

impl KernelChoice {
    /// The kernels a model with parameters on `device` in `dtype` runs.
    pub fn resolve(self, device: &Device, dtype: DType) -> Result<Kernels, ConfigError> {
        match self {
            Self::Auto => Ok(Kernels::auto(device, dtype)),
            Self::Composed => Ok(Kernels::Composed),
            Self::Fused if Kernels::fused_runs_on(device, dtype) => Ok(Kernels::Fused),
            Self::Fused => Err(ConfigError::invalid(
                "train.kernels",
                format!(
                    "the fused kernels run on the CPU in f32 only, not on {device:?} in {dtype:?}: use \"auto\" or \"composed\""
                ),
            )),
        }
    }
}

/// The optimiser.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam with L2 weight decay added to the gradient (PyTorch `Adam`).
    Adam,
    /// Adam with decoupled weight decay (PyTorch `AdamW`).
    Adamw,
}

/// `[train]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Optimiser steps (with stages: their sum, whatever is written here).
    pub steps: usize,
    /// Names per step; the last partial batch of an epoch is dropped.
    pub batch_size: usize,
    /// Names per evaluation batch. Keep it small: MLM decides per batch whether the
    /// chosen characters are shown as `[MASK]` (85%) or not, so with few large batches
    /// its evaluation metrics swing with a handful of draws.
    pub eval_batch_size: usize,
    /// `adam` or `adamw`.
    pub optimizer: OptimizerKind,
    /// Peak learning rate.
    pub lr: f64,
    /// Weight decay (L2 for adam, decoupled for adamw).
    pub weight_decay: f64,
    /// Linear warm-up steps, then cosine decay to zero at the last step.
    pub warmup: usize,
    /// Global gradient-norm clip (0 disables).
    pub grad_clip: f64,
    /// Evaluate (and maybe checkpoint) every this many steps.
    pub eval_every: usize,
    /// Stop after this many evaluations without a better monitored figure (0 disables).
    pub patience: usize,
    /// The validation figure that picks the best checkpoint and drives early stopping:
    /// `"loss"` (the weighted total), `"OBJ.loss"` or `"OBJ.accuracy"` (e.g. `"CLS.accuracy"`).
    pub monitor: String,
    /// `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// CPU threads, 0 for one per core: each batch is cut into this many slices of
    /// rows that train at once, their gradients summed. Same seed and same `threads`,
    /// same numbers, on any machine of the same vector width (AVX-512 or not).
    pub threads: usize,
    /// Decay of an exponential moving average of the weights, evaluated and
    /// checkpointed instead of the last step's (e.g. 0.999); 0 turns it off.
    pub ema: f64,
    /// `auto` (default), `fused` or `composed`: the layers' implementation. Both give
    /// the same maths; the fused CPU kernels are faster.
    pub kernels: KernelChoice,
    /// Write a resume point every this many steps; 0: at every evaluation.
    pub checkpoint_every: usize,
    /// Steps whose loss or gradient is not finite that may be skipped (no update)
    /// before the run stops; 0: stop at the first.
    pub skip_nonfinite: usize,
    /// The memory a run may need, in GB, before it is refused (see
    /// [`crate::memory`]); 0: what the machine has available.
    #[serde(skip_serializing_if = "is_zero")]
    pub memory_gb: f64,
    /// Batches of like length: each epoch's shuffled order is cut into pools of this
    /// many batches, each pool sorted by length and cut into batches, the batches
    /// shuffled, and each padded only to its longest text; 0 (the default): batches as
    /// drawn, padded to the longest text of the data.
    #[serde(skip_serializing_if = "is_unset")]
    pub bucket: usize,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 20_000,
            batch_size: 32,
            eval_batch_size: 32,
            optimizer: OptimizerKind::Adam,
            lr: 1e-4,
            weight_decay: 1e-4,
            warmup: 250,
            grad_clip: 3.0,
            eval_every: 500,
            patience: 10,
            monitor: "loss".into(),
            device: "cpu".into(),
            threads: 2,
            ema: 0.0,
            kernels: KernelChoice::Auto,
            checkpoint_every: 0,
            skip_nonfinite: 0,
            memory_gb: 0.0,
            bucket: 0,
        }
    }
}

impl Experiment {
    /// The seed of an experiment that states none (the reference's).
    pub const DEFAULT_SEED: u64 = 1234;

    /// Reads `path`, applies each `key=value` of `overrides`, and validates. The data
    /// paths the file names are read from the file's folder, those of `overrides` from
    /// the working folder.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, ConfigError> {
        let text = read(path)?;
        let origin = path.display().to_string();
        let base = path.parent().unwrap_or(Path::new(""));
        Self::parse_in(&text, &origin, overrides, Some(base))
            .map_err(|e| e.locate(&origin, &text, overrides))
    }

    /// Reads the experiment a run recorded in its folder (`experiment.toml`): its paths
    /// as recorded, and read as the xp that wrote it read them (one from before the
    /// `[data]` normalisation settings folded its texts to ASCII).
    pub fn load_recorded(path: &Path, overrides: &[String]) -> Result<Self, ConfigError> {
        Self::parse_recorded(&read(path)?, &path.display().to_string(), overrides)
    }

    /// [`Experiment::load_recorded`] of a recorded experiment's text.
    pub fn parse_recorded(
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Self, ConfigError> {
        let mut exp = Self::parse(text, origin, overrides)?;
        exp.data.as_recorded_before_normalization();
        Ok(exp)
    }

    /// Parses TOML `text` (from `origin`, for messages), applies `overrides`, validates.
    pub fn parse(text: &str, origin: &str, overrides: &[String]) -> Result<Self, ConfigError> {
        Self::parse_unplaced(text, origin, overrides).map_err(|e| e.locate(origin, text, overrides))
    }

    /// [`Experiment::parse`] without placing a field's error in `text`: for callers
    /// that know better where the field was written (a sweep's axes).
    pub fn parse_unplaced(
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Self, ConfigError> {
        Self::parse_in(text, origin, overrides, None)
    }

    /// Parses `text`, its relative data paths made relative to `base` when given, then
    /// applies `overrides` and validates.
    fn parse_in(
        text: &str,
        origin: &str,
        overrides: &[String],
        base: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_owned(),
            message: with_suggestion(e.to_string().trim_end(), &[]),
        })?;
        if let Some(base) = base {
            crate::data::rebase_paths(&mut doc, base);
        }
        for o in overrides {
            apply_override(&mut doc, o)?;
        }
        let mut exp: Experiment = parse_table(&doc, "")?;
        if !exp.stages.is_empty() {
            // A run in stages trains each stage's steps: `train.steps` is their sum.
            exp.train.steps = exp.staged_steps();
        }
        exp.validate()?;
        Ok(exp)
    }

    /// Checks the values the types cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (d, m, t) = (&self.data, &self.model, &self.train);
        if self.name.trim().is_empty() || self.name.contains(['/', '\\']) || self.name == ".." {
            return Err(ConfigError::invalid(
                "name",
                "must be a plain directory name, e.g. \"four_losses\"",
            ));
        }
        d.validate().map_err(|e| match e {
            crate::data::DataError::Invalid { field, reason } => {
                ConfigError::invalid(&field, reason)
            }
            other => ConfigError::invalid("data", other.to_string()),
        })?;
        if m.dim == 0 || m.heads == 0 || m.dim % m.heads != 0 {
            return Err(ConfigError::invalid(
                "model.dim",
                format!("dim {} is not divisible by heads {}", m.dim, m.heads),
            ));
        }
        if m.layers == 0 || m.ffn_dim == 0 {
            return Err(ConfigError::invalid(
                "model.layers",
                "layers and ffn_dim must be at least 1",
            ));
        }
        if m.conv_width.is_multiple_of(2) && m.conv_width != 0 || m.conv_width > 15 {
            return Err(ConfigError::invalid(
                "model.conv_width",
                format!(
                    "{} is not an odd width up to 15: use e.g. 3 or 5, or 0 for no front",
                    m.conv_width
                ),
            ));
        }
        if m.hashed_ngrams > 1 << 22 || !(2..=8).contains(&m.hashed_ngram_length) {
            return Err(ConfigError::invalid(
                "model.hashed_ngrams",
                format!(
                    "{} buckets of n-grams up to {} characters: use up to 4194304 buckets \
                     (e.g. 16384; 0 for no front) and a hashed_ngram_length from 2 to 8",
                    m.hashed_ngrams, m.hashed_ngram_length
                ),
            ));
        }
        for (field, p) in [
            ("model.dropout", m.dropout),
            ("model.input_dropout", m.input_dropout),
            ("model.head_dropout", m.head_dropout),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(ConfigError::invalid(
                    field,
                    format!("{p} is not a probability in [0, 1)"),
                ));
            }
        }
        if t.steps == 0 || t.batch_size == 0 || t.eval_batch_size == 0 || t.eval_every == 0 {
            return Err(ConfigError::invalid(
                "train",
                "steps, batch_size, eval_batch_size and eval_every must be at least 1",
            ));
        }
        if !(t.lr > 0.0 && t.lr.is_finite()) || t.weight_decay < 0.0 || t.grad_clip < 0.0 {
            return Err(ConfigError::invalid(
                "train.lr",
                "lr must be positive, weight_decay and grad_clip non-negative",
            ));
        }
        if !(0.0..1.0).contains(&t.ema) {
            return Err(ConfigError::invalid(
                "train.ema",
                format!(
                    "{} is not a decay in [0, 1): use e.g. 0.999, or 0 for none",
                    t.ema
                ),
            ));
        }
        if m.kind == ModelKind::Ngram {
            self.validate_ngram()?;
        }
        if !self.stages.is_empty() {
            return self.stages().map(|_| ());
        }
        self.monitor()?;
        if self.objectives.is_empty() {
            return Err(ConfigError::invalid("objectives", "no objective: add at least one table such as [objectives.CLS] (see `xp objectives`)"));
        }
        Ok(())
    }

    /// Refuses what an n-gram baseline cannot do: stages, `[init]`, bad lengths.
    fn validate_ngram(&self) -> Result<(), ConfigError> {
        if !self.stages.is_empty() || self.init.is_some() {
            return Err(ConfigError::invalid(
                "model.kind",
                "an n-gram baseline is fitted in one go: it has no [[stages]] and no [init]; remove them, or use kind = \"transformer\"",
            ));
        }
        self.model.ngram.check().map_err(|e| match e {
            xp_ngram::NgramError::Field { field, reason } => ConfigError::invalid(&field, reason),
            other => ConfigError::invalid("model.ngram", other.to_string()),
        })
    }

    /// What `train.monitor` names.
    pub fn monitor(&self) -> Result<Monitor, ConfigError> {
        let names: Vec<&str> = self.objectives.keys().map(String::as_str).collect();
        Monitor::parse(&self.train.monitor, &names)
            .map_err(|e| ConfigError::invalid("train.monitor", e))
    }

    /// The experiment as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot serialise: {e}\n"))
    }
}

/// The text of the experiment file at `path`.
fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Experiment, ConfigError> {
        Experiment::parse(text, "test.toml", &[])
    }

    #[test]
    fn defaults_fill_everything() {
        let e = parse("name = \"x\"\n[objectives.CLS]\n").unwrap();
        assert_eq!(e.seed, 1234);
        assert_eq!(e.model.dim, 128);
        assert_eq!(e.train.steps, 20_000);
        assert!(e.objectives.contains_key("CLS"));
        assert_eq!(parse(&e.to_toml()).unwrap(), e);
    }

    #[test]
    fn kernels_follow_the_device_unless_the_experiment_says_otherwise() {
        use KernelChoice::*;
        let cpu = Device::Cpu;
        assert_eq!(Auto.resolve(&cpu, DType::F32).ok(), Some(Kernels::Fused));
        assert_eq!(Auto.resolve(&cpu, DType::F64).ok(), Some(Kernels::Composed));
        assert_eq!(
            Composed.resolve(&cpu, DType::F32).ok(),
            Some(Kernels::Composed)
        );
        let err = Fused
            .resolve(&cpu, DType::F64)
            .expect_err("f64 has no fused kernels");
        assert!(err.to_string().contains("train.kernels"), "{err}");
        let text = "name = \"k\"\n[objectives.CLS]\n";
        let exp = Experiment::parse(text, "test", &["train.kernels=\"composed\"".into()]);
        assert_eq!(exp.map(|e| e.train.kernels).ok(), Some(Composed));
    }

    #[test]
    fn errors_name_the_problem() {
        let msg = |t: &str| parse(t).unwrap_err().to_string();
        assert!(msg("name = \"x\"\n[model]\ndim = ").contains("line 3"));
        assert!(msg("name = \"x\"\n[train]\nstesp = 3\n[objectives.CLS]")
            .contains("did you mean `steps`"));
        assert!(
            msg("name = \"x\"\n[model]\ndim = 100\nheads = 3\n[objectives.CLS]")
                .contains("not divisible")
        );
        assert!(msg("name = \"x\"").contains("no objective"));
        assert!(
            msg("name = \"x\"\n[data]\nmin_len = 9\nmax_len = 3\n[objectives.CLS]")
                .contains("min_len")
        );
        assert!(
            msg("name = \"x\"\n[model]\ndropout = 1.5\n[objectives.CLS]").contains("probability")
        );
    }
}
