//! Training objectives: the plugin SDK (`xp-objective`) re-exported, and the settings
//! every objective has in an experiment.

mod settings;

pub use settings::ObjectiveSettings;
pub use xp_objective::*;
