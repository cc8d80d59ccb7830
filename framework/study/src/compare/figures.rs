//! The comparison's figures: validation curves per objective (a line per point, the
//! mean over seeds, a band from the lowest to the highest seed; a dashed level for a
//! point evaluated once, such as a baseline), and test accuracy per point as a dot
//! with its 95% interval.

use super::{mean_sd_ci, Run, PAIRED_OBJECTIVE};
use plotters::prelude::*;
use std::path::Path;
use xp_figures::style::{legend_on_right, step_chart, Entry};
use xp_figures::{err, png, Drawn};
use xp_framework::train::LogRow;

/// One point's runs: its name and each seed's logged rows.
pub struct PointCurves<'a> {
    /// The point.
    pub name: &'a str,
    /// Each run's metrics rows.
    pub runs: Vec<Vec<LogRow>>,
}

/// `(step, mean, lowest, highest)` of `objective`'s validation accuracy over `runs`.
fn band(runs: &[Vec<LogRow>], objective: &str) -> Vec<(f64, f64, f64, f64)> {
    let mut steps: Vec<usize> = runs
        .iter()
        .flatten()
        .filter(|r| r.split == "valid" && r.objective == objective)
        .map(|r| r.step)
        .collect();
    steps.sort_unstable();
    steps.dedup();
    steps
        .into_iter()
        .filter_map(|step| {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|rows| {
                    rows.iter()
                        .find(|r| r.step == step && r.split == "valid" && r.objective == objective)
                        .and_then(|r| r.accuracy)
                })
                .collect();
            let n = values.len() as f64;
            (n > 0.0).then(|| {
                let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (step as f64, values.iter().sum::<f64>() / n, lo, hi)
            })
        })
        .collect()
}

/// `compare_valid.png`: a panel per objective, validation accuracy against step.
pub fn validation_curves(path: &Path, points: &[PointCurves], objectives: &[String]) -> Drawn {
    // One legend for every panel: a point keeps its colour across them.
    let entries: Vec<Entry> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.to_owned(), Palette99::pick(i).to_rgba()))
        .collect();
    let legend_width = entries.iter().map(|e| e.0.len()).max().unwrap_or(0) as u32 * 8 + 60;
    let width = 480 * objectives.len().max(1) as u32 + legend_width;
    png(path, (width, 440), |root| {
        let panels = legend_on_right(root, &entries)?.split_evenly((1, objectives.len().max(1)));
        for (area, objective) in panels.iter().zip(objectives) {
            let bands: Vec<Vec<(f64, f64, f64, f64)>> =
                points.iter().map(|p| band(&p.runs, objective)).collect();
            let max_x = bands.iter().flatten().map(|b| b.0).fold(1.0, f64::max);
            let hi = bands.iter().flatten().map(|b| b.3).fold(0.0, f64::max);
            let lo = bands.iter().flatten().map(|b| b.2).fold(hi, f64::min);
            let pad = ((hi - lo) * 0.05).max(0.005);
            let title = format!("{objective}: validation accuracy");
            let values = (lo - pad).max(0.0)..(hi + pad).min(1.0);
            let mut chart = step_chart(area, &title, max_x, values)?;
            // A point without the objective has no line in its panel.
            for (i, band) in bands.iter().enumerate() {
                if band.is_empty() {
                    continue;
                }
                let color = Palette99::pick(i).to_rgba();
                // A point fitted once (an n-gram baseline) is a level, not a curve.
                if let [(_, mean, _, _)] = band[..] {
                    chart
                        .draw_series(DashedLineSeries::new(
                            [(0.0, mean), (max_x, mean)],
                            8,
                            5,
                            color.stroke_width(2),
                        ))
                        .map_err(err)?;
                    continue;
                }
                let mut outline: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.3)).collect();
                outline.extend(band.iter().rev().map(|b| (b.0, b.2)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        outline,
                        color.mix(0.18).filled(),
                    )))
                    .map_err(err)?;
                chart
                    .draw_series(LineSeries::new(
                        band.iter().map(|b| (b.0, b.1)),
                        color.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
        }
        Ok(())
    })
}

