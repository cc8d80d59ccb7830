//! The core of xp: the [`objective::Objective`] trait and its registry, the data
//! (read by `xp-data`), the experiment config, the model assembled from encoder and heads, and the
//! training loop with its reports.
//!
//! The framework names no objective: they live in their own crates and register
//! themselves with `inventory` (see [`objective::ObjectiveEntry`]).

pub mod config;
pub mod data;
pub mod error;
pub mod export;
pub mod files;
pub mod gradcheck;
pub mod memory;
pub mod model;
pub mod objective;
pub mod optim;
pub mod params;
pub mod run;
pub mod stack;
pub mod train;

pub use error::{Result, XpError};
pub use inventory;

/// A seeded generator, as transforms take it.
pub use rand::rngs::SmallRng;
