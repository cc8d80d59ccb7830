//! The ONNX form of each candle layer: the same maths as its `forward` in eval mode
//! (dropout is the identity), as nodes of an [`OnnxGraph`]. Initializers are named
//! after the checkpoint's tensors under `prefix`, so passes that share a layer share
//! its weights.

use super::graph::{Attr, OnnxGraph};
use crate::ngram_front::{MODULUS, MULTIPLIER};
use crate::{
    Activation, ConvFront, Dense, Encoder, EncoderLayer, Head, LayerNorm, NgramFront, SelfAttention,
};
use candle_core::Result;

/// The additive bias of masked keys, as in the candle encoder.
const MASKED: f32 = -1e9;

impl Dense {
    /// `x W^T + b` on the last axis.
    pub fn to_onnx(&self, g: &mut OnnxGraph, x: &str, prefix: &str) -> Result<String> {
        let w = self.weight().t()?;
        let y = g.matmul_weight(x, &format!("{prefix}.weight_t"), &w)?;
        let b = g.weight(&format!("{prefix}.bias"), self.bias())?;
        Ok(g.op("Add", &[&y, &b], &[]))
    }
}

impl LayerNorm {
    /// ONNX `LayerNormalization` over the last axis.
    pub fn to_onnx(&self, g: &mut OnnxGraph, x: &str, prefix: &str) -> Result<String> {
        let w = g.weight(&format!("{prefix}.weight"), self.weight())?;
        let b = g.weight(&format!("{prefix}.bias"), self.bias())?;
        Ok(g.op(
            "LayerNormalization",
            &[x, &w, &b],
            &[("axis", Attr::Int(-1)), ("epsilon", Attr::Float(1e-5))],
        ))
    }
}

impl Activation {
    /// ReLU, or exact GELU `0.5 x (1 + erf(x / sqrt 2))` (opset 17 has no Gelu op).
    pub fn to_onnx(self, g: &mut OnnxGraph, x: &str) -> String {
        match self {
            Activation::Relu => g.op("Relu", &[x], &[]),
            Activation::Gelu => {
                let sqrt2 = g.const_f32(&[std::f32::consts::SQRT_2], &[]);
                let one = g.const_f32(&[1.0], &[]);
                let half = g.const_f32(&[0.5], &[]);
                let scaled = g.op("Div", &[x, &sqrt2], &[]);
                let erf = g.op("Erf", &[&scaled], &[]);
                let gate = g.op("Add", &[&erf, &one], &[]);
                let y = g.op("Mul", &[x, &gate], &[]);
                g.op("Mul", &[&y, &half], &[])
            }
        }
    }
}

impl SelfAttention {
    /// `x (batch, seq, dim)`, `bias (batch, 1, 1|seq, seq)` -> `(batch, seq, dim)`, and
    /// the attention weights `(batch, heads, seq, seq)`.
    pub fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        x: &str,
        bias: &str,
        prefix: &str,
    ) -> Result<(String, String)> {
        let (in_proj, out_proj) = self.projections();
        let dim = out_proj.weight().dim(0)? as i64;
        let heads = self.heads() as i64;
        let head_dim = dim / heads;
        let qkv = in_proj.to_onnx(g, x, &format!("{prefix}.in_proj"))?;
        let split_shape = g.const_i64(&[0, 0, 3, heads, head_dim], &[5]);
        let qkv = g.op("Reshape", &[&qkv, &split_shape], &[]);
        let qkv = g.op(
            "Transpose",
            &[&qkv],
            &[("perm", Attr::Ints(vec![2, 0, 3, 1, 4]))],
        );
        let mut part = |i: i64| {
            let index = g.const_i64(&[i], &[]);
            g.op("Gather", &[&qkv, &index], &[("axis", Attr::Int(0))])
        };
        let (q, k, v) = (part(0), part(1), part(2));
        let scale = g.const_f32(&[(head_dim as f32).powf(-0.5)], &[]);
        let q = g.op("Mul", &[&q, &scale], &[]);
        let kt = g.op(
            "Transpose",
            &[&k],
            &[("perm", Attr::Ints(vec![0, 1, 3, 2]))],
        );
        let scores = g.op("MatMul", &[&q, &kt], &[]);
        let scores = g.op("Add", &[&scores, bias], &[]);
        let weights = g.op("Softmax", &[&scores], &[("axis", Attr::Int(-1))]);
        let out = g.op("MatMul", &[&weights, &v], &[]);
        let out = g.op(
            "Transpose",
            &[&out],
            &[("perm", Attr::Ints(vec![0, 2, 1, 3]))],
        );
        let merged = g.const_i64(&[0, 0, dim], &[3]);
        let out = g.op("Reshape", &[&out, &merged], &[]);
        let out = out_proj.to_onnx(g, &out, &format!("{prefix}.out_proj"))?;
        Ok((out, weights))
    }
}

