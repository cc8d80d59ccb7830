//! A text's attention maps: every layer's and head's, in a grid, the tokens as tick
//! labels.

use crate::style::{color_bar, label_grid, mixed_width, share_color, titled};
use crate::{err, png, Drawn};
use plotters::prelude::*;
use std::path::Path;

/// Pixels per token in a map.
const CELL: u32 = 18;

/// One text's attention maps: `maps[layer][head][query][key]` over `tokens`, a row
/// per layer and a column per head, under `title`, with a colour bar.
pub fn attention_grid(
    path: &Path,
    title: &str,
    tokens: &[String],
    maps: &[Vec<Vec<Vec<f32>>>],
) -> Drawn {
    let (layers, heads) = (maps.len(), maps.first().map_or(0, Vec::len));
    let seq = tokens.len() as u32;
    let labels = 52;
    let panel = (seq * CELL + labels + 20, seq * CELL + labels + 40);
    let size = (
        (panel.0 * heads as u32 + 90).max(mixed_width(title, 20) + 30),
        panel.1 * layers as u32 + 50,
    );
    png(path, size, |root| {
        let root = titled(root, title, 20)?;
        let (grid, bar) = root.split_horizontally(size.0 - 80);
        color_bar(&bar, "weight", &|v| format!("{v:.1}"))?;
        let panels = grid.split_evenly((layers, heads.max(1)));
        for (i, area) in panels.iter().enumerate() {
            let (layer, head) = (i / heads.max(1), i % heads.max(1));
            heatmap(area, &maps[layer][head], tokens, layer, head)?;
        }
        Ok(())
    })
}

/// One head's map: rows are queries (first at the top), columns keys.
fn heatmap(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    weights: &[Vec<f32>],
    tokens: &[String],
    layer: usize,
    head: usize,
) -> Drawn {
    let n = tokens.len();
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("layer {} head {}", layer + 1, head + 1),
            ("sans-serif", 14),
        )
        .margin(6)
        .x_label_area_size(52)
        .y_label_area_size(48)
        .build_cartesian_2d(
            (0..n.saturating_sub(1)).into_segmented(),
            (0..n.saturating_sub(1)).into_segmented(),
        )
        .map_err(err)?;
    label_grid(area, &mut chart, tokens, 12)?;
    chart
        .draw_series(weights.iter().enumerate().flat_map(|(q, keys)| {
            keys.iter().enumerate().map(move |(k, &w)| {
                let y = n - 1 - q;
                Rectangle::new(
                    [
                        (SegmentValue::Exact(k), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(k + 1), SegmentValue::Exact(y + 1)),
                    ],
                    share_color(f64::from(w)).filled(),
                )
            })
        }))
        .map_err(err)?;
    Ok(())
}
