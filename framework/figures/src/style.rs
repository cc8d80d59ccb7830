//! What every figure shares: step ticks as whole numbers, legends in a strip of their
//! own (never on the data), a blue scale for shares with its colour bar.

use crate::{err, Drawn};
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A drawing area of a PNG.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Steps as whole numbers, thousands with a k (`500`, `2k`, `12.5k`).
pub fn step_label(x: f64) -> String {
    match x {
        x if x >= 1000.0 => format!("{}k", (x / 100.0).round() / 10.0),
        x => format!("{}", x.round()),
    }
}

/// A chart of values against training steps in `area`, with its mesh drawn: steps
/// as whole numbers along the bottom.
pub fn step_chart<'a, 'b>(
    area: &'a Area<'b>,
    title: &str,
    max_step: f64,
    values: std::ops::Range<f64>,
) -> Result<ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String>
{
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(8)
        .margin_right(20)
        .x_label_area_size(30)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..max_step, values)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .x_label_formatter(&|x| step_label(*x))
        .max_light_lines(2)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// A legend entry: a label and its line colour.
pub type Entry = (String, RGBAColor);

/// Width in pixels of `text` in a legend, as the font lays it out (a generous guess
/// when the font cannot be measured).
fn text_width(area: &Area, text: &str) -> u32 {
    let style = TextStyle::from(("sans-serif", LEGEND_FONT).into_font());
    area.estimate_text_size(text, &style)
        .map(|(width, _)| width)
        .unwrap_or_else(|_| (text.chars().count() as u32 * LEGEND_FONT * 13).div_ceil(20))
}

/// Splits a strip off the top of `root` and draws `entries` across it, left to right;
/// returns the rest of `root` for the charts.
pub fn legend_on_top<'a>(root: &Area<'a>, entries: &[Entry]) -> Result<Area<'a>, String> {
    let (strip, rest) = root.split_vertically(30);
    let widths: Vec<u32> = entries
        .iter()
        .map(|(l, _)| 34 + text_width(root, l) + 18)
        .collect();
    let total: u32 = widths.iter().sum();
    let mut x = (strip.dim_in_pixel().0.saturating_sub(total) / 2) as i32;
    for ((label, color), width) in entries.iter().zip(widths) {
        entry(&strip, (x, 15), label, *color)?;
        x += width as i32;
    }
    Ok(rest)
}

/// Splits a strip off the right of `root` and draws `entries` down it; returns the
/// rest of `root` for the charts.
pub fn legend_on_right<'a>(root: &Area<'a>, entries: &[Entry]) -> Result<Area<'a>, String> {
    let widest = entries
        .iter()
        .map(|(l, _)| text_width(root, l))
        .max()
        .unwrap_or(0);
    // Each entry's label starts 42 pixels in (see `entry`); 8 more to spare.
    let (rest, strip) = root.split_horizontally(root.dim_in_pixel().0.saturating_sub(widest + 50));
    for (i, (label, color)) in entries.iter().enumerate() {
        entry(&strip, (8, 50 + 22 * i as i32), label, *color)?;
    }
    Ok(rest)
}

/// The size of a legend's labels, in pixels.
const LEGEND_FONT: u32 = 14;

/// One legend entry: a short thick line and its label, centred on `y`.
fn entry(area: &Area, (x, y): (i32, i32), label: &str, color: RGBAColor) -> Drawn {
    area.draw(&PathElement::new(
        vec![(x, y), (x + 26, y)],
        color.stroke_width(3),
    ))
    .map_err(err)?;
    let style = ("sans-serif", LEGEND_FONT)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    area.draw(&Text::new(label.to_owned(), (x + 34, y), style))
        .map_err(err)
}

/// The colour of `share` (0 to 1) on the blue scale: white to full blue.
pub fn share_color(share: f64) -> RGBColor {
    let v = (255.0 * (1.0 - share.clamp(0.0, 1.0))) as u8;
    RGBColor(v, v, 255)
}

