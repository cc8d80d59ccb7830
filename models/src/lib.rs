//! The candle transformer encoder of xp, and the output head every objective uses.
//!
//! The encoder follows PyTorch's `TransformerEncoderLayer` semantics (post-norm or
//! pre-norm, ReLU or GELU, dropout on attention weights and residual branches) with a
//! key-padding mask computed from the tokens and an optional causal mask.
//!
//! Every layer is built from a [`candle_nn::VarBuilder`] path, so the same code creates
//! fresh weights and loads saved ones; the paths are the checkpoint's tensor names.

mod activation;
mod attention;
mod config;
mod conv_front;
mod dense;
mod dropout;
mod encoder;
mod feed_forward;
mod fused;
mod head;
mod kernels;
mod layer;
mod layer_norm;
mod mask;
mod ngram_front;
pub mod onnx;
mod positions;
mod residual;
mod rows;
mod simd;
mod token_rows;

pub use activation::Activation;
pub use attention::SelfAttention;
pub use config::{EncoderConfig, Positions};
pub use conv_front::ConvFront;
pub use dense::Dense;
pub use dropout::{Dropout, Mode};
pub use encoder::{Encoder, EncoderInput, EncoderOutput};
pub use fused::STORED_WEIGHTS;
pub use head::{Head, HeadSpec};
pub use kernels::Kernels;
pub use layer::EncoderLayer;
pub use layer_norm::LayerNorm;
pub use mask::{attention_bias, Causal, PAD_ID};
pub use ngram_front::NgramFront;
pub use positions::PositionEncoding;
pub use rows::{add_rows, mul_rows, repeat_rows};
pub use token_rows::TokenRows;

#[cfg(test)]
mod tests;
