//! Training objectives: the trait each one implements, the registry they join, and the
//! batch types between the corpus, an objective's transform and the encoder.

mod batch;
mod context;
mod loss;
mod masking;
mod pairs;
mod pooling;
mod registry;
mod serving;
mod settings;

pub use batch::{DeviceBatch, EncoderIds, NameBatch, Prepared};
pub use context::BuildContext;
pub use loss::smoothed_cross_entropy;
pub use masking::{mask_characters, Masked};
pub use pairs::PairRows;
pub use pooling::{gather_rows, pool_mean, pool_start, Pool};
pub use registry::{config_fields, config_table, find, registered, BuildFn, ObjectiveEntry};
pub use serving::{export_pooled, serve_pooled};
pub use settings::ObjectiveSettings;
pub use xp_format::Serving;

use candle_core::Tensor;
use rand::rngs::SmallRng;
use xp_models::onnx::OnnxGraph;
use xp_models::Mode;

/// Why an objective could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum ObjectiveError {
    /// Its configuration is wrong.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// A training objective: how a batch of names becomes its input and targets, its head,
/// its loss and its accuracy. `weight` and `detach` are the framework's business.
/// `Send + Sync`: slices of a batch train on several threads at once.
pub trait Objective: Send + Sync {
    /// The registered name (`CLS`, `MLM`, ...).
    fn name(&self) -> &str;

    /// Its resolved configuration (defaults filled in), saved with every run.
    fn config(&self) -> toml::Table;

    /// Clean names -> encoder input, the rows the head reads, and targets (CPU, seeded).
    fn prepare(&self, batch: &NameBatch, rng: &mut SmallRng) -> Prepared;

    /// Encoder output `(batch, seq, dim)` -> logits `(targets, classes)`.
    fn logits(
        &self,
        hidden: &Tensor,
        batch: &DeviceBatch,
        mode: &Mode,
    ) -> candle_core::Result<Tensor>;

    /// Mean loss of `logits` against `targets`; cross-entropy unless overridden.
    fn loss(&self, logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::loss::cross_entropy(logits, targets)
    }

    /// Class names when the targets are labels worth a confusion matrix.
    fn class_names(&self) -> Option<Vec<String>> {
        None
    }

    /// How the objective reads the encoder when served (and exported to ONNX);
    /// `None`, the default, leaves it out of exported models.
    fn serving(&self) -> Option<Serving> {
        None
    }

    /// Inference: the eval-mode encoder output `(batch, seq, dim)` of `tokens`
    /// `(batch, seq)` -> the objective's served output (what [`Objective::export`]
    /// computes). Needed when [`Objective::serving`] is `Some`.
    fn serve(&self, hidden: &Tensor, tokens: &Tensor) -> candle_core::Result<Tensor> {
        let _ = (hidden, tokens);
        candle_core::bail!("objective {} is not served", self.name())
    }

    /// Appends the ONNX nodes computing [`Objective::serve`] to `graph`, reading the
    /// tensors named `hidden` and `tokens` (int64), with head weights named under
    /// `prefix` (`heads.NAME`); returns the output tensor's name.
    fn export(
        &self,
        graph: &mut OnnxGraph,
        hidden: &str,
        tokens: &str,
        prefix: &str,
    ) -> candle_core::Result<String> {
        let _ = (graph, hidden, tokens, prefix);
        candle_core::bail!("objective {} has no ONNX export", self.name())
    }
}
