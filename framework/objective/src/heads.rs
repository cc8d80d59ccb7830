//! The two head shapes objectives share, each with its training logits, its candle
//! inference and its ONNX form: a classifier over a pooled sequence, and a token
//! predictor over chosen positions.

use crate::{DeviceBatch, Pool, Serving};
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

/// How an objective is served: the encoder pass it reads and its head.
pub struct Served<'a> {
    /// The encoder pass: `[CLS]` first or not, causal or not, segments or not.
    pub reads: Serving,
    /// What computes the output from that pass.
    pub head: &'a dyn ServedHead,
}

impl<'a> Served<'a> {
    /// `head` over the encoder pass `reads`.
    pub fn new(reads: Serving, head: &'a dyn ServedHead) -> Self {
        Self { reads, head }
    }
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

    /// `(batch, seq, dim)` -> `(batch, classes)`.
    pub fn logits(&self, hidden: &Tensor, batch: &DeviceBatch, mode: &Mode) -> Result<Tensor> {
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

    /// `(batch, seq, dim)` -> `(targets, vocab)` at the batch's positions.
    pub fn logits(&self, hidden: &Tensor, batch: &DeviceBatch, mode: &Mode) -> Result<Tensor> {
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
