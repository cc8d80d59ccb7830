//! The run's figures, drawn with plotters: a grid with one column per objective (loss
//! row, accuracy row; train red, validation yellow, test blue), the total loss, and
//! confusion matrices. Each PNG is written atomically.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use xp_framework::train::LogRow;

pub(crate) type Drawn = Result<(), String>;

const SPLITS: [(&str, RGBColor); 3] = [
    ("train", RED),
    ("valid", RGBColor(230, 180, 0)),
    ("test", BLUE),
];

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws into a PNG at `path`, atomically.
pub(crate) fn png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Drawn,
) -> Drawn {
    let mut outcome = Ok(());
    xp_framework::files::write_atomic_with(path, |tmp| {
        let root = BitMapBackend::new(tmp, size).into_drawing_area();
        outcome = root
            .fill(&WHITE)
            .map_err(err)
            .and_then(|_| draw(&root))
            .and_then(|_| root.present().map_err(err));
        Ok(())
    })
    .map_err(err)?;
    outcome
}

/// `(step, value)` points of one series.
fn series(
    rows: &[LogRow],
    objective: &str,
    split: &str,
    value: fn(&LogRow) -> Option<f64>,
) -> Vec<(f64, f64)> {
    rows.iter()
        .filter(|r| r.objective == objective && r.split == split)
        .filter_map(|r| {
            value(r)
                .filter(|v| v.is_finite())
                .map(|v| (r.step as f64, v))
        })
        .collect()
}

fn line_chart(
    area: &DrawingArea<BitMapBackend, Shift>,
    title: &str,
    rows: &[LogRow],
    objective: &str,
    value: fn(&LogRow) -> Option<f64>,
) -> Drawn {
    let all: Vec<Vec<(f64, f64)>> = SPLITS
        .iter()
        .map(|(s, _)| series(rows, objective, s, value))
        .collect();
    let points = all.iter().flatten();
    let max_x = points.clone().map(|p| p.0).fold(1.0, f64::max);
    let (lo, hi) = points.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo, if hi > lo { hi } else { lo + 1.0 })
    } else {
        (0.0, 1.0)
    };
    let pad = (hi - lo) * 0.05;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..max_x, (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .max_light_lines(2)
        .draw()
        .map_err(err)?;
    for ((split, color), points) in SPLITS.iter().zip(all) {
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err)?
            .label(*split)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// `metrics.png`: per objective, loss (top) and accuracy (bottom) on each split.
pub fn metrics_grid(path: &Path, rows: &[LogRow]) -> Drawn {
    let mut objectives: Vec<&str> = rows
        .iter()
        .map(|r| r.objective.as_str())
        .filter(|o| *o != "total")
        .collect();
    objectives.dedup();
    objectives.sort();
    objectives.dedup();
    let cols = objectives.len().max(1);
    png(path, (420 * cols as u32, 640), |root| {
        let cells = root.split_evenly((2, cols));
        for (i, objective) in objectives.iter().enumerate() {
            line_chart(
                &cells[i],
                &format!("{objective} loss"),
                rows,
                objective,
                |r| Some(r.loss),
            )?;
            line_chart(
                &cells[cols + i],
                &format!("{objective} accuracy"),
                rows,
                objective,
                |r| r.accuracy,
            )?;
        }
        Ok(())
    })
}

/// `total_loss.png`: the weighted total loss on each split.
pub fn total_loss(path: &Path, rows: &[LogRow]) -> Drawn {
    png(path, (640, 420), |root| {
        line_chart(root, "total loss", rows, "total", |r| Some(r.loss))
    })
}

/// `confusion_NAME.png`: rows are true classes (first at the top), columns
/// predictions, shaded by the share of the row.
pub fn confusion(path: &Path, classes: &[String], matrix: &[Vec<usize>]) -> Drawn {
    let n = classes.len();
    png(path, (780, 760), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "confusion on test (row: true, column: predicted)",
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(90)
            .build_cartesian_2d(
                (0..n.saturating_sub(1)).into_segmented(),
                (0..n.saturating_sub(1)).into_segmented(),
            )
            .map_err(err)?;
        let name = |i: usize| classes.get(i).cloned().unwrap_or_default();
        let column = |v: &SegmentValue<usize>| match v {
            // Columns are narrow: the first four letters name a language well enough.
            SegmentValue::CenterOf(i) => name(*i).chars().take(4).collect(),
            _ => String::new(),
        };
        let row = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => (n - 1).checked_sub(*i).map(name).unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n)
            .y_labels(n)
            .x_label_formatter(&column)
            .y_label_formatter(&row)
            .x_label_style(("sans-serif", 11))
            .y_label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        let cells = matrix.iter().enumerate().flat_map(|(t, counts)| {
            let total = counts.iter().sum::<usize>().max(1) as f64;
            counts.iter().enumerate().map(move |(p, &c)| {
                let v = (255.0 * (1.0 - c as f64 / total)) as u8;
                let (y0, y1) = (n - 1 - t, n - t);
                Rectangle::new(
                    [
                        (SegmentValue::Exact(p), SegmentValue::Exact(y0)),
                        (SegmentValue::Exact(p + 1), SegmentValue::Exact(y1)),
                    ],
                    RGBColor(v, v, 255).filled(),
                )
            })
        });
        chart.draw_series(cells).map_err(err)?;
        Ok(())
    })
}
