//! `xp attention RUN_OR_MODEL NAME...`: one PNG per name, every layer's and head's
//! attention map (a grid, layers down, heads across), the tokens as tick labels, a
//! colour bar, and the predicted language in the title.

use crate::report::figures::{err, png, Drawn};
use crate::report::style::{color_bar, label_grid, mixed_width, share_color, titled};
use crate::serving::ModelSource;
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use xp_serve::attention::{attention, AttentionMaps};
use xp_serve::OnnxModel;

/// `xp attention`.
pub fn run(source: &Path, names: &[String], objective: &str, out: Option<PathBuf>) -> Result<()> {
    let (mut model, default_out) = load(source)?;
    let out = out.unwrap_or(default_out);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut failed = 0;
    for name in names {
        let drawn = attention(&mut model, objective, name)
            .map_err(anyhow::Error::from)
            .and_then(|maps| {
                let path = out.join(format!("attention_{}.png", file_stem(name)));
                figure(&path, &maps)
                    .map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", path.display()))?;
                Ok((path, maps))
            });
        match drawn {
            Ok((path, maps)) => {
                let said = match (&maps.prediction, &maps.predicted_by) {
                    (Some(p), Some(by)) => format!(" ({by}: {} {:.2})", p.label, p.probability),
                    _ => String::new(),
                };
                println!("{name}{said}: {}", path.display());
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {name:?}: {e:#}");
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} of {} names not drawn", names.len());
    Ok(())
}

/// The model at `source` and where its figures go by default: `RUN/attention` for a
/// run, `./attention` for a file.
fn load(source: &Path) -> Result<(OnnxModel, PathBuf)> {
    let model = ModelSource::at(source)?;
    let out = match &model {
        ModelSource::Run(..) => source.join("attention"),
        ModelSource::File(_) => PathBuf::from("attention"),
    };
    Ok((model.open()?, out))
}

/// `name` as a file name: letters and digits kept, the rest `_`.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    if stem.is_empty() {
        "name".to_owned()
    } else {
        stem
    }
}

/// Pixels per token in a map.
const CELL: u32 = 18;

/// The grid of maps: a row per layer, a column per head.
fn figure(path: &Path, maps: &AttentionMaps) -> Drawn {
    let seq = maps.tokens.len() as u32;
    let labels = 52;
    let panel = (seq * CELL + labels + 20, seq * CELL + labels + 40);
    let title = match (&maps.prediction, &maps.predicted_by) {
        (Some(p), Some(by)) => format!(
            "{:?}: {by} says {} ({:.0}%); {} pass",
            maps.input,
            p.label,
            p.probability * 100.0,
            maps.objective
        ),
        _ => format!("{:?}: {} pass", maps.input, maps.objective),
    };
    let size = (
        (panel.0 * maps.heads as u32 + 90).max(mixed_width(&title, 20) + 30),
        panel.1 * maps.layers as u32 + 50,
    );
    png(path, size, |root| {
        let root = titled(root, &title, 20)?;
        let (grid, bar) = root.split_horizontally(size.0 - 80);
        color_bar(&bar, "weight", &|v| format!("{v:.1}"))?;
        let panels = grid.split_evenly((maps.layers, maps.heads));
        for (i, area) in panels.iter().enumerate() {
            let (layer, head) = (i / maps.heads, i % maps.heads);
            heatmap(area, &maps.maps[layer][head], &maps.tokens, layer, head)?;
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
