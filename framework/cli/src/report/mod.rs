//! What a finished run leaves for a person: figures, confusion matrices, tables.

mod classes;
pub(crate) mod figures;
mod fonts;
mod images;
mod redraw;
pub(crate) mod style;
mod table;

pub use classes::{confusion_matrix, per_class, TestText};
pub use redraw::{read_log, redraw};
pub use table::summary_table;

use std::path::PathBuf;
use xp_framework::model::Model;
use xp_framework::train::{LogRow, RunDir, RunSummary};
use xp_framework::{Result, XpError};

/// The summary's file name, written last.
pub const SUMMARY: &str = xp_framework::train::RunDir::SUMMARY;

/// Writes the figures (also as images of the run's TensorBoard event file), the
/// per-class reports of class objectives (`test_texts` are the test texts in split order,
/// for the predictions file), and last `summary.json`.
/// Returns warnings for outputs that could not be drawn (e.g. no font for figures).
pub fn write_reports(
    run: &RunDir,
    rows: &[LogRow],
    summary: &RunSummary,
    model: &Model,
    test_texts: &[TestText],
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut drawn = Vec::new();
    let mut figure = |path: PathBuf, r: std::result::Result<(), String>| match r {
        Ok(()) => drawn.push(path),
        Err(e) => warnings.push(format!("figure: {e}")),
    };
    let stages: Vec<(usize, String)> = summary
        .stages
        .iter()
        .map(|s| (s.first_step, s.name.clone()))
        .collect();
    let path = run.file("metrics.png");
    figure(path.clone(), figures::metrics_grid(&path, rows, &stages));
    let path = run.file("total_loss.png");
    figure(path.clone(), figures::total_loss(&path, rows, &stages));
    let test = summary
        .splits
        .iter()
        .find(|(s, _)| s == "test")
        .map(|(_, m)| m);
    for active in &model.objectives {
        let (Some(classes), Some(test)) = (active.objective.class_names(), test) else {
            continue;
        };
        let Some((_, pairs)) = test.predictions.iter().find(|(n, _)| *n == active.name) else {
            continue;
        };
        let matrix = confusion_matrix(pairs, classes.len());
        classes::write_confusion_csv(
            &run.file(&format!("confusion_{}.csv", active.name)),
            &classes,
            &matrix,
        )?;
        classes::write_scores_csv(
            &run.file(&format!("classes_{}.csv", active.name)),
            &classes,
            &per_class(&matrix),
        )?;
        classes::write_predictions_csv(
            &run.file(&format!("test_predictions_{}.csv", active.name)),
            &classes,
            pairs,
            test_texts,
        )?;
        let path = run.file(&format!("confusion_{}.png", active.name));
        if let (_, Some(missing)) = fonts::families(&classes) {
            figure(path.clone(), Err(format!("{}: {missing}", path.display())));
        }
        figure(
            path.clone(),
            figures::confusion(&path, &classes, &matrix, figures::Cells::Percent),
        );
    }
    images::add_to_events(run, summary.steps, &drawn)?;
    // Last: a run with a summary has all its reports.
    let json = serde_json::to_string_pretty(summary).map_err(|e| XpError::Run(e.to_string()))?;
    xp_framework::files::write_atomic(&run.file(SUMMARY), json.as_bytes())?;
    Ok(warnings)
}
