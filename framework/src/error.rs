//! The framework's error type.

use std::path::PathBuf;

/// Anything that stops an experiment, with a message that says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum XpError {
    /// The experiment is wrong.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The data cannot be read.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// An objective failed to build.
    #[error(transparent)]
    Objective(#[from] crate::objective::ObjectiveError),
    /// A tensor operation failed.
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot write").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A TensorBoard event file could not be read or written.
    #[error(transparent)]
    Events(#[from] xp_tensorboard::EventFileError),
    /// A run directory or checkpoint is unusable.
    #[error("{0}")]
    Run(String),
    /// A loss or gradient stopped being finite.
    #[error("step {step}: {what} is not finite; the run stopped and keeps {kept}: lower train.lr, raise train.grad_clip, or let train.skip_nonfinite skip such steps")]
    NotFinite {
        /// The step.
        step: usize,
        /// What was not finite.
        what: String,
        /// What the run keeps (its best checkpoint and resume point, by step).
        kept: String,
    },
    /// The gradient check found parameters without gradient.
    #[error("gradient check failed:\n{0}")]
    GradientCheck(String),
}

impl XpError {
    /// An [`XpError::Io`] for writing `path`.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action: "cannot write",
            path: path.into(),
            source,
        }
    }

    /// An [`XpError::Io`] for reading `path`.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action: "cannot read",
            path: path.into(),
            source,
        }
    }
}

/// The framework's result.
pub type Result<T, E = XpError> = std::result::Result<T, E>;