impl EncoderLayer {
    /// One layer, post-norm or pre-norm as configured; also returns its attention
    /// weights.
    pub fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        x: &str,
        bias: &str,
        activation: Activation,
        prefix: &str,
    ) -> Result<(String, String)> {
        let (attn, (lin1, lin2), norm1, norm2) = self.parts();
        let attn_prefix = format!("{prefix}.attn");
        let (n1, n2) = (format!("{prefix}.norm1"), format!("{prefix}.norm2"));
        let ffn = |g: &mut OnnxGraph, x: &str| -> Result<String> {
            let h = lin1.to_onnx(g, x, &format!("{prefix}.ffn.lin1"))?;
            let h = activation.to_onnx(g, &h);
            lin2.to_onnx(g, &h, &format!("{prefix}.ffn.lin2"))
        };
        if self.norm_first() {
            let h = norm1.to_onnx(g, x, &n1)?;
            let (a, weights) = attn.to_onnx(g, &h, bias, &attn_prefix)?;
            let x = g.op("Add", &[x, &a], &[]);
            let h = norm2.to_onnx(g, &x, &n2)?;
            let f = ffn(g, &h)?;
            Ok((g.op("Add", &[&x, &f], &[]), weights))
        } else {
            let (a, weights) = attn.to_onnx(g, x, bias, &attn_prefix)?;
            let x = g.op("Add", &[x, &a], &[]);
            let x = norm1.to_onnx(g, &x, &n1)?;
            let f = ffn(g, &x)?;
            let x = g.op("Add", &[&x, &f], &[]);
            Ok((norm2.to_onnx(g, &x, &n2)?, weights))
        }
    }
}

impl ConvFront {
    /// `x (batch, seq, dim)` -> `(batch, seq, dim)`; `seq` is the `[seq]` shape tensor
    /// of `tokens`. A `causal` graph has only the taps up to the position itself.
    pub fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        x: &str,
        (tokens, seq): (&str, &str),
        causal: bool,
    ) -> Result<String> {
        let r = self.reach() as i64;
        let pad_id = g.const_i64(&[crate::PAD_ID as i64], &[]);
        let (zero, one) = (g.const_f32(&[0.0], &[]), g.const_f32(&[1.0], &[]));
        let is_pad = g.op("Equal", &[tokens, &pad_id], &[]);
        let text = g.op("Where", &[&is_pad, &zero, &one], &[]);
        let last = g.const_i64(&[2], &[1]);
        let text = g.op("Unsqueeze", &[&text, &last], &[]);
        let texts = g.op("Mul", &[x, &text], &[]);
        let pads = g.const_i64(&[0, r, 0, 0, r, 0], &[6]);
        let padded = g.op("Pad", &[&texts, &pads], &[]);
        let axis = g.const_i64(&[1], &[1]);
        let taps = if causal { r + 1 } else { 2 * r + 1 };
        let blocks: Vec<String> = (0..taps)
            .map(|tap| {
                let start = g.const_i64(&[tap], &[1]);
                let end = g.op("Add", &[seq, &start], &[]);
                g.op("Slice", &[&padded, &start, &end, &axis], &[])
            })
            .collect();
        let refs: Vec<&str> = blocks.iter().map(String::as_str).collect();
        let view = g.op("Concat", &refs, &[("axis", Attr::Int(2))]);
        let dense = self.taps();
        let view = if causal {
            let columns = taps as usize * dense.weight().dim(0)?;
            let w = dense.weight().narrow(1, 0, columns)?.t()?;
            let y = g.matmul_weight(&view, "encoder.front.causal_weight_t", &w)?;
            let b = g.weight("encoder.front.bias", dense.bias())?;
            g.op("Add", &[&y, &b], &[])
        } else {
            dense.to_onnx(g, &view, "encoder.front")?
        };
        let view = self.activation().to_onnx(g, &view);
        Ok(g.op("Add", &[x, &view], &[]))
    }
}

