//! Everything an experiment needs before its first step, and the run directory.

use crate::config::Experiment;
use crate::data::{prepare, DataReport, Dataset, SplitSets};
use crate::error::{Result, XpError};
use crate::model::{DataInfo, Model};
use crate::params::ParamStore;
use candle_core::Device;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// A run's folder: experiment, vocabulary, best checkpoint, metrics, figures, resume
/// point. One opened to write holds its lock (see [`RunDir::create`]).
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
    /// The locked `.xp.lock`, while this process writes the run.
    _lock: Option<Arc<File>>,
}

impl RunDir {
    /// File of the best checkpoint.
    pub const CHECKPOINT: &'static str = "model.safetensors";
    /// File of the resolved experiment.
    pub const EXPERIMENT: &'static str = "experiment.toml";
    /// File of the vocabulary and labels.
    pub const VOCAB: &'static str = "vocab.json";
    /// File of the data report: what was read, kept and dropped, and why.
    pub const DATA: &'static str = "data.json";
    /// File of a finished run's summary: a run that has it has all its reports.
    pub const SUMMARY: &'static str = "summary.json";

    /// The lock file: held by the process writing the run, which writes its id in it.
    pub const LOCK: &'static str = ".xp.lock";

    /// Creates `path` for a new run and locks it; refuses one that already holds a
    /// run, or that another process is writing.
    pub fn create(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|e| XpError::write(path, e))?;
        let lock = lock(path)?;
        if path.join(Self::EXPERIMENT).exists() {
            return Err(XpError::Run(format!(
                "{} already holds a run: choose another --out, move that run away, or continue it with `xp run --resume {}`",
                path.display(),
                path.display()
            )));
        }
        // What a run killed before its first file was whole may have left.
        remove_temporaries(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            _lock: Some(Arc::new(lock)),
        })
    }

    /// Opens the run at `path` to continue it and locks it; refuses a folder without
    /// a run, or one another process is writing.
    pub fn reopen(path: &Path) -> Result<Self> {
        if !path.join(Self::EXPERIMENT).exists() {
            return Err(XpError::Run(format!(
                "{} is not a run directory: it has no {}",
                path.display(),
                Self::EXPERIMENT
            )));
        }
        let lock = lock(path)?;
        remove_temporaries(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            _lock: Some(Arc::new(lock)),
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

    /// Loads a finished run's experiment, vocabulary and best weights onto `device`:
    /// for a run in stages, its last stage's (the experiment that stage resolves to).
    pub fn load(path: &Path, device: &Device) -> Result<(Experiment, DataInfo, Model)> {
        let dir = Self {
            path: path.to_path_buf(),
            _lock: None,
        };
        let exp_path = dir.file(Self::EXPERIMENT);
        if !exp_path.exists() {
            return Err(XpError::Run(format!(
                "{} is not a run directory: it has no {}",
                path.display(),
                Self::EXPERIMENT
            )));
        }
        let experiment = Experiment::load_recorded(&exp_path, &[])?
            .stages()?
            .pop()
            .map(|last| last.experiment)
            .ok_or_else(|| XpError::Run(format!("{} has no stage", exp_path.display())))?;
        let vocab = dir.file(Self::VOCAB);
        let info = match vocab.exists() {
            true => DataInfo::load(&vocab)?,
            // A checkpoint says what it was trained on in its header.
            false => DataInfo::of_checkpoint(&dir.file(Self::CHECKPOINT))?.ok_or_else(|| {
                XpError::Run(format!(
                    "{} has no {} and its checkpoint does not say its vocabulary: copy the run's {} back",
                    path.display(),
                    Self::VOCAB,
                    Self::VOCAB
                ))
            })?,
        };
        let params = ParamStore::load(&dir.file(Self::CHECKPOINT), device)?;
        let model = Model::build(&experiment, &info, params, device).map_err(|e| match e {
            // The experiment names an objective this program does not link: the
            // checkpoint is not to blame.
            XpError::Objective(_) | XpError::Config(_) => e,
            e => XpError::Run(format!(
                "checkpoint of {} does not fit its experiment: {e}",
                path.display()
            )),
        })?;
        Ok((experiment, info, model))
    }
}

/// Locks `dir/.xp.lock` for this process (an advisory lock the system drops when the
/// process ends, however it ends) and writes this process's id in it; a lock held by
/// a live process is refused with that process's id. Run folders take it; so does
/// anything else one process alone may write (a tune's folder).
pub fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(RunDir::LOCK);
    let io = |e| XpError::write(&path, e);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    if let Err(e) = file.try_lock() {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        return Err(XpError::Run(match e {
            std::fs::TryLockError::WouldBlock => format!(
                "{} is being written by another xp (process {}): wait for it to end, or stop it",
                dir.display(),
                if holder.is_empty() { "unknown" } else { holder }
            ),
            std::fs::TryLockError::Error(e) => format!("cannot lock {}: {e}", path.display()),
        }));
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(file)
}

/// Removes what writers killed mid-file left in `dir`: their temporary files (call
/// it holding the folder's lock).
fn remove_temporaries(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| XpError::read(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".xp-tmp-") || name.starts_with(".tmp") {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| XpError::write(path, e))?;
        }
    }
    Ok(())
}
