//! `xp figures DIR`: a finished run's figures drawn again from its files; for a
//! tune's folder, the search's.

use anyhow::Result;
use std::path::PathBuf;
use xp_framework::run::{redraw, Cells};
use xp_study::tune::TuneFolder;

/// `xp figures`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory, e.g. runs/four_losses (or a tune's, runs/tune_cls).
    run: PathBuf,
    /// Label the confusion cells with counts of names instead of the row's percent.
    #[arg(long)]
    counts: bool,
}

/// Runs `xp figures`.
pub fn run(args: Args) -> Result<()> {
    let cells = match args.counts {
        true => Cells::Counts,
        false => Cells::Percent,
    };
    let folder = TuneFolder::at(&args.run);
    let drawn = match folder.is_tune() {
        true => {
            let tune = folder.tune()?;
            let (drawn, warnings) = folder.draw_figures(&tune, &folder.search(&tune)?)?;
            if let Some(first) = warnings.first() {
                anyhow::bail!("{first}");
            }
            drawn
        }
        false => redraw(&args.run, cells)?,
    };
    for path in drawn {
        println!("{}", path.display());
    }
    Ok(())
}
