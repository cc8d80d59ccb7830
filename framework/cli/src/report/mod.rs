//! What a finished run leaves for a person: figures, confusion matrices, tables.

mod classes;
pub(crate) mod figures;
mod redraw;
pub(crate) mod style;
mod table;

pub use classes::{confusion_matrix, per_class};
pub use redraw::{read_log, redraw};
pub use table::summary_table;

use xp_framework::model::Model;
use xp_framework::train::{LogRow, RunDir, RunSummary};
use xp_framework::{Result, XpError};

/// The summary's file name, written last.
pub const SUMMARY: &str = "summary.json";

/// Writes the figures, the per-class reports of class objectives, and last
/// `summary.json`.
/// Returns warnings for outputs that could not be drawn (e.g. no font for figures).
pub fn write_reports(
    run: &RunDir,
    rows: &[LogRow],
    summary: &RunSummary,
    model: &Model,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut figure = |r: std::result::Result<(), String>| {
        if let Err(e) = r {
            warnings.push(format!("figure not drawn: {e}"));
        }
    };
    figure(figures::metrics_grid(&run.file("metrics.png"), rows));
    figure(figures::total_loss(&run.file("total_loss.png"), rows));
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
        )?;
        figure(figures::confusion(
            &run.file(&format!("confusion_{}.png", active.name)),
            &classes,
            &matrix,
            figures::Cells::Percent,
        ));
    }
    // Last: a run with a summary has all its reports.
    let json = serde_json::to_string_pretty(summary).map_err(|e| XpError::Run(e.to_string()))?;
    xp_framework::files::write_atomic(&run.file(SUMMARY), json.as_bytes())?;
    Ok(warnings)
}
