//! Objectives register themselves with `inventory`; the framework finds them by name.

use crate::{nearest, BuildContext, BuildResult, ConfigError};
use candle_nn::VarBuilder;
use serde::Serialize;

/// Builds an objective from its table (without `weight`/`detach`), its head under the `VarBuilder`.
pub type BuildFn = fn(&toml::Table, &BuildContext, VarBuilder) -> BuildResult;

/// What one config field of an objective means, for `xp objectives`.
#[derive(Debug, Clone, Copy)]
pub struct FieldDoc {
    /// The field's name in `[objectives.NAME]`.
    pub name: &'static str,
    /// One line: what it does.
    pub doc: &'static str,
}

/// A registered objective: one per crate, submitted by [`crate::register!`].
#[derive(Clone, Copy)]
pub struct ObjectiveEntry {
    /// The name experiments use (`[objectives.NAME]`).
    pub name: &'static str,
    /// One line for `xp objectives`.
    pub description: &'static str,
    /// Segment embeddings the encoder needs for it (0: none).
    pub segments: usize,
    /// Its own fields with their defaults.
    pub defaults: fn() -> toml::Table,
    /// What each of its own fields means.
    pub fields: &'static [FieldDoc],
    /// Builds it.
    pub build: BuildFn,
}

inventory::collect!(ObjectiveEntry);

/// Every registered objective, sorted by name.
pub fn registered() -> Vec<&'static ObjectiveEntry> {
    let mut all: Vec<_> = inventory::iter::<ObjectiveEntry>.into_iter().collect();
    all.sort_by_key(|e| e.name);
    all
}

/// The objective registered as `name`, or an error listing the registered ones.
pub fn find(name: &str) -> Result<&'static ObjectiveEntry, ConfigError> {
    let all = registered();
    if let Some(entry) = all.iter().find(|e| e.name == name) {
        return Ok(entry);
    }
    let names: Vec<&str> = all.iter().map(|e| e.name).collect();
    Err(ConfigError::UnknownObjective {
        name: name.to_owned(),
        hint: nearest(name, names.iter().copied())
            .map_or(String::new(), |n| format!(" (did you mean `{n}`?)")),
        known: if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        },
    })
}

/// A config value as a TOML table (for [`super::Objective::config`]).
pub fn config_table<T: Serialize>(config: &T) -> toml::Table {
    toml::Table::try_from(config).unwrap_or_default()
}

/// The fields of a config type and their defaults, as a TOML table.
pub fn config_fields<T: Serialize + Default>() -> toml::Table {
    toml::Table::try_from(T::default()).unwrap_or_default()
}
