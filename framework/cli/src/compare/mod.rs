//! `xp compare RUN_OR_SWEEP...`: finished runs grouped by point (seeds pooled), each
//! objective's test loss and accuracy as mean, sd and a 95% confidence interval over
//! seeds, steps to the best checkpoint and wall time; as a table, Markdown, or
//! long-form CSV/JSON rows.

mod figures;
mod paired;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How `xp compare` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A terminal table.
    Table,
    /// A Markdown table.
    Markdown,
    /// Long-form CSV rows: point, seed, split, objective, metric, value.
    Csv,
    /// The same rows as a JSON array.
    Json,
}

/// One finished run's summary.
#[derive(Debug, Clone)]
struct Run {
    point: String,
    dir: PathBuf,
    summary: serde_json::Value,
}

/// One long-form row.
#[derive(Debug, Clone, Serialize)]
struct Row {
    point: String,
    seed: u64,
    split: String,
    objective: String,
    metric: String,
    value: f64,
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

/// `xp compare`; with `against`, every other point is also compared with that one.
pub fn compare(paths: &[PathBuf], format: Format, against: Option<&str>) -> Result<()> {
    let runs = collect(paths)?;
    if let Some(reference) = against {
        if !runs.iter().any(|r| r.point == reference) {
            let points: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
            bail!(
                "--against {reference}: no such point; the points are {}",
                points.join(", ")
            );
        }
    }
    let rows = long_rows(&runs);
    match format {
        Format::Csv => {
            println!("point,seed,split,objective,metric,value");
            for r in &rows {
                println!(
                    "{},{},{},{},{},{}",
                    r.point, r.seed, r.split, r.objective, r.metric, r.value
                );
            }
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table | Format::Markdown => print_table(&runs, format),
    }
    if let Some(reference) = against {
        print_paired(&runs, reference)?;
    }
    if let Some(dir) = paths.first().filter(|p| p.is_dir()) {
        write_figures(&runs, dir);
    }
    Ok(())
}

/// The figures, in `dir`: validation curves and the test accuracy of CLS per point.
/// A figure that cannot be drawn is a warning.
fn write_figures(runs: &[Run], dir: &Path) {
    let mut names: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
    names.dedup();
    let curves: Vec<figures::PointCurves> = names
        .iter()
        .map(|name| figures::PointCurves {
            name,
            runs: runs
                .iter()
                .filter(|r| r.point == *name)
                .map(|r| crate::report::read_log(&r.dir))
                .collect(),
        })
        .collect();
    let mut objectives: Vec<String> = curves
        .iter()
        .flat_map(|c| c.runs.iter().flatten())
        .filter(|r| r.accuracy.is_some())
        .map(|r| r.objective.clone())
        .collect();
    objectives.sort();
    objectives.dedup();
    let mut drawn = Vec::new();
    let mut draw = |file: &str, result: Result<(), String>| match result {
        Ok(()) => drawn.push(dir.join(file).display().to_string()),
        Err(e) => eprintln!("warning: {file} not drawn: {e}"),
    };
    if !objectives.is_empty() {
        let path = dir.join("compare_valid.png");
        draw(
            "compare_valid.png",
            figures::validation_curves(&path, &curves, &objectives),
        );
    }
    let accuracy: Vec<(String, f64, f64)> = names
        .iter()
        .filter_map(|name| {
            let values: Vec<f64> = runs
                .iter()
                .filter(|r| r.point == *name)
                .filter_map(|r| {
                    r.summary["splits"]["test"]["objectives"][PAIRED_OBJECTIVE]["accuracy"].as_f64()
                })
                .collect();
            let (mean, _, half) = mean_sd_ci(&values);
            (!values.is_empty()).then(|| ((*name).to_owned(), mean, half))
        })
        .collect();
    if !accuracy.is_empty() {
        let file = format!("compare_{PAIRED_OBJECTIVE}.png");
        let path = dir.join(&file);
        draw(
            &file,
            figures::accuracy_intervals(&path, PAIRED_OBJECTIVE, &accuracy),
        );
    }
    if !drawn.is_empty() {
        eprintln!("figures: {}", drawn.join(", "));
    }
}

/// The class objective the paired comparison reads.
const PAIRED_OBJECTIVE: &str = "CLS";

/// Every other point against `reference`, on the seeds both ran.
fn print_paired(runs: &[Run], reference: &str) -> Result<()> {
    let seed = |r: &Run| r.summary["seed"].as_u64();
    let mut points: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
    points.dedup();
    let width = points.iter().map(|p| p.len()).max().unwrap_or(5).max(5);
    println!(
        "\nagainst {reference}, {PAIRED_OBJECTIVE} test accuracy on the seeds both ran (names resampled within each seed for the interval; McNemar's test pools the seeds):"
    );
    println!(
        "{:<width$} {:>5} {:>9} {:>20} {:>6} {:>6} {:>8} {:>8}",
        "point", "seeds", "diff", "95% bootstrap", "b", "c", "chi2", "p"
    );
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
                paired::correct(&run.dir, PAIRED_OBJECTIVE)?,
                paired::correct(&other.dir, PAIRED_OBJECTIVE)?,
            ));
        }
        let p = paired::paired(&pairs).with_context(|| format!("{point} against {reference}"))?;
        println!(
            "{point:<width$} {:>5} {:>+9.4} {:>20} {:>6} {:>6} {:>8.3} {:>8.4}",
            p.seeds,
            p.difference,
            format!("[{:+.4}, {:+.4}]", p.interval.0, p.interval.1),
            p.only_this,
            p.only_reference,
            p.chi_square,
            p.p_value
        );
    }
    println!("(b: names this point gets right and the reference wrong; c: the reverse)");
    Ok(())
}

