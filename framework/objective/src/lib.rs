//! The xp plugin SDK: everything an objective crate needs, and nothing of the trainer.
//!
//! An objective turns a batch of clean names into its encoder input and targets
//! ([`Objective::prepare`]), reads the encoder output with its head
//! ([`Objective::logits`]), and registers itself once with [`register!`]. A plugin's
//! `Cargo.toml` names this crate, `candle-core` and `serde`; the rest is re-exported
//! here (`VarBuilder`, `SmallRng` and `Rng`, `toml`, `inventory`).
//!
//! What a plugin reads:
//! - [`NameBatch`]: rows `[CLS] c1 .. cn [PAD]..` of `seq_len` ids, one per name, with
//!   lengths and labels; [`NameBatch::chars`] gives a name's character ids.
//! - The special ids [`PAD`] (0), [`CLS`] (1), [`SEP`] (2), [`MASK`] (3); characters
//!   start at [`NameBatch::first_char_id`]. [`BuildContext::vocab`] maps an id to its
//!   character ([`Vocab::token`]) and back ([`Vocab::id`]).
//! - Building blocks: BERT masking ([`mask_characters`]), two-segment rows
//!   ([`PairRows`], [`cut_point`]), a pooled classifier ([`PooledClassifier`]), a
//!   per-token predictor ([`TokenPredictor`]), label smoothing
//!   ([`smoothed_cross_entropy`]).

mod batch;
mod config_error;
mod context;
mod heads;
mod loss;
mod masking;
mod pairs;
mod pooling;
mod registry;
mod suggest;

pub use batch::{DeviceBatch, EncoderIds, NameBatch, Prepared};
pub use config_error::ConfigError;
pub use config_error::{line_of, line_of_keys};
pub use context::{BuildContext, HeadConfig};
pub use heads::{ObjectiveHead, PooledClassifier, ServedHead, TokenPredictor};
pub use loss::smoothed_cross_entropy;
pub use masking::{mask_characters, Masked};
pub use pairs::{cut_point, PairRows};
pub use pooling::{gather_rows, pool_mean, pool_start, Pool};
pub use registry::{
    config_fields, config_table, find, registered, BuildFn, FieldDoc, ObjectiveEntry,
};
pub use suggest::{nearest, parse_table, with_suggestion};

pub use candle_nn::VarBuilder;
pub use inventory;
pub use rand::rngs::SmallRng;
pub use rand::{Rng, SeedableRng};
pub use toml;
pub use xp_format::{Serving, Vocab, CLS, MASK, PAD, SEP, SPECIALS};
pub use xp_models::onnx::OnnxGraph;
pub use xp_models::{Activation, Head, HeadSpec, Kernels, Mode};

use candle_core::Tensor;

/// What an objective's build function returns.
pub type BuildResult = Result<Box<dyn Objective>, ObjectiveError>;

/// Why an objective could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum ObjectiveError {
    /// Its configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// A training objective: how a batch of names becomes its input and targets, its head,
/// its loss and its accuracy. `weight` and `detach` are the framework's business, and
/// so are its name (stated once, in [`register!`]) and its resolved config (the
/// registered defaults under the experiment's fields).
/// `Send + Sync`: slices of a batch train on several threads at once.
pub trait Objective: Send + Sync {
    /// Clean names -> encoder input, the rows the head reads, and targets (CPU, seeded).
    fn prepare(&self, batch: &NameBatch, rng: &mut SmallRng) -> Prepared;

    /// What reads the encoder output: usually a [`PooledClassifier`] or a
    /// [`TokenPredictor`] built from the [`BuildContext`].
    fn head(&self) -> &dyn ObjectiveHead;

    /// Encoder output `(batch, seq, dim)` -> logits `(targets, classes)`; the head's
    /// unless overridden.
    fn logits(
        &self,
        hidden: &Tensor,
        batch: &DeviceBatch,
        mode: &Mode,
    ) -> candle_core::Result<Tensor> {
        self.head().logits(hidden, batch, mode)
    }

    /// Mean loss of `logits` against `targets`; cross-entropy unless overridden.
    fn loss(&self, logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::loss::cross_entropy(logits, targets)
    }

    /// Class names when the targets are labels worth a confusion matrix.
    fn class_names(&self) -> Option<Vec<String>> {
        None
    }

    /// The encoder pass the objective reads when served (candle inference and its ONNX
    /// export, both through [`Objective::head`]): `[CLS]` first or not, causal or not,
    /// segments or not. `None`, the default, leaves it out of exports.
    fn serving(&self) -> Option<Serving> {
        None
    }
}

/// Registers an objective: one `inventory` entry and the crate's `OBJECTIVE` constant,
/// which a binary names to link the crate (`xp_cli::main_with(&[my_crate::OBJECTIVE])`).
///
/// ```ignore
/// xp_objective::register! {
///     name: "SOP",
///     description: "ALBERT-style sentence-order prediction",
///     segments: 2,             // segment embeddings the encoder needs (0: none)
///     config: SopConfig,       // serde + Default: the fields and their defaults
///     fields: [("swap_prob", "probability that the halves are swapped"), ...],
///     build,                   // fn(&toml::Table, &BuildContext, VarBuilder) -> ...
/// }
/// ```
#[macro_export]
macro_rules! register {
    (
        name: $name:literal,
        description: $description:literal,
        segments: $segments:expr,
        config: $config:ty,
        fields: [$(($field:literal, $doc:literal)),* $(,)?],
        build: $build:path $(,)?
    ) => {
        /// This crate's objective, as registered: name it in the binary's
        /// `xp_cli::main_with` list so that the linker keeps the crate.
        pub const OBJECTIVE: $crate::ObjectiveEntry = $crate::ObjectiveEntry {
            name: $name,
            description: $description,
            segments: $segments,
            defaults: $crate::config_fields::<$config>,
            fields: &[$($crate::FieldDoc { name: $field, doc: $doc }),*],
            build: $build,
        };
        $crate::inventory::submit! { OBJECTIVE }
    };
}
