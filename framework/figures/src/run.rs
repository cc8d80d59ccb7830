//! A run's figures: a grid with one column per objective (loss row, accuracy row;
//! train red, validation yellow, test blue), the total loss, and confusion matrices.

use crate::style::{color_bar, label_grid, legend_on_top, share_color, step_chart, widest, Entry};
use crate::{err, png, Drawn};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// One logged metric row, as the figures read it.
pub trait Row {
    /// Steps done.
    fn step(&self) -> usize;
    /// `train`, `valid` or `test`.
    fn split(&self) -> &str;
    /// The objective, or `total`.
    fn objective(&self) -> &str;
    /// The mean loss.
    fn loss(&self) -> f64;
    /// The accuracy (none for `total`).
    fn accuracy(&self) -> Option<f64>;
}

const SPLITS: [(&str, RGBColor); 3] = [
    ("train", RED),
    ("valid", RGBColor(230, 180, 0)),
    ("test", BLUE),
];

/// `(step, value)` points of one series.
fn series<R: Row>(
    rows: &[R],
    objective: &str,
    split: &str,
    value: fn(&R) -> Option<f64>,
) -> Vec<(f64, f64)> {
    rows.iter()
        .filter(|r| r.objective() == objective && r.split() == split)
        .filter_map(|r| {
            value(r)
                .filter(|v| v.is_finite())
                .map(|v| (r.step() as f64, v))
        })
        .collect()
}

/// Where a run's stages start: `(the run's step before its first, name)`, empty for
/// a run in one stage.
pub type Stages<'a> = &'a [(usize, String)];

/// The last step logged in `rows`.
fn last_step<R: Row>(rows: &[R]) -> f64 {
    rows.iter().map(|r| r.step() as f64).fold(1.0, f64::max)
}

fn line_chart<R: Row>(
    area: &DrawingArea<BitMapBackend, Shift>,
    title: &str,
    (rows, stages): (&[R], Stages),
    objective: &str,
    value: fn(&R) -> Option<f64>,
) -> Drawn {
    let all: Vec<Vec<(f64, f64)>> = SPLITS
        .iter()
        .map(|(s, _)| series(rows, objective, s, value))
        .collect();
    let points = all.iter().flatten();
    // Every chart spans the whole run, so that stages line up across charts.
    let max_x = last_step(rows);
    let (lo, hi) = points.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo, if hi > lo { hi } else { lo + 1.0 })
    } else {
        (0.0, 1.0)
    };
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let mut chart = step_chart(area, title, max_x, lo..hi)?;
    for ((_, color), points) in SPLITS.iter().zip(all) {
        // A line per stage: the stages' totals are sums of different losses.
        let stage_of = |step: f64| {
            stages
                .iter()
                .filter(|(first, _)| step > *first as f64)
                .count()
        };
        for part in points.chunk_by(|a, b| stage_of(a.0) == stage_of(b.0)) {
            chart
                .draw_series(LineSeries::new(part.to_vec(), color.stroke_width(2)))
                .map_err(err)?;
            // A point alone (a model fitted in one go) draws no line: mark it.
            if let [point] = part {
                chart
                    .draw_series([Circle::new(*point, 4, color.filled())])
                    .map_err(err)?;
            }
        }
    }
    // Each stage: a grey line where it starts (the first's is the axis) and its name.
    let grey = RGBColor(120, 120, 120);
    for (first, name) in stages {
        let x = *first as f64;
        if x > 0.0 {
            chart
                .draw_series(LineSeries::new([(x, lo), (x, hi)], grey.stroke_width(1)))
                .map_err(err)?;
        }
        let label = Text::new(
            format!(" {name}"),
            (x, hi),
            ("sans-serif", 13)
                .into_font()
                .color(&grey)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        );
        chart.draw_series([label]).map_err(err)?;
    }
    Ok(())
}

/// The splits' legend entries.
fn split_entries() -> Vec<Entry> {
    SPLITS
        .iter()
        .map(|(s, c)| ((*s).to_owned(), c.to_rgba()))
        .collect()
}

