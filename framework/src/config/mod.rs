//! The experiment file: its types, defaults, overrides and validation.

mod error;
mod experiment;
mod monitor;
mod overrides;
mod suggest;

pub use error::ConfigError;
pub use experiment::{DataConfig, Experiment, ModelConfig, OptimizerKind, TrainConfig};
pub use monitor::Monitor;
pub use overrides::apply_override;
pub use suggest::{nearest, parse_table, with_suggestion};
