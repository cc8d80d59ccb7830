//! `xp compare RUN_OR_SWEEP...`: finished runs grouped by point (seeds pooled), each
//! objective's test loss and accuracy as mean, sd and a 95% confidence interval over
//! seeds, steps to the best checkpoint and wall time; as a table, Markdown, or
//! long-form CSV/JSON rows.

mod figures;

use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use xp_study::compare::{collect, long_rows, mean_sd_ci, paired_against, Run, PAIRED_OBJECTIVE};

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
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record(["point", "seed", "split", "objective", "metric", "value"])?;
            for r in &rows {
                let cells = [
                    &r.point,
                    &r.seed.to_string(),
                    &r.split,
                    &r.objective,
                    &r.metric,
                    &r.value.to_string(),
                ];
                out.write_record(cells)?;
            }
            out.flush()?;
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

/// Every other point against `reference`, on the seeds both ran.
fn print_paired(runs: &[Run], reference: &str) -> Result<()> {
    let compared = paired_against(runs, reference)?;
    let width = compared
        .iter()
        .map(|(p, _)| p.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "\nagainst {reference}, {PAIRED_OBJECTIVE} test accuracy on the seeds both ran (names resampled within each seed for the interval; McNemar's test pools the seeds):"
    );
    println!(
        "{:<width$} {:>5} {:>9} {:>20} {:>6} {:>6} {:>8} {:>8}",
        "point", "seeds", "diff", "95% bootstrap", "b", "c", "chi2", "p"
    );
    for (point, p) in &compared {
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