/// `metrics.png`: per objective, loss (top) and accuracy (bottom) on each split, the
/// stages marked.
pub fn metrics_grid<R: Row>(path: &Path, rows: &[R], stages: Stages) -> Drawn {
    let mut objectives: Vec<&str> = rows
        .iter()
        .map(|r| r.objective())
        .filter(|o| *o != "total")
        .collect();
    objectives.dedup();
    objectives.sort();
    objectives.dedup();
    let cols = objectives.len().max(1);
    png(path, (420 * cols as u32, 670), |root| {
        let cells = legend_on_top(root, &split_entries())?.split_evenly((2, cols));
        for (i, objective) in objectives.iter().enumerate() {
            line_chart(
                &cells[i],
                &format!("{objective} loss"),
                (rows, stages),
                objective,
                |r| Some(r.loss()),
            )?;
            line_chart(
                &cells[cols + i],
                &format!("{objective} accuracy"),
                (rows, stages),
                objective,
                |r| r.accuracy(),
            )?;
        }
        Ok(())
    })
}

/// `total_loss.png`: the weighted total loss on each split (each stage's own total),
/// the stages marked.
pub fn total_loss<R: Row>(path: &Path, rows: &[R], stages: Stages) -> Drawn {
    png(path, (640, 450), |root| {
        let area = legend_on_top(root, &split_entries())?;
        line_chart(&area, "total loss", (rows, stages), "total", |r| {
            Some(r.loss())
        })
    })
}

/// What the cells of a confusion figure are labelled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cells {
    /// The share of the row, in percent.
    Percent,
    /// The count of names.
    Counts,
}

/// `confusion_NAME.png`: rows are true classes (first at the top), columns
/// predictions; each cell shaded by its share of the row and labelled with that share
/// in percent or with its count (empty cells blank), with a colour bar.
pub fn confusion(path: &Path, classes: &[String], matrix: &[Vec<usize>], cells: Cells) -> Drawn {
    let n = classes.len();
    let names_width = widest(classes, 13) + 24;
    let side = 44 * n.max(1) as u32;
    let title = match cells {
        Cells::Percent => "confusion on test (row: true class, column: predicted; % of the row)",
        Cells::Counts => "confusion on test (row: true class, column: predicted; texts)",
    };
    let title_width = widest(&[title.to_owned()], 18) + 100;
    let size = (
        (side + names_width + 140).max(title_width),
        side + names_width + 70,
    );
    png(path, size, |root| {
        let body = root.titled(title, ("sans-serif", 18)).map_err(err)?;
        // Square cells: the grid keeps its own width when the title is wider, and the
        // colour bar stands beside it.
        let (main, rest) = body.split_horizontally(side + names_width + 40);
        let (bar, _) = rest.split_horizontally(90);
        color_bar(&bar, "% of row", &|v| format!("{:.0}%", v * 100.0))?;
        let mut chart = ChartBuilder::on(&main)
            .margin(10)
            .x_label_area_size(names_width)
            .y_label_area_size(names_width)
            .build_cartesian_2d(
                (0..n.saturating_sub(1)).into_segmented(),
                (0..n.saturating_sub(1)).into_segmented(),
            )
            .map_err(err)?;
        label_grid(&main, &mut chart, classes, 13)?;
        let shares: Vec<(usize, usize, f64, usize)> = matrix
            .iter()
            .enumerate()
            .flat_map(|(t, counts)| {
                let total = counts.iter().sum::<usize>().max(1) as f64;
                counts
                    .iter()
                    .enumerate()
                    .map(move |(p, &c)| (t, p, c as f64 / total, c))
            })
            .collect();
        chart
            .draw_series(shares.iter().map(|&(t, p, share, _)| {
                let (y0, y1) = (n - 1 - t, n - t);
                Rectangle::new(
                    [
                        (SegmentValue::Exact(p), SegmentValue::Exact(y0)),
                        (SegmentValue::Exact(p + 1), SegmentValue::Exact(y1)),
                    ],
                    share_color(share).filled(),
                )
            }))
            .map_err(err)?;
        let label = |share: f64, count: usize| match cells {
            Cells::Percent if share < 0.005 => "<1".to_owned(),
            Cells::Percent => format!("{:.0}", share * 100.0),
            Cells::Counts => count.to_string(),
        };
        chart
            .draw_series(
                shares
                    .iter()
                    .filter(|s| s.3 > 0)
                    .map(|&(t, p, share, count)| {
                        let ink = if share > 0.5 { WHITE } else { BLACK };
                        let style = ("sans-serif", 12)
                            .into_font()
                            .color(&ink)
                            .pos(Pos::new(HPos::Center, VPos::Center));
                        let at = (SegmentValue::CenterOf(p), SegmentValue::CenterOf(n - 1 - t));
                        Text::new(label(share, count), at, style)
                    }),
            )
            .map_err(err)?;
        Ok(())
    })
}