impl NgramFront {
    /// `x (batch, seq, dim)` -> `(batch, seq, dim)`: the buckets are the same integer
    /// arithmetic as the candle front's, on int64 tensors.
    pub fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        x: &str,
        (tokens, seq): (&str, &str),
    ) -> Result<String> {
        let table = g.weight("encoder.ngrams.weight", self.table())?;
        let one = g.const_i64(&[1], &[]);
        let values = g.op("Add", &[tokens, &one], &[]);
        let (multiplier, modulus) = (
            g.const_i64(&[MULTIPLIER], &[]),
            g.const_i64(&[MODULUS], &[]),
        );
        let buckets = g.const_i64(&[self.table().dim(0)? as i64], &[]);
        let (zero, axis) = (g.const_i64(&[0], &[1]), g.const_i64(&[1], &[1]));
        let mut hash = values.clone();
        let mut x = x.to_string();
        for back in 1..self.longest() as i64 {
            // The values `back` positions before each position; the start value 0 before the text.
            let pads = g.const_i64(&[0, back, 0, 0], &[4]);
            let shifted = g.op("Pad", &[&values, &pads], &[]);
            let shifted = g.op("Slice", &[&shifted, &zero, seq, &axis], &[]);
            let scaled = g.op("Mul", &[&hash, &multiplier], &[]);
            let sum = g.op("Add", &[&scaled, &shifted], &[]);
            hash = g.op("Mod", &[&sum, &modulus], &[]);
            let length = g.const_i64(&[back + 1], &[]);
            let scaled = g.op("Mul", &[&hash, &multiplier], &[]);
            let keyed = g.op("Add", &[&scaled, &length], &[]);
            let keyed = g.op("Mod", &[&keyed, &modulus], &[]);
            let bucket = g.op("Mod", &[&keyed, &buckets], &[]);
            let gram = g.op("Gather", &[&table, &bucket], &[]);
            x = g.op("Add", &[&x, &gram], &[]);
        }
        Ok(x)
    }
}

impl Encoder {
    /// `tokens (batch, seq)` int64 -> hidden `(batch, seq, dim)`; `segments` adds segment
    /// vectors, `causal` the look-ahead mask. Pad keys are masked from the tokens.
    pub fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        tokens: &str,
        segments: Option<&str>,
        causal: bool,
    ) -> Result<String> {
        Ok(self.to_onnx_with_attention(g, tokens, segments, causal)?.0)
    }

    /// Like [`Encoder::to_onnx`], also returning each layer's attention weights
    /// `(batch, heads, seq, seq)` (nodes the pass has anyway: see [`stack_layers`]).
    pub fn to_onnx_with_attention(
        &self,
        g: &mut OnnxGraph,
        tokens: &str,
        segments: Option<&str>,
        causal: bool,
    ) -> Result<(String, Vec<String>)> {
        let emb = g.weight("encoder.tok_emb.weight", self.token_embeddings())?;
        let mut x = g.op("Gather", &[&emb, tokens], &[]);
        let table = g.weight("encoder.positions", &self.positions().served_table()?)?;
        let seq = g.op(
            "Shape",
            &[tokens],
            &[("start", Attr::Int(1)), ("end", Attr::Int(2))],
        );
        let zero = g.const_i64(&[0], &[1]);
        let positions = g.op("Slice", &[&table, &zero, &seq, &zero], &[]);
        x = g.op("Add", &[&x, &positions], &[]);
        if let (Some(table), Some(segments)) = (self.segment_embeddings(), segments) {
            let seg = g.weight("encoder.seg_emb.weight", table)?;
            let seg = g.op("Gather", &[&seg, segments], &[]);
            x = g.op("Add", &[&x, &seg], &[]);
        }
        if let Some(ngrams) = self.ngrams() {
            x = ngrams.to_onnx(g, &x, (tokens, &seq))?;
        }
        if let Some(front) = self.front() {
            x = front.to_onnx(g, &x, (tokens, &seq), causal)?;
        }
        let bias = attention_bias(g, tokens, &seq, causal);
        let activation = self.config().activation;
        let mut maps = Vec::new();
        for (i, layer) in self.layers().iter().enumerate() {
            let (next, weights) =
                layer.to_onnx(g, &x, &bias, activation, &format!("encoder.layers.{i}"))?;
            x = next;
            maps.push(weights);
        }
        Ok((x, maps))
    }
}

