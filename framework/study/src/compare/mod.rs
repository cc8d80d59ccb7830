//! Finished runs read back for comparison: each run's point (its folder's parent in a
//! sweep), its summary and test predictions; long-form rows of every number; the mean,
//! sd and 95% interval over seeds; and paired comparisons against a reference point
//! (see [`paired`]).

pub mod figures;
pub mod paired;

pub use paired::{accuracy_interval, correct, mcnemar, paired, Correct, Paired};

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::{Path, PathBuf};
use xp_framework::run::{RunFiles, RunSummary};

/// Why runs cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A folder holds no run, a summary or predictions file is unreadable, two runs
    /// do not pair: the message says which and what to do.
    #[error("{0}")]
    Runs(String),
}

/// The class objective paired comparisons read.
pub const PAIRED_OBJECTIVE: &str = "CLS";

/// One finished run's summary.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its point: the folder's parent for `POINT/seed-N`, else the folder's name.
    pub point: String,
    /// Its folder.
    pub dir: PathBuf,
    /// Its summary.
    pub summary: RunSummary,
}

impl Run {
    /// Its test accuracy of `objective`, if it has that objective.
    pub fn test_accuracy(&self, objective: &str) -> Option<f64> {
        self.metric("test", objective).map(|m| m.accuracy)
    }

    /// Its metric of `objective` on `split`.
    pub fn metric(&self, split: &str, objective: &str) -> Option<xp_framework::train::Metric> {
        let metrics = self.summary.split(split)?;
        metrics
            .objectives
            .iter()
            .find(|(o, _)| o == objective)
            .map(|(_, m)| *m)
    }
}

/// One long-form row: a number of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The run's point.
    pub point: String,
    /// Its seed.
    pub seed: u64,
    /// `train`, `valid` or `test`.
    pub split: String,
    /// An objective, or `total`.
    pub objective: String,
    /// `loss` or `accuracy`.
    pub metric: String,
    /// The number.
    pub value: f64,
}

/// Mean, sample sd and the half-width of a 95% confidence interval (Student's t)
/// of `values`; sd and interval are 0 for one value.
pub fn mean_sd_ci(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0, 0.0);
    }
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let t = StudentsT::new(0.0, 1.0, n - 1.0).map_or(f64::NAN, |d| d.inverse_cdf(0.975));
    (mean, sd, t * sd / n.sqrt())
}

/// Every finished run under `paths`: a run folder, or a folder holding runs (a
/// sweep: `POINT/seed-N`); a run's point is its folder's parent in a sweep
/// (`seed-N`), else its own name.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<Run>, CompareError> {
    let mut runs = Vec::new();
    for path in paths {
        if !path.is_dir() {
            return Err(CompareError::Runs(format!(
                "{} {}: give run or sweep folders (e.g. runs/reference_study)",
                path.display(),
                if path.exists() {
                    "is not a folder"
                } else {
                    "does not exist"
                }
            )));
        }
        let before = runs.len();
        find_runs(path, &mut runs)?;
        if runs.len() == before {
            return Err(CompareError::Runs(format!(
                "{} holds no finished run (no {}): give run or sweep folders",
                path.display(),
                RunFiles::SUMMARY
            )));
        }
    }
    Ok(runs)
}

fn find_runs(dir: &Path, out: &mut Vec<Run>) -> Result<(), CompareError> {
    if RunFiles::at(dir).summary().is_file() {
        let summary = RunSummary::read(dir).map_err(|e| CompareError::Runs(e.to_string()))?;
        let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        let point = match (name(dir), dir.parent()) {
            (Some(n), Some(parent)) if n.starts_with("seed-") => name(parent),
            (n, _) => n,
        };
        let point = point.unwrap_or_else(|| "run".into());
        out.push(Run {
            point,
            dir: dir.to_path_buf(),
            summary,
        });
        return Ok(());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for sub in dirs {
        find_runs(&sub, out)?;
    }
    Ok(())
}

/// Every number of every run, one row each.
pub fn long_rows(runs: &[Run]) -> Vec<Row> {
    let mut rows = Vec::new();
    for run in runs {
        let seed = run.summary.seed;
        // Splits and objectives by name, as a table reads them.
        let mut splits: Vec<_> = run.summary.splits.iter().collect();
        splits.sort_by(|a, b| a.0.cmp(&b.0));
        for (split, metrics) in splits {
            let row = |objective: &str, metric: &str, value: f64| Row {
                point: run.point.clone(),
                seed,
                split: split.clone(),
                objective: objective.to_owned(),
                metric: metric.to_owned(),
                value,
            };
            rows.push(row("total", "loss", metrics.total));
            let mut objectives: Vec<_> = metrics.objectives.iter().collect();
            objectives.sort_by(|a, b| a.0.cmp(&b.0));
            for (objective, m) in objectives {
                rows.push(row(objective, "loss", m.loss));
                rows.push(row(objective, "accuracy", m.accuracy));
            }
        }
    }
    rows
}

/// Every point of `runs` but `reference` against it, on the seeds both ran: the
/// paired difference in [`PAIRED_OBJECTIVE`]'s test accuracy, its interval, and
/// McNemar's test; in the points' order.
pub fn paired_against(
    runs: &[Run],
    reference: &str,
) -> Result<Vec<(String, Paired)>, CompareError> {
    let seed = |r: &Run| r.summary.seed;
    let mut points: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
    points.dedup();
    let mut out = Vec::new();
    for point in points.into_iter().filter(|p| *p != reference) {
        let mut pairs = Vec::new();
        for run in runs.iter().filter(|r| r.point == point) {
            let Some(other) = runs
                .iter()
                .find(|r| r.point == reference && seed(r) == seed(run))
            else {
                continue;
            };
            pairs.push((
                correct(&run.dir, PAIRED_OBJECTIVE)?,
                correct(&other.dir, PAIRED_OBJECTIVE)?,
            ));
        }
        let p = paired(&pairs)
            .map_err(|e| CompareError::Runs(format!("{point} against {reference}: {e}")))?;
        out.push((point.to_owned(), p));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_sd_and_interval_match_values_computed_by_hand() {
        // Python's statistics.stdev and Student's t quantiles 4.302653 (2 degrees of
        // freedom) and 12.706205 (1).
        let (mean, sd, ci) = mean_sd_ci(&[0.70, 0.72, 0.75]);
        assert!((mean - 0.723_333_333).abs() < 1e-9);
        assert!((sd - 0.025_166_114_784).abs() < 1e-9);
        assert!((ci - 0.062_516_094_796).abs() < 1e-7, "{ci}");
        let (_, _, ci) = mean_sd_ci(&[0.8, 0.9]);
        assert!((ci - 0.635_310_236_809).abs() < 1e-7, "{ci}");
        assert_eq!(mean_sd_ci(&[0.5]), (0.5, 0.0, 0.0));
    }
}
