//! Everything an experiment needs before its first step.

use crate::config::Experiment;
use crate::data::{prepare, DataReport, Dataset, SplitSets};
use crate::error::{Result, XpError};
use crate::model::{DataInfo, Model};
use crate::params::ParamStore;
use candle_core::Device;

/// An experiment with its corpus read, split, and its model built.
pub struct Session {
    /// The resolved experiment.
    pub experiment: Experiment,
    /// Vocabulary and labels.
    pub info: DataInfo,
    /// Tokenized texts.
    pub dataset: Dataset,
    /// Which texts train, validate and test.
    pub sets: SplitSets,
    /// The kept texts, by index (what `sets` index).
    pub examples: Vec<crate::data::Example>,
    /// The model of the first stage, freshly initialised.
    pub model: Model,
    /// What was read, kept and dropped, and why (`data.json` of the run).
    pub report: DataReport,
    /// What is odd in the data (see [`crate::data::Corpus::warnings`]).
    pub warnings: Vec<String>,
    /// What [`Session::apply_init`] copied, once it has.
    init_applied: std::sync::OnceLock<Vec<String>>,
}

/// The CUDA ordinal `train.device` names (`None` for `cpu`), refusing an unknown name or
/// a CUDA device in an xp built without CUDA. Opens nothing.
fn cuda_ordinal(name: &str) -> Result<Option<usize>> {
    let ordinal = match name {
        "cpu" => return Ok(None),
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
    Ok(Some(ordinal))
}

/// Refuses a `train.device` this xp cannot train on (see [`parse_device`]) without
/// opening it: what a sweep or a search checks before it starts any run.
pub fn check_device(name: &str) -> Result<()> {
    cuda_ordinal(name).map(|_| ())
}

/// The device named by `train.device`: `cpu`, `cuda` or `cuda:N`.
pub fn parse_device(name: &str) -> Result<Device> {
    let Some(ordinal) = cuda_ordinal(name)? else {
        return Ok(Device::Cpu);
    };
    Device::new_cuda(ordinal).map_err(|e| {
        XpError::Run(format!(
            "cannot open CUDA device {ordinal}: {e} (is an NVIDIA GPU and driver present?)"
        ))
    })
}

impl Session {
    /// Reads the data `[data]` names (else the corpus built into xp), splits it, and
    /// builds the model, refusing a run that would not fit in memory.
    pub fn open(experiment: Experiment) -> Result<Self> {
        let device = parse_device(&experiment.train.device)?;
        let prepared = prepare(&experiment.data, experiment.seed)?;
        let (corpus, sets) = (&prepared.corpus, &prepared.sets);
        if sets.train.len() < experiment.train.batch_size {
            return Err(XpError::Run(format!(
                "only {} training texts for batches of {}: lower train.batch_size or keep more texts (`xp data` says what was dropped)",
                sets.train.len(),
                experiment.train.batch_size
            )));
        }
        let info = DataInfo {
            vocab: prepared.vocab.clone(),
            labels: corpus.labels.clone(),
            unlabeled: corpus.unlabeled.clone(),
            max_len: corpus.max_len,
            normalization: corpus.reading.normalization,
        };
        let first = experiment.stages()?.swap_remove(0);
        let mut model = Model::build(
            &first.experiment,
            &info,
            ParamStore::new(experiment.seed),
            &device,
        )?;
        model.frozen = first.freeze;
        let dataset = Dataset::new(corpus, &prepared.vocab);
        crate::memory::check(
            &experiment,
            &info,
            &model,
            &sample(&model, &dataset, sets),
            &device,
        )?;
        Ok(Self {
            dataset,
            report: prepared.report(),
            warnings: corpus.warnings.clone(),
            examples: prepared.corpus.examples,
            sets: prepared.sets,
            experiment,
            info,
            model,
            init_applied: std::sync::OnceLock::new(),
        })
    }

    /// What the objectives make of a few training texts, as the memory estimate reads it
    /// ([`crate::memory::estimate`]).
    pub fn sample(&self) -> Vec<crate::objective::Prepared> {
        sample(&self.model, &self.dataset, &self.sets)
    }

    /// Where the texts were read, as a run's summary records it: `embedded` for the
    /// corpus built into xp.
    pub fn source(&self) -> String {
        match self.experiment.data.reads_embedded() {
            true => "embedded".into(),
            false => self.report.source.clone(),
        }
    }
}

impl Session {
    /// Copies into the first stage's model the weights the experiment's `[init]`
    /// names from another run (nothing without `[init]`); refuses a source that does
    /// not fit, naming what differs. Call it before creating a run's folder to refuse
    /// a bad source before anything is written; [`super::train`] calls it on a fresh
    /// run. The weights are copied once per session: later calls give the same names.
    pub fn apply_init(&self) -> Result<Vec<String>> {
        if let Some(copied) = self.init_applied.get() {
            return Ok(copied.clone());
        }
        let copied = match &self.experiment.init {
            Some(init) => {
                super::init::apply(init, &self.experiment.model, &self.model, &self.info)?
            }
            None => Vec::new(),
        };
        Ok(self.init_applied.get_or_init(|| copied).clone())
    }
}

/// The objectives' inputs on the first two training texts (a fixed draw: only which
/// objectives share an input matters).
fn sample(model: &Model, dataset: &Dataset, sets: &SplitSets) -> Vec<crate::objective::Prepared> {
    let rows = &sets.train[..sets.train.len().min(2)];
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(0);
    model.prepare(&dataset.batch(rows).training(), &mut rng)
}
