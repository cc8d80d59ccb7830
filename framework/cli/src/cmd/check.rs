//! `xp check EXPERIMENT`: every parameter gets a gradient from each objective.

use crate::args::ExperimentArgs;
use anyhow::Result;

/// `xp check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment.
    #[command(flatten)]
    experiment: ExperimentArgs,
}

/// Runs `xp check`.
pub fn run(args: Args) -> Result<()> {
    let session = crate::resolve::session(&args.experiment)?;
    println!("{}", crate::show::gradient_check(&session)?);
    Ok(())
}
