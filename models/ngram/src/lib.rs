//! The character n-gram baseline: every text's n-grams of token ids (a start and an end
//! marker included) weighted by TF-IDF and L2-normalised, classified by a multinomial
//! logistic regression fitted with L-BFGS; saved as one safetensors file and exported
//! to ONNX through ONNX's own n-gram operator (`TfIdfVectorizer`).

mod config;
mod features;
mod logistic;
mod model;
mod onnx;

pub use config::NgramConfig;
pub use features::{NgramFeatures, SparseRow};
pub use logistic::{FitReport, Logistic};
pub use model::NgramModel;
pub use onnx::export_graph;

/// What can go wrong fitting, saving or loading an n-gram model.
#[derive(Debug, thiserror::Error)]
pub enum NgramError {
    /// The configuration or the data cannot be fitted.
    #[error("{0}")]
    Invalid(String),
    /// A field of `[model.ngram]` has a value that cannot be fitted.
    #[error("{field}: {reason}")]
    Field {
        /// The field, as an experiment writes it (`model.ngram.c`).
        field: String,
        /// What is wrong and the fix.
        reason: String,
    },
    /// The solver failed.
    #[error("the logistic regression's solver failed: {0}")]
    Solver(String),
    /// A model file cannot be read or written.
    #[error("{path}: {why}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        why: String,
    },
}
