//! `xp objectives`: the registered objectives, their fields and defaults.

use anyhow::Result;
use xp_framework::objective::{config_fields, registered, ObjectiveSettings};

/// `xp objectives`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xp objectives`.
pub fn run(_: Args) -> Result<()> {
    for entry in registered() {
        println!("{:<6} {}", entry.name, entry.description);
        let mut fields = (entry.defaults)();
        fields.extend(config_fields::<ObjectiveSettings>());
        let docs: std::collections::HashMap<&str, &str> = entry
            .fields
            .iter()
            .chain(&ObjectiveSettings::FIELDS)
            .map(|f| (f.name, f.doc))
            .collect();
        for (key, value) in fields {
            let setting = format!("{key} = {value}");
            match docs.get(key.as_str()) {
                Some(doc) => println!("         {setting:<24} # {doc}"),
                None => println!("         {setting}"),
            }
        }
    }
    Ok(())
}
