//! `xp figures RUN`: a finished run's figures drawn again from its files (after a
//! change of style, or with counts in the confusion cells).

use super::figures::{self, Cells};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use xp_framework::train::LogRow;

/// The rows of a run's `metrics.jsonl` (none when it has no log).
pub fn read_log(run: &Path) -> Vec<LogRow> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Where the stages of a run in stages start, from its `summary.json` (none for a
/// run in one stage, or one without a summary).
fn read_stages(run: &Path) -> Vec<(usize, String)> {
    let summary: Option<serde_json::Value> = std::fs::read(run.join(super::SUMMARY))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let stages = summary
        .as_ref()
        .and_then(|s| s["stages"].as_array().cloned());
    stages
        .unwrap_or_default()
        .iter()
        .filter_map(|stage| {
            let first = stage["first_step"].as_u64()? as usize;
            Some((first, stage["name"].as_str()?.to_owned()))
        })
        .collect()
}

/// Draws `metrics.png`, `total_loss.png` and each `confusion_NAME.png` of the run in
/// `run` again; returns the files written.
pub fn redraw(run: &Path, cells: Cells) -> Result<Vec<PathBuf>> {
    let rows = read_log(run);
    anyhow::ensure!(
        !rows.is_empty(),
        "{} has no metrics.jsonl with rows: give a run folder (one `xp run` wrote)",
        run.display()
    );
    let mut written = Vec::new();
    let mut drawn = |path: PathBuf, result: figures::Drawn| -> Result<()> {
        result.map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", path.display()))?;
        written.push(path);
        Ok(())
    };
    let stages = read_stages(run);
    let metrics = run.join("metrics.png");
    drawn(
        metrics.clone(),
        figures::metrics_grid(&metrics, &rows, &stages),
    )?;
    let total = run.join("total_loss.png");
    drawn(total.clone(), figures::total_loss(&total, &rows, &stages))?;
    let entries =
        std::fs::read_dir(run).with_context(|| format!("cannot read {}", run.display()))?;
    let mut tables: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("confusion_") && n.ends_with(".csv"))
        })
        .collect();
    tables.sort();
    for table in tables {
        let (classes, matrix) = super::classes::read_confusion_csv(&table)?;
        let png = table.with_extension("png");
        drawn(
            png.clone(),
            figures::confusion(&png, &classes, &matrix, cells),
        )?;
    }
    Ok(written)
}