/// A vertical colour bar of the blue scale, 0 at the bottom to 1 at the top, its ticks
/// written by `label`, in `area` (a strip beside the chart).
pub fn color_bar(area: &Area, title: &str, label: &dyn Fn(f64) -> String) -> Drawn {
    // A short figure (one small attention map) gets thinner margins and fewer ticks.
    let height = area.dim_in_pixel().1;
    let margin = (height / 6).clamp(24, 60);
    let ticks = (height.saturating_sub(2 * margin) / 24).clamp(2, 6) as usize;
    let mut chart = ChartBuilder::on(area)
        .margin_top(margin)
        .margin_bottom(margin)
        .margin_right(8)
        .y_label_area_size(40)
        .caption(title, ("sans-serif", 13))
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(ticks)
        .y_label_style(("sans-serif", 12))
        .y_label_formatter(&|v| label(*v))
        .draw()
        .map_err(err)?;
    chart
        .draw_series((0..100).map(|i| {
            let y = i as f64 / 100.0;
            Rectangle::new([(0.0, y), (1.0, y + 0.01)], share_color(y).filled())
        }))
        .map_err(err)?;
    Ok(())
}

/// A chart of cells: segmented `usize` axes both ways.
pub type SegmentGrid =
    Cartesian2d<SegmentedCoord<RangedCoordusize>, SegmentedCoord<RangedCoordusize>>;

/// Labels a grid of `names.len()` cells both ways: the names down the left (the first
/// at the top) and written down from the bottom axis, at `size` points, each in an
/// installed font that has its characters ([`crate::fonts`]).
pub fn label_grid<'a, DB: DrawingBackend + 'a>(
    area: &DrawingArea<DB, Shift>,
    chart: &mut ChartContext<'a, DB, SegmentGrid>,
    names: &[String],
    size: u32,
) -> Drawn {
    let n = names.len();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n)
        .y_labels(n)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|_| String::new())
        .draw()
        .map_err(err)?;
    let (families, _) = crate::fonts::families(names);
    // The chart gives pixels of the whole image; the area draws relative to itself.
    let (left, top) = area.get_base_pixel();
    for (p, (name, family)) in names.iter().zip(&families).enumerate() {
        let across = (*family, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let row = (SegmentValue::Exact(0), SegmentValue::CenterOf(n - 1 - p));
        let (x, y) = chart.backend_coord(&row);
        area.draw(&Text::new(name.clone(), (x - left - 8, y - top), across))
            .map_err(err)?;
        let down = (*family, size)
            .into_font()
            .transform(FontTransform::Rotate90)
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let column = (SegmentValue::CenterOf(p), SegmentValue::Exact(0));
        let (x, y) = chart.backend_coord(&column);
        area.draw(&Text::new(name.clone(), (x - left, y - top + 9), down))
            .map_err(err)?;
    }
    Ok(())
}

/// Width in pixels of `text` at `size` points, each run in the font that has it.
pub fn mixed_width(text: &str, size: u32) -> u32 {
    crate::fonts::runs(text)
        .iter()
        .map(|(run, family)| {
            (*family, size)
                .into_font()
                .box_size(run)
                .map_or(run.chars().count() as u32 * size, |(w, _)| w)
        })
        .sum()
}

/// `area` with `title` drawn centred along its top, each run of characters in an
/// installed font that has them; returns the area below the title.
pub fn titled<'a>(area: &Area<'a>, title: &str, size: u32) -> Result<Area<'a>, String> {
    let (strip, rest) = area.split_vertically(size + 12);
    let width = mixed_width(title, size) as i32;
    let mut x = (strip.dim_in_pixel().0 as i32 - width).max(0) / 2;
    for (run, family) in crate::fonts::runs(title) {
        let style = (family, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(run.clone(), (x, (size as i32 + 12) / 2), style))
            .map_err(err)?;
        x += (family, size)
            .into_font()
            .box_size(&run)
            .map_or(0, |(w, _)| w as i32);
    }
    Ok(rest)
}

/// Width in pixels of the widest of `texts` at `size` points, each in its font (a
/// generous guess where a font cannot be measured).
pub fn widest(texts: &[String], size: u32) -> u32 {
    let (families, _) = crate::fonts::families(texts);
    texts
        .iter()
        .zip(families)
        .map(|(text, family)| {
            (family, size)
                .into_font()
                .box_size(text)
                .map(|(w, _)| w)
                .unwrap_or(text.chars().count() as u32 * size)
        })
        .max()
        .unwrap_or(0)
}
