//! A run folder opened to write it (locked), and a finished run loaded from one.

use super::{lock, remove_temporaries, RunFiles};
use crate::config::Experiment;
use crate::error::{Result, XpError};
use crate::model::{DataInfo, Model};
use crate::params::ParamStore;
use candle_core::Device;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A run's folder opened by the process that writes it, which holds its lock for as
/// long as the value lives.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
    /// Its files.
    pub files: RunFiles,
    _lock: Arc<File>,
}

impl RunDir {
    /// Creates `path` for a new run and locks it; refuses one that already holds a
    /// run, or that another process is writing.
    pub fn create(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|e| XpError::write(path, e))?;
        let lock = lock(path)?;
        let files = RunFiles::at(path);
        if files.is_run() {
            return Err(XpError::Run(format!(
                "{} already holds a run: choose another --out, move that run away, or continue it with `xp run --resume {}`",
                path.display(),
                path.display()
            )));
        }
        // An ensemble cut off before its summary is recomputed from its members.
        if files.is_ensemble() && files.summary().is_file() {
            return Err(XpError::Run(format!(
                "{} already holds an ensemble: choose another --out, or move that ensemble away",
                path.display()
            )));
        }
        // What a run killed before its first file was whole may have left.
        remove_temporaries(path)?;
        Ok(Self::locked(path, lock))
    }

    /// Opens the run at `path` to continue it and locks it; refuses a folder without
    /// a run, or one another process is writing.
    pub fn reopen(path: &Path) -> Result<Self> {
        not_a_run(path)?;
        let lock = lock(path)?;
        remove_temporaries(path)?;
        Ok(Self::locked(path, lock))
    }

    fn locked(path: &Path, lock: File) -> Self {
        Self {
            path: path.to_path_buf(),
            files: RunFiles::at(path),
            _lock: Arc::new(lock),
        }
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
}

/// Refuses a folder that holds no run.
fn not_a_run(path: &Path) -> Result<()> {
    match RunFiles::at(path).is_run() {
        true => Ok(()),
        false => Err(XpError::Run(format!(
            "{} is not a run directory: it has no {}",
            path.display(),
            RunFiles::EXPERIMENT
        ))),
    }
}

/// Loads a finished run's experiment, vocabulary and best weights onto `device`:
/// for a run in stages, its last stage's (the experiment that stage resolves to).
pub fn load(path: &Path, device: &Device) -> Result<(Experiment, DataInfo, Model)> {
    let experiment = load_experiment(path)?;
    let files = RunFiles::at(path);
    let info = load_info(&files)?;
    let params = ParamStore::load(&files.checkpoint(), device)?;
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

/// The experiment of the run in `path` as its model was trained: for a run in stages,
/// what its last stage resolves to.
pub fn load_experiment(path: &Path) -> Result<Experiment> {
    not_a_run(path)?;
    let exp_path = RunFiles::at(path).experiment();
    Experiment::load_recorded(&exp_path, &[])?
        .stages()?
        .pop()
        .map(|last| last.experiment)
        .ok_or_else(|| XpError::Run(format!("{} has no stage", exp_path.display())))
}

/// The vocabulary and labels of the run in `files`: its `vocab.json`, else what its
/// checkpoint's header says it was trained on.
pub fn load_info(files: &RunFiles) -> Result<DataInfo> {
    let vocab = files.vocab();
    if vocab.exists() {
        return DataInfo::load(&vocab);
    }
    DataInfo::of_checkpoint(&files.checkpoint())?.ok_or_else(|| {
        XpError::Run(format!(
            "{} has no {} and its checkpoint does not say its vocabulary: copy the run's {} back",
            files.path().display(),
            RunFiles::VOCAB,
            RunFiles::VOCAB
        ))
    })
}
