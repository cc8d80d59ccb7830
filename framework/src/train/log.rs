//! The metrics log of a run: `metrics.csv` and `metrics.jsonl`, one row per
//! (step, split, objective), and the same figures as TensorBoard scalars
//! (`OBJECTIVE/SPLIT/loss`, `OBJECTIVE/SPLIT/accuracy`, `total/SPLIT/loss`, `lr`),
//! appended and flushed at every evaluation; between evaluations, the running training
//! losses every [`RUNNING_EVERY`] steps (TensorBoard only); at the end, the best
//! checkpoint's figures under `best/`.

use super::SplitMetrics;
use crate::error::{Result, XpError};
use crate::run::{tags, RunFiles};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use xp_tensorboard::EventWriter;

const HEADER: &str = "step,split,objective,loss,accuracy,lr";

/// Steps between two records of the running training losses in the event file (as
/// PyTorch Lightning logs by default).
pub const RUNNING_EVERY: usize = 50;

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

/// Writes metric rows as CSV and JSON lines, and as TensorBoard scalars.
pub struct MetricsLog {
    csv: BufWriter<File>,
    jsonl: BufWriter<File>,
    events: EventWriter,
    csv_path: PathBuf,
    /// Every row so far, for the figures.
    pub rows: Vec<LogRow>,
}

impl MetricsLog {
    /// Creates `metrics.csv`, `metrics.jsonl` and the event file in the run folder
    /// `files`.
    pub fn create(files: &RunFiles) -> Result<Self> {
        let events = EventWriter::create(&files.tensorboard())?;
        Self::start(
            files,
            format!("{HEADER}\n"),
            String::new(),
            Vec::new(),
            events,
        )
    }

    /// Reopens the logs of a run resumed after `step`: rows of later steps and events
    /// past `events_len` bytes (logged before the run stopped, after its resume point)
    /// are dropped, to be logged again; what is kept is the files' own bytes.
    pub fn resume(files: &RunFiles, step: usize, events_len: Option<u64>) -> Result<Self> {
        let read =
            |path: PathBuf| std::fs::read_to_string(&path).map_err(|e| XpError::read(path, e));
        let (csv, jsonl) = (read(files.metrics_csv())?, read(files.metrics_jsonl())?);
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
        let events_path = files.tensorboard();
        let events = match events_len {
            Some(len) => EventWriter::resume(&events_path, len)?,
            None => EventWriter::create(&events_path)?,
        };
        Self::start(files, kept_csv, kept_jsonl, rows, events)
    }

    /// Writes the logs' first bytes atomically, then opens them to append.
    fn start(
        files: &RunFiles,
        csv: String,
        jsonl: String,
        rows: Vec<LogRow>,
        events: EventWriter,
    ) -> Result<Self> {
        let open = |path: PathBuf, text: &str| {
            crate::files::write_atomic(&path, text.as_bytes())?;
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .map(BufWriter::new)
                .map_err(|e| XpError::write(path, e))
        };
        Ok(Self {
            csv: open(files.metrics_csv(), &csv)?,
            jsonl: open(files.metrics_jsonl(), &jsonl)?,
            events,
            csv_path: files.metrics_csv(),
            rows,
        })
    }

    /// Logs every objective and the total of each split's metrics at `step`, then
    /// flushes.
    pub fn log(&mut self, step: usize, splits: &[(&str, &SplitMetrics)], lr: f64) -> Result<()> {
        let rows: Vec<LogRow> = splits
            .iter()
            .flat_map(|(split, m)| rows_of(step, split, m, lr))
            .collect();
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
        let mut scalars = scalars_of(&rows, false);
        scalars.push((tags::LR.to_owned(), lr));
        self.write_scalars(step, &scalars)?;
        self.rows.extend(rows);
        Ok(())
    }

    /// Records the running training losses at `step` (every [`RUNNING_EVERY`] steps)
    /// in the event file: `OBJECTIVE/train/running_loss`.
    pub fn log_running(&mut self, step: usize, losses: &[(String, f64)]) -> Result<()> {
        if !step.is_multiple_of(RUNNING_EVERY) {
            return Ok(());
        }
        let scalars: Vec<(String, f64)> = losses
            .iter()
            .map(|(name, loss)| (tags::running_loss(name), *loss))
            .collect();
        self.write_scalars(step, &scalars)
    }

    /// Records the best checkpoint's metrics on every split at `step` (the run's last)
    /// in the event file, under `best/`: what a sweep's HParams table shows.
    pub fn log_best(&mut self, step: usize, splits: &[(String, SplitMetrics)]) -> Result<()> {
        let rows: Vec<LogRow> = splits
            .iter()
            .flat_map(|(split, m)| rows_of(step, split, m, 0.0))
            .collect();
        self.write_scalars(step, &scalars_of(&rows, true))
    }

    /// The event file's length: where a run resumed from here goes on.
    pub fn events_len(&self) -> u64 {
        self.events.len()
    }

    fn write_scalars(&mut self, step: usize, scalars: &[(String, f64)]) -> Result<()> {
        let values = scalars.iter().map(|(tag, v)| (tag.as_str(), *v));
        self.events.scalars(step as u64, values)?;
        Ok(self.events.flush()?)
    }
}

/// A row per objective of `m`, then its total.
fn rows_of(step: usize, split: &str, m: &SplitMetrics, lr: f64) -> Vec<LogRow> {
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
    rows
}

/// The TensorBoard scalars of `rows` (see [`tags`]), the best checkpoint's when `best`.
fn scalars_of(rows: &[LogRow], best: bool) -> Vec<(String, f64)> {
    let mut scalars = Vec::new();
    for row in rows {
        let tag = |metric| tags::metric(&row.objective, &row.split, metric, best);
        scalars.push((tag(tags::LOSS), row.loss));
        if let Some(accuracy) = row.accuracy {
            scalars.push((tag(tags::ACCURACY), accuracy));
        }
    }
    scalars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Metric;

    #[test]
    fn rows_go_to_csv_and_json_lines_as_they_are_logged() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| XpError::Run(e.to_string()))?;
        let mut log = MetricsLog::create(&RunFiles::at(dir.path()))?;
        let metric = Metric {
            loss: 0.5,
            accuracy: 0.25,
        };
        let m = SplitMetrics {
            objectives: vec![("CLS".into(), metric)],
            total: 0.75,
            predictions: vec![],
        };
        log.log(10, &[("valid", &m)], 1e-4)?;
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
        // The same figures as scalars of the event file, read back by step.
        let events = std::fs::read(RunFiles::at(dir.path()).tensorboard())
            .map_err(|e| XpError::read(dir.path(), e))?;
        let records = xp_tensorboard::record::records(&events);
        assert_eq!(records.len(), 2, "the version record and one event");
        let event = records[1].1;
        assert_eq!(
            xp_tensorboard::proto::read_varint_field(event, xp_tensorboard::event::STEP_FIELD),
            Some(10)
        );
        for tag in [
            "CLS/valid/loss",
            "CLS/valid/accuracy",
            "total/valid/loss",
            "lr",
        ] {
            let found = event.windows(tag.len()).any(|w| w == tag.as_bytes());
            assert!(found, "{tag} is not in the event");
        }
        Ok(())
    }
}