/// Every finished run under `paths`: a run folder, or a folder holding runs (a
/// sweep: `POINT/seed-N`); a run's point is its folder's parent in a sweep
/// (`seed-N`), else its own name.
fn collect(paths: &[PathBuf]) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    for path in paths {
        if !path.is_dir() {
            bail!(
                "{} {}: give run or sweep folders (e.g. runs/reference_study)",
                path.display(),
                if path.exists() {
                    "is not a folder"
                } else {
                    "does not exist"
                }
            );
        }
        let before = runs.len();
        find_runs(path, &mut runs)?;
        if runs.len() == before {
            bail!(
                "{} holds no finished run (no summary.json): give run or sweep folders",
                path.display()
            );
        }
    }
    Ok(runs)
}

fn find_runs(dir: &Path, out: &mut Vec<Run>) -> Result<()> {
    let summary = dir.join("summary.json");
    if summary.is_file() {
        let text = std::fs::read_to_string(&summary)
            .with_context(|| format!("cannot read {}", summary.display()))?;
        let summary: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a summary written by xp", dir.display()))?;
        if summary["format"] != 2 {
            bail!(
                "{} was written by an older xp (summary format {}): `xp eval` it, or run it again",
                dir.display(),
                summary["format"]
            );
        }
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
fn long_rows(runs: &[Run]) -> Vec<Row> {
    let mut rows = Vec::new();
    for run in runs {
        let seed = run.summary["seed"].as_u64().unwrap_or(0);
        let Some(splits) = run.summary["splits"].as_object() else {
            continue;
        };
        for (split, metrics) in splits {
            let row = |objective: &str, metric: &str, value: f64| Row {
                point: run.point.clone(),
                seed,
                split: split.clone(),
                objective: objective.to_owned(),
                metric: metric.to_owned(),
                value,
            };
            if let Some(total) = metrics["total"].as_f64() {
                rows.push(row("total", "loss", total));
            }
            for (objective, m) in metrics["objectives"].as_object().into_iter().flatten() {
                for metric in ["loss", "accuracy"] {
                    if let Some(v) = m[metric].as_f64() {
                        rows.push(row(objective, metric, v));
                    }
                }
            }
        }
    }
    rows
}

/// A row per point: test accuracy and loss per objective, steps to best, wall time.
fn print_table(runs: &[Run], format: Format) {
    let mut points: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for run in runs {
        points.entry(run.point.as_str()).or_default().push(run);
    }
    let mut objectives: Vec<String> = Vec::new();
    for run in runs {
        for name in run.summary["splits"]["test"]["objectives"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if !objectives.contains(name) {
                objectives.push(name.clone());
            }
        }
    }
    let mut header = vec!["point".to_owned(), "seeds".to_owned()];
    for o in &objectives {
        header.push(format!("{o} test acc"));
        header.push(format!("{o} test loss"));
    }
    header.extend(["best step".to_owned(), "wall s".to_owned()]);
    let mut lines = Vec::new();
    for (point, runs) in &points {
        let values = |f: &dyn Fn(&serde_json::Value) -> Option<f64>| -> Vec<f64> {
            runs.iter().filter_map(|r| f(&r.summary)).collect()
        };
        let cell = |v: Vec<f64>, digits: usize| {
            match v.len() {
                0 => return "-".to_owned(),
                // One seed has no spread to show: its value alone.
                1 => return format!("{:.digits$}", v[0]),
                _ => {}
            }
            let (mean, sd, ci) = mean_sd_ci(&v);
            format!("{mean:.digits$} ±{ci:.digits$} (sd {sd:.digits$})")
        };
        let mut line = vec![(*point).to_owned(), runs.len().to_string()];
        for o in &objectives {
            for (metric, digits) in [("accuracy", 3), ("loss", 3)] {
                line.push(cell(
                    values(&|s| s["splits"]["test"]["objectives"][o][metric].as_f64()),
                    digits,
                ));
            }
        }
        line.push(cell(values(&|s| s["best_step"].as_f64()), 0));
        line.push(cell(values(&|s| s["train_seconds"].as_f64()), 1));
        lines.push(line);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let render = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        match format {
            Format::Markdown => format!("| {} |", padded.join(" | ")),
            _ => padded.join("  "),
        }
    };
    println!("{}", render(&header));
    if format == Format::Markdown {
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        println!("| {} |", rule.join(" | "));
    }
    for line in &lines {
        println!("{}", render(line));
    }
    if format == Format::Table {
        println!(
            "(mean ±half-width of a 95% confidence interval over seeds, Student's t; a point with one seed: its value; test split)"
        );
    }
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
