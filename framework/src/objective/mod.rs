//! Training objectives: the plugin SDK (`xp-objective`) re-exported, and the settings
//! every objective has in an experiment.

mod listing;
mod settings;

pub use listing::{listing, FieldListing, ObjectiveListing};
pub use settings::ObjectiveSettings;
pub use xp_objective::*;
