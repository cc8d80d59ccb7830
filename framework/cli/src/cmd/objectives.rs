//! `xp objectives`: the registered objectives, their fields and defaults.

use anyhow::Result;
use xp_framework::objective::listing;

/// `xp objectives`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xp objectives`.
pub fn run(_: Args) -> Result<()> {
    for objective in listing() {
        println!("{:<6} {}", objective.name, objective.description);
        for field in objective.fields {
            let setting = format!("{} = {}", field.name, field.default);
            match field.doc {
                Some(doc) => println!("         {setting:<24} # {doc}"),
                None => println!("         {setting}"),
            }
        }
    }
    Ok(())
}
