//! The fields every objective has: `weight` and `detach`.

use crate::config::{parse_table, ConfigError};
use serde::{Deserialize, Serialize};
use xp_objective::FieldDoc;

/// How an objective joins the total loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectiveSettings {
    /// Factor of its loss in the total.
    pub weight: f64,
    /// Its head reads a detached encoder output: the encoder gets no gradient from it.
    pub detach: bool,
}

impl Default for ObjectiveSettings {
    fn default() -> Self {
        Self {
            weight: 1.0,
            detach: false,
        }
    }
}

impl ObjectiveSettings {
    /// What `weight` and `detach` mean, for `xp objectives`.
    pub const FIELDS: [FieldDoc; 2] = [
        FieldDoc {
            name: "weight",
            doc: "factor of its loss in the total loss",
        },
        FieldDoc {
            name: "detach",
            doc: "its head reads a detached encoder output: a probe that trains only its head",
        },
    ];

    /// Splits `weight` and `detach` off an objective's table; the rest is the objective's.
    pub fn split(name: &str, table: &toml::Table) -> Result<(Self, toml::Table), ConfigError> {
        let mut own = table.clone();
        let mut generic = toml::Table::new();
        for key in ["weight", "detach"] {
            if let Some(v) = own.remove(key) {
                generic.insert(key.into(), v);
            }
        }
        let settings: Self = parse_table(&generic, &format!("objectives.{name}"))?;
        if !(settings.weight.is_finite() && settings.weight >= 0.0) {
            return Err(ConfigError::invalid(
                &format!("objectives.{name}.weight"),
                "must be a non-negative number",
            ));
        }
        Ok((settings, own))
    }
}
