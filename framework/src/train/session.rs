//! Everything an experiment needs before its first step, and the run directory.

use crate::config::Experiment;
use crate::data::{split, Corpus, Dataset, Split, SplitSets, FOLDING_RULE};
use crate::error::{Result, XpError};
use crate::model::{DataInfo, Model};
use crate::params::ParamStore;
use candle_core::Device;
use std::path::{Path, PathBuf};

/// An experiment with its corpus read, split, and its model built.
pub struct Session {
    /// The resolved experiment.
    pub experiment: Experiment,
    /// Vocabulary and labels.
    pub info: DataInfo,
    /// Tokenized names.
    pub dataset: Dataset,
    /// Which names train, validate and test.
    pub sets: SplitSets,
    /// The model, freshly initialised.
    pub model: Model,
    /// Where the corpus was read.
    pub corpus_dir: PathBuf,
}

/// The device named by `train.device`: `cpu`, `cuda` or `cuda:N`.
pub fn parse_device(name: &str) -> Result<Device> {
    let ordinal = match name {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => 0,
        other => other
            .strip_prefix("cuda:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                XpError::Run(format!(
                    "unknown device `{other}`: use \"cpu\", \"cuda\" or \"cuda:N\""
                ))
            })?,
    };
    if !candle_core::utils::cuda_is_available() {
        return Err(XpError::Run(format!(
            "device `{name}` asked for, but this xp was built without CUDA: build it with `scripts/build-cuda.sh` (cargo feature `cuda`), or use --device cpu"
        )));
    }
    Device::new_cuda(ordinal).map_err(|e| {
        XpError::Run(format!(
            "cannot open CUDA device {ordinal}: {e} (is an NVIDIA GPU and driver present?)"
        ))
    })
}

impl Session {
    /// Reads the corpus from `data.dir`, splits it and builds the model.
    pub fn open(experiment: Experiment) -> Result<Self> {
        let device = parse_device(&experiment.train.device)?;
        let d = &experiment.data;
        let corpus_dir = d.dir.clone().ok_or_else(|| {
            XpError::Run(
                "the experiment names no corpus folder: set data.dir to the folder of the 18 language files".into(),
            )
        })?;
        let corpus = Corpus::load(&corpus_dir, d.min_len, d.max_len)?;
        let sets = split(
            &corpus.examples,
            Split {
                valid: d.valid,
                test: d.test,
                dedup: d.dedup,
                seed: experiment.seed,
            },
        );
        if sets.train.len() < experiment.train.batch_size {
            return Err(XpError::Run(format!(
                "only {} training names for batches of {}: lower train.batch_size or widen the length filter",
                sets.train.len(),
                experiment.train.batch_size
            )));
        }
        let info = DataInfo {
            vocab: corpus.vocab.clone(),
            labels: corpus.labels.clone(),
            max_len: corpus.max_len,
            folding: FOLDING_RULE.into(),
        };
        let model = Model::build(
            &experiment,
            &info,
            ParamStore::new(experiment.seed),
            &device,
        )?;
        Ok(Self {
            dataset: Dataset::new(&corpus),
            experiment,
            info,
            sets,
            model,
            corpus_dir,
        })
    }
}

/// A run's folder: experiment, vocabulary, best checkpoint, metrics, figures.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
}

impl RunDir {
    /// File of the best checkpoint.
    pub const CHECKPOINT: &'static str = "model.safetensors";
    /// File of the resolved experiment.
    pub const EXPERIMENT: &'static str = "experiment.toml";
    /// File of the vocabulary and labels.
    pub const VOCAB: &'static str = "vocab.json";

    /// Creates `path` for a new run; refuses one that already holds a run.
    pub fn create(path: &Path) -> Result<Self> {
        if path.join(Self::EXPERIMENT).exists() {
            return Err(XpError::Run(format!(
                "{} already holds a run: choose another --out, or move that run away",
                path.display()
            )));
        }
        std::fs::create_dir_all(path).map_err(|e| XpError::write(path, e))?;
        let probe = path.join(".xp-write-test");
        std::fs::write(&probe, b"").map_err(|e| XpError::write(path, e))?;
        let _ = std::fs::remove_file(probe);
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// `runs/NAME`, or `runs/NAME-2`, `-3`.. when taken.
    pub fn next_free(root: &Path, name: &str) -> PathBuf {
        let first = root.join(name);
        if !first.exists() {
            return first;
        }
        (2..)
            .map(|i| root.join(format!("{name}-{i}")))
            .find(|p| !p.exists())
            .unwrap_or(first)
    }

    /// A file in the run.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Loads a finished run's experiment, vocabulary and best weights onto `device`.
    pub fn load(path: &Path, device: &Device) -> Result<(Experiment, DataInfo, Model)> {
        let dir = Self {
            path: path.to_path_buf(),
        };
        let exp_path = dir.file(Self::EXPERIMENT);
        if !exp_path.exists() {
            return Err(XpError::Run(format!(
                "{} is not a run directory: it has no {}",
                path.display(),
                Self::EXPERIMENT
            )));
        }
        let experiment = Experiment::load(&exp_path, &[])?;
        let info = DataInfo::load(&dir.file(Self::VOCAB))?;
        let params = ParamStore::load(&dir.file(Self::CHECKPOINT), device)?;
        let model = Model::build(&experiment, &info, params, device).map_err(|e| {
            XpError::Run(format!(
                "checkpoint of {} does not fit its experiment: {e}",
                path.display()
            ))
        })?;
        Ok((experiment, info, model))
    }
}
