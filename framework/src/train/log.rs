//! The metrics log of a run: `metrics.csv` and `metrics.jsonl`, one row per
//! (step, split, objective), appended and flushed at every evaluation.

use super::SplitMetrics;
use crate::error::{Result, XpError};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const CSV: &str = "metrics.csv";
const JSONL: &str = "metrics.jsonl";
const HEADER: &str = "step,split,objective,loss,accuracy,lr";

/// One logged row.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct LogRow {
    /// Optimiser steps done.
    pub step: usize,
    /// `train`, `valid` or `test`.
    pub split: String,
    /// Objective name, or `total`.
    pub objective: String,
    /// Mean loss.
    pub loss: f64,
    /// Accuracy (empty for `total`).
    pub accuracy: Option<f64>,
    /// Learning rate at that step.
    pub lr: f64,
}

/// Writes metric rows as CSV and JSON lines.
pub struct MetricsLog {
    csv: BufWriter<File>,
    jsonl: BufWriter<File>,
    csv_path: PathBuf,
    /// Every row so far, for the figures.
    pub rows: Vec<LogRow>,
}

impl MetricsLog {
    /// Creates `metrics.csv` and `metrics.jsonl` in `dir`.
    pub fn create(dir: &Path) -> Result<Self> {
        Self::start(dir, format!("{HEADER}\n"), String::new(), Vec::new())
    }

    /// Reopens the logs of a run resumed after `step`: rows of later evaluations
    /// (logged before the run stopped, after its resume point) are dropped, to be
    /// logged again; the rows kept are the files' own bytes.
    pub fn resume(dir: &Path, step: usize) -> Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| XpError::read(path, e))
        };
        let (csv, jsonl) = (read(CSV)?, read(JSONL)?);
        let mut kept_csv = format!("{HEADER}\n");
        for line in csv.lines().skip(1) {
            let row_step = line.split(',').next().and_then(|s| s.parse::<usize>().ok());
            if row_step.is_some_and(|s| s <= step) {
                kept_csv.extend([line, "\n"]);
            }
        }
        let (mut kept_jsonl, mut rows) = (String::new(), Vec::new());
        for line in jsonl.lines() {
            let Ok(row) = serde_json::from_str::<LogRow>(line) else {
                continue; // a line cut short by the stop
            };
            if row.step <= step {
                kept_jsonl.extend([line, "\n"]);
                rows.push(row);
            }
        }
        Self::start(dir, kept_csv, kept_jsonl, rows)
    }

    /// Writes the logs' first bytes atomically, then opens them to append.
    fn start(dir: &Path, csv: String, jsonl: String, rows: Vec<LogRow>) -> Result<Self> {
        let open = |name: &str, text: &str| {
            let path = dir.join(name);
            crate::files::write_atomic(&path, text.as_bytes())?;
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .map(BufWriter::new)
                .map_err(|e| XpError::write(path, e))
        };
        Ok(Self {
            csv: open(CSV, &csv)?,
            jsonl: open(JSONL, &jsonl)?,
            csv_path: dir.join(CSV),
            rows,
        })
    }

    /// Logs every objective of `m` and the total, then flushes.
    pub fn log(&mut self, step: usize, split: &str, m: &SplitMetrics, lr: f64) -> Result<()> {
        let mut rows: Vec<LogRow> = m
            .objectives
            .iter()
            .map(|(name, metric)| LogRow {
                step,
                split: split.into(),
                objective: name.clone(),
                loss: metric.loss,
                accuracy: Some(metric.accuracy),
                lr,
            })
            .collect();
        rows.push(LogRow {
            step,
            split: split.into(),
            objective: "total".into(),
            loss: m.total,
            accuracy: None,
            lr,
        });
        let io = |e| XpError::write(&self.csv_path, e);
        for row in &rows {
            let acc = row.accuracy.map_or(String::new(), |a| format!("{a:.6}"));
            writeln!(
                self.csv,
                "{},{},{},{:.6},{},{:.3e}",
                row.step, row.split, row.objective, row.loss, acc, row.lr
            )
            .map_err(io)?;
            let json = serde_json::to_string(row).map_err(|e| XpError::Run(e.to_string()))?;
            writeln!(self.jsonl, "{json}").map_err(io)?;
        }
        self.csv.flush().map_err(io)?;
        self.jsonl.flush().map_err(io)?;
        self.rows.extend(rows);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Metric;

    #[test]
    fn rows_go_to_csv_and_json_lines_as_they_are_logged() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| XpError::Run(e.to_string()))?;
        let mut log = MetricsLog::create(dir.path())?;
        let metric = Metric {
            loss: 0.5,
            accuracy: 0.25,
        };
        let m = SplitMetrics {
            objectives: vec![("CLS".into(), metric)],
            total: 0.75,
            predictions: vec![],
        };
        log.log(10, "valid", &m, 1e-4)?;
        // Flushed at once: a reader sees the rows before the run ends.
        let csv = std::fs::read_to_string(dir.path().join("metrics.csv"))
            .map_err(|e| XpError::read(dir.path(), e))?;
        assert_eq!(
            csv,
            "step,split,objective,loss,accuracy,lr\n\
             10,valid,CLS,0.500000,0.250000,1.000e-4\n\
             10,valid,total,0.750000,,1.000e-4\n"
        );
        let jsonl = std::fs::read_to_string(dir.path().join("metrics.jsonl"))
            .map_err(|e| XpError::read(dir.path(), e))?;
        let rows: Vec<LogRow> = jsonl
            .lines()
            .map(serde_json::from_str)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| XpError::Run(e.to_string()))?;
        assert_eq!(rows, log.rows);
        assert_eq!(rows[1].accuracy, None);
        Ok(())
    }
}
