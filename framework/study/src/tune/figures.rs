//! A tune's figures: the best validation score against the training steps spent
//! (a line per rung), and every trial's score against each searched field.

use super::{Dist, Event, Schedule, Search, Tune};
use plotters::prelude::*;
use std::path::Path;
use xp_figures::style::{legend_on_top, step_chart, Entry};
use xp_figures::{err, png, Drawn};

/// A score as shown: accuracies as such (scores are negated accuracies).
fn shown(score: f64, tune: &Tune) -> f64 {
    if tune.monitor_is_accuracy() {
        -score
    } else {
        score
    }
}

/// `best_vs_compute.png`: for each rung, the best score reached there so far against
/// the steps the finished jobs had trained.
pub fn best_vs_compute(path: &Path, tune: &Tune, events: &[Event]) -> Drawn {
    let schedule: &Schedule = &tune.schedule;
    let mut spent = 0usize;
    let mut lines: Vec<Vec<(f64, f64)>> = vec![Vec::new(); schedule.rungs.len()];
    let mut best: Vec<Option<f64>> = vec![None; schedule.rungs.len()];
    for event in events {
        if let Event::Rung { rung, score, .. } = event {
            spent += schedule.cost(*rung);
            let better = best[*rung].is_none_or(|b| *score < b);
            if better {
                best[*rung] = Some(*score);
            }
            if let Some(b) = best[*rung] {
                lines[*rung].push((spent as f64, shown(b, tune)));
            }
        }
    }
    let values = lines.iter().flatten().map(|p| p.1);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi.max(lo + 1e-3))
    } else {
        (0.0, 1.0)
    };
    let pad = (hi - lo) * 0.08;
    let entries: Vec<Entry> = schedule
        .rungs
        .iter()
        .enumerate()
        .map(|(r, steps)| {
            (
                format!("rung {r} ({steps} steps)"),
                Palette99::pick(r).to_rgba(),
            )
        })
        .collect();
    png(path, (760, 480), |root| {
        let area = legend_on_top(root, &entries)?;
        let title = format!("best {} so far", tune.monitor_name());
        let mut chart = step_chart(
            &area,
            &title,
            (spent as f64).max(1.0),
            (lo - pad)..(hi + pad),
        )?;
        for (r, points) in lines.into_iter().enumerate() {
            let color = Palette99::pick(r).to_rgba();
            // A step line: the best holds until a better one.
            let mut stepped = Vec::new();
            for (i, &(x, y)) in points.iter().enumerate() {
                if i > 0 {
                    stepped.push((x, points[i - 1].1));
                }
                stepped.push((x, y));
            }
            stepped.push((
                (spent as f64).max(1.0),
                points.last().map_or(f64::NAN, |p| p.1),
            ));
            stepped.retain(|p| p.1.is_finite());
            chart
                .draw_series(LineSeries::new(stepped, color.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// `score_by_field.png`: a panel per searched field, each trial's score at the first
/// rung (every trial has one) against its value; the trials that reached the last rung
/// ringed.
pub fn score_by_field(path: &Path, tune: &Tune, search: &Search) -> Drawn {
    let fields = &tune.space;
    let cols = 4usize;
    let rows = fields.len().div_ceil(cols).max(1);
    let last = tune.schedule.rungs.len() - 1;
    let scored: Vec<_> = search
        .trials
        .iter()
        .filter(|t| t.failed.is_none() && !t.scores.is_empty())
        .collect();
    let ys: Vec<f64> = scored.iter().map(|t| shown(t.scores[0], tune)).collect();
    let (lo, hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi.max(lo + 1e-3))
    } else {
        (0.0, 1.0)
    };
    let pad = (hi - lo) * 0.08;
    png(path, (300 * cols as u32, 240 * rows as u32 + 30), |root| {
        let (title, rest) = root.split_vertically(30);
        title
            .titled(
                &format!(
                    "{} at rung 0 ({} steps) by field; ringed: reached the last rung",
                    tune.monitor_name(),
                    tune.schedule.rungs[0]
                ),
                ("sans-serif", 16),
            )
            .map_err(err)?;
        let cells = rest.split_evenly((rows, cols));
        for (param, cell) in fields.iter().zip(&cells) {
            let (x_lo, x_hi) = param.bounds();
            let span = (x_hi - x_lo).max(1.0);
            let pad_x = if matches!(param.dist, Dist::Choice(_)) {
                0.5
            } else {
                span * 0.05
            };
            // Many choices: their names stand upright under the axis.
            let upright = matches!(&param.dist, Dist::Choice(v) if v.len() > 3);
            let mut chart = ChartBuilder::on(cell)
                .caption(&param.field, ("sans-serif", 13))
                .margin(6)
                .x_label_area_size(if upright { 80 } else { 22 })
                .y_label_area_size(40)
                .build_cartesian_2d((x_lo - pad_x)..(x_hi + pad_x), (lo - pad)..(hi + pad))
                .map_err(err)?;
            let labels = |x: &f64| match &param.dist {
                // Upright names are drawn below, not by the mesh.
                Dist::Choice(_) if upright => String::new(),
                Dist::Choice(values) => {
                    let i = x.round();
                    if (x - i).abs() > 1e-6 || i < 0.0 {
                        return String::new();
                    }
                    values.get(i as usize).map_or(String::new(), short)
                }
                Dist::LogUniform(..) | Dist::LogInt(..) => format!("{:.2e}", x.exp()),
                _ => format!("{x:.3}"),
            };
            let mut mesh = chart.configure_mesh();
            mesh.x_label_formatter(&labels)
                .max_light_lines(1)
                .label_style(("sans-serif", 10));
            if let Dist::Choice(values) = &param.dist {
                mesh.x_labels(values.len());
            } else {
                mesh.x_labels(4);
            }
            mesh.draw().map_err(err)?;
            if let (true, Dist::Choice(values)) = (upright, &param.dist) {
                upright_names(cell, &chart, values, lo - pad)?;
            }
            for trial in &scored {
                let Some(x) = trial
                    .sample
                    .get(&param.field)
                    .and_then(|v| param.coordinate(v))
                else {
                    continue;
                };
                let y = shown(trial.scores[0], tune);
                chart
                    .draw_series([Circle::new((x, y), 3, BLUE.mix(0.6).filled())])
                    .map_err(err)?;
                if trial.scores.len() > last {
                    chart
                        .draw_series([Circle::new((x, y), 6, RED.stroke_width(2))])
                        .map_err(err)?;
                }
            }
        }
        Ok(())
    })
}

/// Each choice's name turned a quarter clockwise, starting just under its tick on the
/// x axis (at `y_axis`) and reading downwards, clear of the plot.
fn upright_names<DB: DrawingBackend>(
    cell: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    values: &[toml::Value],
    y_axis: f64,
) -> Drawn {
    let (base_x, base_y) = cell.get_base_pixel();
    let style = ("sans-serif", 10)
        .into_font()
        .transform(FontTransform::Rotate90)
        .color(&BLACK);
    for (i, value) in values.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64, y_axis));
        let at = (x - base_x - 4, y - base_y + 6);
        cell.draw(&Text::new(short(value), at, style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// A choice's value, short: `CLS+MLM` for a set of objectives.
fn short(value: &toml::Value) -> String {
    match value {
        toml::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("+"),
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
