//! Serving helpers shared by objectives whose head reads one pooled vector per row.

use super::Pool;
use candle_core::{Result, Tensor};
use xp_models::onnx::OnnxGraph;
use xp_models::{Head, Mode};

/// Eval-mode `head(pool(hidden))`: `(batch, seq, dim)` -> `(batch, n_out)`.
pub fn serve_pooled(head: &Head, pool: Pool, hidden: &Tensor, tokens: &Tensor) -> Result<Tensor> {
    head.forward(&pool.apply(hidden, tokens)?, &Mode::eval())
}

/// The ONNX form of [`serve_pooled`].
pub fn export_pooled(
    head: &Head,
    pool: Pool,
    graph: &mut OnnxGraph,
    hidden: &str,
    tokens: &str,
    prefix: &str,
) -> Result<String> {
    let pooled = pool.to_onnx(graph, hidden, tokens);
    head.to_onnx(graph, &pooled, prefix)
}