/// `compare_OBJECTIVE.png`: each point's mean test accuracy with its 95% interval.
pub fn accuracy_intervals(path: &Path, objective: &str, rows: &[(String, f64, f64)]) -> Drawn {
    let label_width = rows.iter().map(|(n, _, _)| n.len()).max().unwrap_or(8) as u32 * 7 + 16;
    let height = 90 + 34 * rows.len().max(1) as u32;
    png(path, (620 + label_width, height), |root| {
        let lo = rows.iter().map(|(_, m, h)| m - h).fold(1.0, f64::min);
        let hi = rows.iter().map(|(_, m, h)| m + h).fold(0.0, f64::max);
        let pad = ((hi - lo) * 0.1).max(0.005);
        let n = rows.len();
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("{objective}: test accuracy, mean and 95% interval over seeds"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(label_width)
            .build_cartesian_2d((lo - pad)..(hi + pad), -0.5..(n as f64 - 0.5))
            .map_err(err)?;
        chart
            .configure_mesh()
            .y_labels(n.max(1))
            .y_label_formatter(&|y| {
                let i = y.round() as usize;
                if (y - i as f64).abs() < 1e-6 {
                    rows.get(n.saturating_sub(1 + i))
                        .map_or(String::new(), |r| r.0.clone())
                } else {
                    String::new()
                }
            })
            .x_desc("accuracy")
            .max_light_lines(1)
            .disable_y_mesh()
            .draw()
            .map_err(err)?;
        for (i, (_, mean, half)) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(mean - half, y), (mean + half, y)],
                    color.stroke_width(3),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Circle::new((*mean, y), 6, color.filled())))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// What drawing a comparison's figures gave: the files drawn, and a warning for each
/// figure that could not be.
#[derive(Debug, Default)]
pub struct Figures {
    /// The figures written.
    pub drawn: Vec<std::path::PathBuf>,
    /// Why a figure is missing.
    pub warnings: Vec<String>,
}

/// Draws into `dir` the validation curves of every objective with an accuracy and the
/// test accuracy of [`PAIRED_OBJECTIVE`] per point.
pub fn write(runs: &[Run], dir: &Path) -> Figures {
    let mut names: Vec<&str> = runs.iter().map(|r| r.point.as_str()).collect();
    names.dedup();
    let curves: Vec<PointCurves> = names
        .iter()
        .map(|name| PointCurves {
            name,
            runs: runs
                .iter()
                .filter(|r| r.point == *name)
                .map(|r| xp_framework::run::read_log(&r.dir))
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
    let mut figures = Figures::default();
    let mut draw =
        |path: std::path::PathBuf, figure: &dyn Fn(&Path) -> Drawn| match xp_framework::run::draw(
            &path, figure,
        ) {
            Ok(()) => figures.drawn.push(path),
            Err(e) => figures
                .warnings
                .push(format!("{} not drawn: {e}", path.display())),
        };
    if !objectives.is_empty() {
        draw(dir.join("compare_valid.png"), &|p| {
            validation_curves(p, &curves, &objectives)
        });
    }
    let accuracy: Vec<(String, f64, f64)> = names
        .iter()
        .filter_map(|name| {
            let values: Vec<f64> = runs
                .iter()
                .filter(|r| r.point == *name)
                .filter_map(|r| r.test_accuracy(PAIRED_OBJECTIVE))
                .collect();
            let (mean, _, half) = mean_sd_ci(&values);
            (!values.is_empty()).then(|| ((*name).to_owned(), mean, half))
        })
        .collect();
    if !accuracy.is_empty() {
        draw(dir.join(format!("compare_{PAIRED_OBJECTIVE}.png")), &|p| {
            accuracy_intervals(p, PAIRED_OBJECTIVE, &accuracy)
        });
    }
    figures
}
