//! Serving exported xp models with ONNX Runtime (`ort`, loaded at run time): the model
//! and its metadata, tokenizing names as training did, and the predictions of
//! `xp predict`.

pub mod attention;
pub mod encode;
pub mod lanes;
pub mod model;
pub mod predict;
pub mod prune;
pub mod runtime;

pub use model::{Logits, ModelInfo, OnnxModel};

/// Why a model could not be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServeError {
    /// ONNX Runtime is missing or failed.
    #[error("{0}")]
    Runtime(String),
    /// The model file is missing, corrupt or not xp's.
    #[error("{0}")]
    Model(String),
    /// An input name or option is unusable.
    #[error("{0}")]
    Input(String),
}
