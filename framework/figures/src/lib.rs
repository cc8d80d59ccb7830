//! The figures of xp's runs and studies, drawn with plotters in one style
//! ([`style`]): step ticks as whole numbers, legends beside the data, one blue scale
//! for shares. Each label is drawn in an installed font that has its characters
//! ([`fonts`]).
//!
//! Drawing functions write a PNG at the path they are given; where the file goes and
//! how it replaces an older one is the caller's (xp's run folder writes it beside its
//! destination and renames it over).

mod attention;
pub mod fonts;
mod run;
pub mod style;

pub use attention::attention_grid;
pub use run::{confusion, metrics_grid, total_loss, Cells, Row, Stages};

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// What drawing gives: nothing, or why it failed.
pub type Drawn = Result<(), String>;

/// A drawing error as text.
pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws into a PNG of `size` at `path`, on white.
pub fn png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Drawn,
) -> Drawn {
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    draw(&root)?;
    root.present().map_err(err)
}