/// The layers' attention weights `(batch, heads, seq, seq)` stacked into one
/// `(layers, batch, heads, seq, seq)` tensor.
pub fn stack_layers(g: &mut OnnxGraph, maps: &[String]) -> String {
    let first = g.const_i64(&[0], &[1]);
    let stacked: Vec<String> = maps
        .iter()
        .map(|m| g.op("Unsqueeze", &[m, &first], &[]))
        .collect();
    let refs: Vec<&str> = stacked.iter().map(String::as_str).collect();
    g.op("Concat", &refs, &[("axis", Attr::Int(0))])
}

impl Head {
    /// `(.., dim) -> (.., n_out)`.
    pub fn to_onnx(&self, g: &mut OnnxGraph, x: &str, prefix: &str) -> Result<String> {
        let (dense, norm, activation, weight, bias) = self.parts();
        let h = dense.to_onnx(g, x, &format!("{prefix}.dense"))?;
        let h = norm.to_onnx(g, &h, &format!("{prefix}.norm"))?;
        let h = activation.to_onnx(g, &h);
        let y = g.matmul_weight(&h, &format!("{prefix}.out.weight_t"), &weight.t()?)?;
        let b = g.weight(&format!("{prefix}.out.bias"), &bias)?;
        Ok(g.op("Add", &[&y, &b], &[]))
    }
}

/// `(batch, 1, 1, seq)` pad bias, plus the `(seq, seq)` look-ahead bias when `causal`.
fn attention_bias(g: &mut OnnxGraph, tokens: &str, seq: &str, causal: bool) -> String {
    let pad_id = g.const_i64(&[crate::PAD_ID as i64], &[]);
    let masked = g.const_f32(&[MASKED], &[]);
    let open = g.const_f32(&[0.0], &[]);
    let is_pad = g.op("Equal", &[tokens, &pad_id], &[]);
    let pad = g.op("Where", &[&is_pad, &masked, &open], &[]);
    let axes = g.const_i64(&[1, 2], &[2]);
    let pad = g.op("Unsqueeze", &[&pad, &axes], &[]);
    if !causal {
        return pad;
    }
    let first = g.const_i64(&[0], &[1]);
    let seq = g.op("Squeeze", &[seq, &first], &[]);
    let (start, step) = (g.const_i64(&[0], &[]), g.const_i64(&[1], &[]));
    let range = g.op("Range", &[&start, &seq, &step], &[]);
    let rows = g.const_i64(&[1], &[1]);
    let queries = g.op("Unsqueeze", &[&range, &rows], &[]);
    let keys = g.op("Unsqueeze", &[&range, &first], &[]);
    let ahead = g.op("Greater", &[&keys, &queries], &[]);
    let look_ahead = g.op("Where", &[&ahead, &masked, &open], &[]);
    g.op("Add", &[&pad, &look_ahead], &[])
}
