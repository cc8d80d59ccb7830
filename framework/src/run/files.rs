//! Where each file of a run folder lives: every name of the layout, once. Anything
//! that reads or writes a run's files asks [`RunFiles`] for their paths.

use std::path::{Path, PathBuf};

/// The files of the run folder at a path (a view: it opens and locks nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFiles {
    path: PathBuf,
}

/// What a run's file names start or end with, where one file exists per objective or
/// per stage.
mod names {
    pub const EXPERIMENT: &str = "experiment.toml";
    pub const VOCAB: &str = "vocab.json";
    pub const DATA: &str = "data.json";
    pub const SUMMARY: &str = "summary.json";
    pub const CHECKPOINT: &str = "model.safetensors";
    pub const RESUME: &str = "resume.safetensors";
    pub const NGRAM: &str = "ngram.safetensors";
    pub const ENSEMBLE: &str = "ensemble.json";
    pub const LOCK: &str = ".xp.lock";
    pub const EVENTS: &str = "events.jsonl";
    pub const METRICS_CSV: &str = "metrics.csv";
    pub const METRICS_JSONL: &str = "metrics.jsonl";
    pub const METRICS_PNG: &str = "metrics.png";
    pub const TOTAL_LOSS_PNG: &str = "total_loss.png";
    pub const ATTENTION: &str = "attention";
    pub const CONFUSION: &str = "confusion_";
    pub const CLASSES: &str = "classes_";
    pub const PREDICTIONS: &str = "_predictions_";
    /// What a writer killed mid-file leaves (see `crate::files`).
    pub const TEMPORARY: [&str; 2] = [".xp-tmp-", ".tmp"];
}

impl RunFiles {
    /// The files of the run folder `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The resolved experiment (every default filled); a folder with it holds a run.
    pub fn experiment(&self) -> PathBuf {
        self.join(names::EXPERIMENT)
    }

    /// The vocabulary and labels.
    pub fn vocab(&self) -> PathBuf {
        self.join(names::VOCAB)
    }

    /// The data report: what was read, kept and dropped, and why.
    pub fn data(&self) -> PathBuf {
        self.join(names::DATA)
    }

    /// A finished run's summary, written last: a run that has it has all its reports.
    pub fn summary(&self) -> PathBuf {
        self.join(names::SUMMARY)
    }

    /// The best checkpoint (of the last stage).
    pub fn checkpoint(&self) -> PathBuf {
        self.join(names::CHECKPOINT)
    }

    /// The fitted n-gram baseline of a run of `model.kind = "ngram"`.
    pub fn ngram_model(&self) -> PathBuf {
        self.join(names::NGRAM)
    }

    /// What an ensemble (`xp ensemble`) is made of: its members and their weights.
    pub fn ensemble(&self) -> PathBuf {
        self.join(names::ENSEMBLE)
    }

    /// Whether the folder holds an ensemble of runs (its members are written).
    pub fn is_ensemble(&self) -> bool {
        self.ensemble().is_file()
    }

    /// The best checkpoint of stage `stage` of a run in stages that is not its last.
    pub fn stage_checkpoint(&self, stage: &str) -> PathBuf {
        self.join(&format!("model-{stage}.safetensors"))
    }

    /// The resume point.
    pub fn resume_point(&self) -> PathBuf {
        self.join(names::RESUME)
    }

    /// The lock its writer holds, with the writer's process id in it.
    pub fn lock(&self) -> PathBuf {
        self.join(names::LOCK)
    }

    /// The run's life as typed JSON lines (started, progress, evaluations, the end).
    pub fn events(&self) -> PathBuf {
        self.join(names::EVENTS)
    }

    /// The metric rows as CSV.
    pub fn metrics_csv(&self) -> PathBuf {
        self.join(names::METRICS_CSV)
    }

    /// The metric rows as JSON lines (what figures are redrawn from).
    pub fn metrics_jsonl(&self) -> PathBuf {
        self.join(names::METRICS_JSONL)
    }

    /// TensorBoard's event file of the run's scalars and figures.
    pub fn tensorboard(&self) -> PathBuf {
        self.join(xp_tensorboard::RUN_FILE)
    }

