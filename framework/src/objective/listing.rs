//! The registered objectives and their fields, as `xp objectives` lists them.

use super::{config_fields, registered, ObjectiveSettings};

/// One registered objective and every field an experiment may set for it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ObjectiveListing {
    /// Its name (`[objectives.NAME]`).
    pub name: &'static str,
    /// Its one line.
    pub description: &'static str,
    /// Its own fields, then the settings every objective has.
    pub fields: Vec<FieldListing>,
}

/// A field of an objective.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FieldListing {
    /// The key.
    pub name: String,
    /// Its default.
    pub default: toml::Value,
    /// What it does, when documented.
    pub doc: Option<&'static str>,
}

/// Every registered objective (plugins linked in included), by name.
pub fn listing() -> Vec<ObjectiveListing> {
    registered()
        .into_iter()
        .map(|entry| {
            let mut defaults = (entry.defaults)();
            defaults.extend(config_fields::<ObjectiveSettings>());
            let docs: std::collections::HashMap<&str, &'static str> = entry
                .fields
                .iter()
                .chain(&ObjectiveSettings::FIELDS)
                .map(|f| (f.name, f.doc))
                .collect();
            let fields = defaults
                .into_iter()
                .map(|(name, default)| FieldListing {
                    doc: docs.get(name.as_str()).copied(),
                    name,
                    default,
                })
                .collect();
            ObjectiveListing {
                name: entry.name,
                description: entry.description,
                fields,
            }
        })
        .collect()
}
