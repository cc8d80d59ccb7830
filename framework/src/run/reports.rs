//! What a finished run leaves for a person: figures (also as images of its
//! TensorBoard event file), and per class objective a confusion matrix, per-class
//! scores and the test predictions; drawn again from the folder by `xp figures`.

use super::classes::{
    confusion_matrix, per_class, read_confusion_csv, write_confusion_csv, write_predictions_csv,
    write_scores_csv, RowText,
};
use super::{RunFiles, RunSummary};
use crate::error::{Result, XpError};
use crate::model::Model;
use crate::train::{LogRow, Predictions, SplitMetrics};
use std::path::{Path, PathBuf};
use xp_figures::{Cells, Drawn};

impl xp_figures::Row for LogRow {
    fn step(&self) -> usize {
        self.step
    }
    fn split(&self) -> &str {
        &self.split
    }
    fn objective(&self) -> &str {
        &self.objective
    }
    fn loss(&self) -> f64 {
        self.loss
    }
    fn accuracy(&self) -> Option<f64> {
        self.accuracy
    }
}

/// Draws a figure at `path` atomically: into a file beside it, renamed over it once
/// whole.
pub fn draw(path: &Path, figure: impl FnOnce(&Path) -> Drawn) -> Drawn {
    let mut drawn = Ok(());
    crate::files::write_atomic_with(path, |tmp| {
        drawn = figure(tmp);
        drawn.clone().map_err(std::io::Error::other)
    })
    .map_err(|e| match drawn {
        Err(why) => why,
        Ok(()) => e.to_string(),
    })
}

/// Writes the figures of a finished run in `files` (also into its event file at
/// `summary.steps`) and the per-class reports of its class objectives: the test
/// confusion matrix and scores, and the predictions of every split that kept them
/// (`texts`: each split's texts in split order, for the predictions files). Returns
/// warnings for the figures that could not be drawn (no font, say); a file that cannot
/// be written is an error.
pub fn write_reports(
    files: &RunFiles,
    rows: &[LogRow],
    summary: &RunSummary,
    model: &Model,
    texts: &[(String, Vec<RowText>)],
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut drawn = Vec::new();
    let mut figure = |path: PathBuf, r: Drawn| match r {
        Ok(()) => drawn.push(path),
        Err(e) => warnings.push(format!("figure {}: {e}", path.display())),
    };
    let stages = stages(summary);
    for (path, r) in run_figures(files, rows, &stages) {
        figure(path, r);
    }
    for active in &model.objectives {
        let Some(classes) = active.objective.class_names() else {
            continue;
        };
        for (path, r) in write_class_reports(files, &active.name, &classes, summary, texts)? {
            figure(path, r);
        }
    }
    super::images::add_to_events(files, summary.steps, &drawn)?;
    Ok(warnings)
}

/// The reports of class objective `name` (classes `classes`) of a finished run or
/// ensemble: the predictions of every split of `summary` that kept them (`texts`: each
/// split's texts in split order), and from the test split's, the confusion matrix (CSV
/// and figure) and per-class scores. Returns each figure with how its drawing went.
pub fn write_class_reports(
    files: &RunFiles,
    name: &str,
    classes: &[String],
    summary: &RunSummary,
    texts: &[(String, Vec<RowText>)],
) -> Result<Vec<(PathBuf, Drawn)>> {
    fn kept<'a>(metrics: &'a SplitMetrics, name: &str) -> Option<&'a Predictions> {
        let kept = metrics.predictions.iter().find(|(n, _)| n == name);
        kept.map(|(_, p)| p)
    }
    for (split, metrics) in &summary.splits {
        let Some(predictions) = kept(metrics, name) else {
            continue;
        };
        let split_texts = texts.iter().find(|(s, _)| s == split);
        let split_texts = split_texts.map_or(&[][..], |(_, t)| t.as_slice());
        let path = files.predictions_csv(split, name);
        write_predictions_csv(&path, classes, predictions, split_texts)?;
    }
    let Some(test) = summary.split("test").and_then(|t| kept(t, name)) else {
        return Ok(Vec::new());
    };
    let matrix = confusion_matrix(&test.pairs, classes.len());
    write_confusion_csv(&files.confusion_csv(name), classes, &matrix)?;
    write_scores_csv(&files.classes_csv(name), classes, &per_class(&matrix))?;
    let path = files.confusion_png(name);
    let mut figures = Vec::new();
    if let (_, Some(missing)) = xp_figures::fonts::families(classes) {
        figures.push((path.clone(), Err(missing)));
    }
    let r = draw(&path, |p| {
        xp_figures::confusion(p, classes, &matrix, Cells::Percent)
    });
    figures.push((path, r));
    Ok(figures)
}

/// Where the stages of a run in stages start (none for a run in one).
fn stages(summary: &RunSummary) -> Vec<(usize, String)> {
    summary
        .stages
        .iter()
        .map(|s| (s.first_step, s.name.clone()))
        .collect()
}

/// `metrics.png` and `total_loss.png`, each with how its drawing went.
fn run_figures(
    files: &RunFiles,
    rows: &[LogRow],
    stages: &[(usize, String)],
) -> [(PathBuf, Drawn); 2] {
    let metrics = files.metrics_png();
    let total = files.total_loss_png();
    [
        (
            metrics.clone(),
            draw(&metrics, |p| xp_figures::metrics_grid(p, rows, stages)),
        ),
        (
            total.clone(),
            draw(&total, |p| xp_figures::total_loss(p, rows, stages)),
        ),
    ]
}

/// The rows of the metrics log of the run in `dir` (none when it has no log).
pub fn read_log(dir: &Path) -> Vec<LogRow> {
    std::fs::read_to_string(RunFiles::at(dir).metrics_jsonl())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Draws the figures of the run (or ensemble) in `dir` again from its files (after a
/// change of style, or with counts in the confusion cells); returns the files written.
pub fn redraw(dir: &Path, cells: Cells) -> Result<Vec<PathBuf>> {
    let files = RunFiles::at(dir);
    let rows = read_log(dir);
    // An ensemble trains nothing: it has its confusion matrices alone to draw.
    let ensemble = files.is_ensemble();
    if rows.is_empty() && !ensemble {
        return Err(XpError::Run(format!(
            "{} has no {} with rows: give a run folder (one `xp run` wrote)",
            dir.display(),
            RunFiles::METRICS_JSONL
        )));
    }
    let stages = match files.summary().is_file() {
        true => stages(&RunSummary::read(dir)?),
        false => Vec::new(),
    };
    let cannot =
        |path: &Path, e: String| XpError::Run(format!("cannot draw {}: {e}", path.display()));
    let mut written = Vec::new();
    if !ensemble {
        for (path, r) in run_figures(&files, &rows, &stages) {
            r.map_err(|e| cannot(&path, e))?;
            written.push(path);
        }
    }
    for objective in files.confusion_objectives() {
        let (classes, matrix) = read_confusion_csv(&files.confusion_csv(&objective))?;
        let png = files.confusion_png(&objective);
        draw(&png, |p| xp_figures::confusion(p, &classes, &matrix, cells))
            .map_err(|e| cannot(&png, e))?;
        written.push(png);
    }
    Ok(written)
}
