//! An objective's head: its training logits, its candle inference and its ONNX form;
//! and the two shapes objectives share, a classifier over a pooled sequence and a
//! token predictor over chosen positions.

use crate::{DeviceBatch, Pool};
use candle_core::{Result, Tensor};
use xp_models::onnx::OnnxGraph;
use xp_models::{Head, Mode};

/// A served objective's output: candle inference and the same as ONNX nodes.
pub trait ServedHead: Send + Sync {
    /// Eval-mode encoder output `(batch, seq, dim)` of `tokens` `(batch, seq)` -> the
    /// served output.
    fn serve(&self, hidden: &Tensor, tokens: &Tensor) -> Result<Tensor>;

    /// Appends the ONNX nodes computing [`ServedHead::serve`] to `graph`, reading the
    /// tensors named `hidden` and `tokens` (int64), with weights named under `prefix`
    /// (`heads.NAME`); returns the output tensor's name.
    fn export(
        &self,
        graph: &mut OnnxGraph,
        hidden: &str,
        tokens: &str,
        prefix: &str,
    ) -> Result<String>;
}

/// What reads the encoder output for an objective, in training and when served.
pub trait ObjectiveHead: ServedHead {
    /// Encoder output `(batch, seq, dim)` -> logits `(targets, classes)` for `batch`.
    fn logits(&self, hidden: &Tensor, batch: &DeviceBatch, mode: &Mode) -> Result<Tensor>;
}

/// A class head reading one pooled vector per row (CLS, NSP, SOP).
pub struct PooledClassifier {
    head: Head,
    pool: Pool,
}

impl PooledClassifier {
    /// `head` over the `pool`ed encoder output.
    pub fn new(head: Head, pool: Pool) -> Self {
        Self { head, pool }
    }
}

impl ObjectiveHead for PooledClassifier {
    /// `(batch, seq, dim)` -> `(batch, classes)`.
    fn logits(&self, hidden: &Tensor, batch: &DeviceBatch, mode: &Mode) -> Result<Tensor> {
        self.head
            .forward(&self.pool.apply(hidden, &batch.tokens)?, mode)
    }
}

impl ServedHead for PooledClassifier {
    fn serve(&self, hidden: &Tensor, tokens: &Tensor) -> Result<Tensor> {
        self.head
            .forward(&self.pool.apply(hidden, tokens)?, &Mode::eval())
    }

    fn export(
        &self,
        graph: &mut OnnxGraph,
        hidden: &str,
        tokens: &str,
        prefix: &str,
    ) -> Result<String> {
        let pooled = self.pool.to_onnx(graph, hidden, tokens);
        self.head.to_onnx(graph, &pooled, prefix)
    }
}

/// A head predicting a token at chosen positions (MLM, LA).
pub struct TokenPredictor {
    head: Head,
}

impl TokenPredictor {
    /// `head` at each position.
    pub fn new(head: Head) -> Self {
        Self { head }
    }
}

impl ObjectiveHead for TokenPredictor {
    /// `(batch, seq, dim)` -> `(targets, vocab)` at the batch's positions.
    fn logits(&self, hidden: &Tensor, batch: &DeviceBatch, mode: &Mode) -> Result<Tensor> {
        self.head.forward(&batch.gathered(hidden)?, mode)
    }
}

impl ServedHead for TokenPredictor {
    /// Every position: `(batch, seq, dim)` -> `(batch, seq, vocab)`.
    fn serve(&self, hidden: &Tensor, _tokens: &Tensor) -> Result<Tensor> {
        self.head.forward(hidden, &Mode::eval())
    }

    fn export(
        &self,
        graph: &mut OnnxGraph,
        hidden: &str,
        _tokens: &str,
        prefix: &str,
    ) -> Result<String> {
        self.head.to_onnx(graph, hidden, prefix)
    }
}