    /// TensorBoard's event file of the run's hyperparameters (a sweep's run).
    pub fn hparams(&self) -> PathBuf {
        self.join(xp_tensorboard::HPARAMS_FILE)
    }

    /// The figure of every objective's loss and accuracy.
    pub fn metrics_png(&self) -> PathBuf {
        self.join(names::METRICS_PNG)
    }

    /// The figure of the total loss.
    pub fn total_loss_png(&self) -> PathBuf {
        self.join(names::TOTAL_LOSS_PNG)
    }

    /// The confusion matrix of class objective `objective` on test, as CSV.
    pub fn confusion_csv(&self, objective: &str) -> PathBuf {
        self.join(&format!("{}{objective}.csv", names::CONFUSION))
    }

    /// The confusion matrix of `objective` as a figure.
    pub fn confusion_png(&self, objective: &str) -> PathBuf {
        self.join(&format!("{}{objective}.png", names::CONFUSION))
    }

    /// Per-class precision, recall and F1 of `objective` on test.
    pub fn classes_csv(&self, objective: &str) -> PathBuf {
        self.join(&format!("{}{objective}.csv", names::CLASSES))
    }

    /// Every text of `split` (`valid`, `test`) with its prediction and probabilities by
    /// class objective `objective`.
    pub fn predictions_csv(&self, split: &str, objective: &str) -> PathBuf {
        self.join(&format!("{split}{}{objective}.csv", names::PREDICTIONS))
    }

    /// [`RunFiles::predictions_csv`] of the test split (what paired tests read).
    pub fn test_predictions_csv(&self, objective: &str) -> PathBuf {
        self.predictions_csv("test", objective)
    }

    /// The folder of attention maps `xp attention` draws for a run.
    pub fn attention(&self) -> PathBuf {
        self.join(names::ATTENTION)
    }

    /// The objectives with a confusion matrix in the folder, sorted.
    pub fn confusion_objectives(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.path) else {
            return Vec::new();
        };
        let mut objectives: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let objective = name.strip_prefix(names::CONFUSION)?.strip_suffix(".csv")?;
                Some(objective.to_owned())
            })
            .collect();
        objectives.sort();
        objectives
    }

    /// Whether the folder holds a run (its experiment is written).
    pub fn is_run(&self) -> bool {
        self.experiment().is_file()
    }

    /// Whether `name`, a file in the folder, is a writer's temporary file.
    pub(crate) fn is_temporary(name: &str) -> bool {
        names::TEMPORARY.iter().any(|p| name.starts_with(p))
    }

    /// The file name of the experiment, for messages.
    pub const EXPERIMENT: &'static str = names::EXPERIMENT;
    /// The file name of the summary, for messages.
    pub const SUMMARY: &'static str = names::SUMMARY;
    /// The file name of the vocabulary, for messages.
    pub const VOCAB: &'static str = names::VOCAB;
    /// The file name of the best checkpoint, for messages.
    pub const CHECKPOINT: &'static str = names::CHECKPOINT;
    /// The file name of the metrics log read back, for messages.
    pub const METRICS_JSONL: &'static str = names::METRICS_JSONL;
    /// The file name of the n-gram baseline's model, for messages.
    pub const NGRAM: &'static str = names::NGRAM;
    /// The file name of an ensemble's members, for messages.
    pub const ENSEMBLE: &'static str = names::ENSEMBLE;
    /// The file name of the resume point, for messages.
    pub const RESUME: &'static str = names::RESUME;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_objective_files_are_named_after_their_objective() {
        let files = RunFiles::at("runs/a");
        assert_eq!(
            files.test_predictions_csv("CLS"),
            Path::new("runs/a/test_predictions_CLS.csv")
        );
        assert_eq!(
            files.confusion_png("CLS"),
            Path::new("runs/a/confusion_CLS.png")
        );
        assert_eq!(
            files.stage_checkpoint("pretrain"),
            Path::new("runs/a/model-pretrain.safetensors")
        );
        assert!(RunFiles::is_temporary(".xp-tmp-123.json"));
        assert!(!RunFiles::is_temporary("summary.json"));
    }
}
