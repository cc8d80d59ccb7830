//! The ONNX form of the encoder and heads, built with the `onnx-protobuf` messages.
//!
//! Each layer's `to_onnx` appends the nodes that compute its eval-mode `forward`; the
//! graph builder holds the weights as initializers named after the checkpoint.

mod graph;
mod layers;

pub use layers::stack_layers;

pub use graph::{Attr, Dim, OnnxGraph, WeightFormat, IR_VERSION, OPSET};
pub use onnx_protobuf::{Message, ModelProto};
