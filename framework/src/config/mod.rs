//! The experiment file: its types, defaults, overrides and validation.

mod experiment;
mod monitor;
mod overrides;
mod stages;

pub use experiment::{
    DataConfig, Experiment, KernelChoice, ModelConfig, ModelKind, NgramConfig, OptimizerKind,
    TrainConfig,
};
pub use monitor::Monitor;
pub use overrides::apply_override;
pub use stages::{Freeze, InitConfig, Stage, StageConfig};
pub use xp_objective::{line_of_keys, nearest, parse_table, with_suggestion, ConfigError};
