//! What can be wrong with an experiment.

use std::path::PathBuf;

/// An experiment that cannot be used, with what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read experiment {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped fields.
    #[error("invalid experiment {origin}: {message}")]
    Parse {
        /// The file, or `--set`.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A `--set` argument is not `key=value`.
    #[error("invalid override `{0}`: expected key=value, e.g. --set train.steps=500")]
    Override(String),
    /// A value is outside what it may be.
    #[error("invalid value for `{field}`: {reason}")]
    Invalid {
        /// The dotted field name.
        field: String,
        /// What is wrong and what would do.
        reason: String,
    },
    /// An objective name nobody registered.
    #[error("unknown objective `{name}`{hint}; registered objectives: {known}")]
    UnknownObjective {
        /// The name asked for.
        name: String,
        /// A "did you mean" hint, or empty.
        hint: String,
        /// The registered names.
        known: String,
    },
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `field`.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}
