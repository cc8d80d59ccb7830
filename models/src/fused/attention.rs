//! The attention core as one op: from the input projection's rows `(rows, 3 * dim)`
//! (queries, keys, values side by side) to the heads' outputs in the row layout
//! `(rows, dim)`, with the scaled scores, the additive mask, the softmax, dropout on the
//! weights and the product with the values in between, and a backward pass of its own.
//!
//! Why: composed in candle ops this is a dozen graph nodes per layer (the moves
//! between row and head layouts, two batched products of tiny matrices, the bias, five
//! softmax ops, the dropout), each with a gradient buffer zeroed and added into in the
//! backward pass. The matrices are small (a name is at most a couple of dozen
//! positions), so plain vectorised loops over one (name, head) at a time beat gemm
//! calls here.
//!
//! Positions of the grid without a row (pads, when the rows are packed; see
//! [`TokenRows`]) are zero queries, keys and values, exactly what the composed layer
//! sees there; their keys are masked by the bias.
//!
//! Long texts: the op holds one row of scores at a time, and draws the dropout of the
//! weights where it applies it (the counter-based draws of [`crate::dropout`]), so no
//! `(batch, heads, seq, seq)` mask is made. Up to [`STORED_WEIGHTS`] the forward pass
//! keeps its weights for the backward pass; past it (long texts, large batches) it keeps
//! each row's softmax maximum and sum, and the backward pass computes the row again
//! from them, bit for bit the same: memory grows with the length, not its square.
//! Texts of [`blocks::FROM`] positions or more go through gemm, a block of queries at a
//! time ([`blocks`]).

use super::{values, with_values};
use crate::dropout::{check_elements, Keep};
use crate::simd::{axpy, dot, vectorized, Kernel};
use crate::TokenRows;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use std::sync::OnceLock;

mod blocks;

/// No row at this grid position.
const ABSENT: u32 = u32::MAX;

/// The most attention weights (all heads and texts of a batch) a forward pass keeps
/// for its backward pass: 64 MiB. Past it the backward pass computes them again.
pub const STORED_WEIGHTS: usize = 1 << 24;

/// Multi-head scaled dot-product attention over the rows of a [`TokenRows`].
pub(crate) struct AttentionOp {
    heads: usize,
    scale: f32,
    rows: TokenRows,
    /// The additive mask, `(batch, 1, 1 | seq, seq)`.
    bias: Tensor,
    /// The dropout on the weights: element `i` of the `(batch, heads, seq, seq)` mask
    /// is `keep.value(i)`.
    keep: Option<Keep>,
    /// Weights past this many are computed again in the backward pass.
    stored_weights: usize,
    /// What the forward pass keeps for the backward.
    saved: OnceLock<Saved>,
}

/// What a forward pass keeps for its backward pass.
enum Saved {
    /// The softmax weights (before dropout) of every grid position.
    Weights(Vec<f32>),
    /// The softmax of each `(name, head, query)` row, to compute its weights again.
    Rows(Vec<RowSoftmax>),
}

impl Saved {
    /// The weights when `store`, else the rows' softmaxes.
    fn new(store: bool, weights: Vec<f32>, softmaxes: Vec<RowSoftmax>) -> Self {
        match store {
            true => Self::Weights(weights),
            false => Self::Rows(softmaxes),
        }
    }
}

/// A row's softmax: its largest score and the inverse of its sum of exponentials.
#[derive(Clone, Copy, Default)]
struct RowSoftmax {
    max: f32,
    inv_sum: f32,
}

impl RowSoftmax {
    /// The weights of a row of `scores`, in place; what [`softmax`] made of them.
    #[inline(always)]
    fn weights(self, scores: &mut [f32]) {
        scores
            .iter_mut()
            .for_each(|v| *v = (*v - self.max).exp() * self.inv_sum);
    }
}

/// Sizes of one call.
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    heads: usize,
    seq: usize,
    head_dim: usize,
    /// `heads * head_dim`.
    dim: usize,
    /// 1 when the bias has one row for every query, else `seq`.
    bias_rows: usize,
}

/// The inputs read by both passes.
struct Inputs<'a> {
    qkv: &'a [f32],
    bias: &'a [f32],
    keep: Option<Keep>,
    /// The row at each grid position, or [`ABSENT`].
    slots: &'a [u32],
}

impl AttentionOp {
    /// The op for `heads` heads scaled by `scale`, over `rows`, masked by `bias`,
    /// with dropout `keep` on the weights.
    pub fn new(
        heads: usize,
        scale: f32,
        rows: TokenRows,
        bias: Tensor,
        keep: Option<Keep>,
    ) -> Self {
        Self {
            heads,
            scale,
            rows,
            bias,
            keep,
            stored_weights: STORED_WEIGHTS,
            saved: OnceLock::new(),
        }
    }

    /// The same, keeping at most `limit` weights for the backward pass.
    #[cfg(test)]
    pub fn storing_at_most(mut self, limit: usize) -> Self {
        self.stored_weights = limit;
        self
    }

    fn dims(&self, width: usize) -> Result<Dims> {
        let (batch, seq) = self.rows.grid_dims();
        let dim = width / 3;
        if !width.is_multiple_of(3) || !dim.is_multiple_of(self.heads) {
            candle_core::bail!(
                "attention: {width} columns are not 3 x {} heads",
                self.heads
            )
        }
        let bias_rows = self.bias.dim(2)?;
        if self.bias.dims() != [batch, 1, bias_rows, seq] || (bias_rows != 1 && bias_rows != seq) {
            candle_core::bail!(
                "attention: bias {:?} for a grid of {batch}x{seq}",
                self.bias.dims()
            )
        }
        if self.keep.is_some() {
            check_elements(batch * self.heads * seq * seq)?;
        }
        Ok(Dims {
            batch,
            heads: self.heads,
            seq,
            head_dim: dim / self.heads,
            dim,
            bias_rows,
        })
    }

    /// The row at each grid position.
    fn slots(&self) -> Vec<u32> {
        let (batch, seq) = self.rows.grid_dims();
        let mut slots = vec![ABSENT; batch * seq];
        for (r, &g) in self.rows.grid().iter().enumerate() {
            slots[g as usize] = r as u32;
        }
        slots
    }

    /// Runs `f` on the inputs, given the f32 values of `qkv`.
    fn with_inputs<R>(&self, qkv: &[f32], f: impl FnOnce(&Inputs) -> Result<R>) -> Result<R> {
        let slots = self.slots();
        with_values(&self.bias, |bias| {
            f(&Inputs {
                qkv,
                bias,
                keep: self.keep,
                slots: &slots,
            })
        })
    }

    /// The softmax weights `(batch, heads, seq, seq)` for `qkv` `(rows, 3 * dim)`,
    /// every grid position included (a position without a row is a zero query).
    pub fn weights(&self, qkv: &Tensor) -> Result<Tensor> {
        let d = self.dims(qkv.dims().last().copied().unwrap_or(0))?;
        let (saved, _) = with_values(qkv, |v| {
            self.with_inputs(v, |i| Ok(forward(i, d, self.scale, true)))
        })?;
        let Saved::Weights(p) = saved else {
            unreachable!("a forward pass told to store its weights stores them")
        };
        Tensor::from_vec(p, (d.batch, d.heads, d.seq, d.seq), qkv.device())
    }
}

impl CustomOp1 for AttentionOp {
    fn name(&self) -> &'static str {
        "xp-attention"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let d = self.dims(l.dims().last().copied().unwrap_or(0))?;
        let qkv = values(s, l)?;
        let store = d.batch * d.heads * d.seq * d.seq <= self.stored_weights;
        let (saved, out) = self.with_inputs(qkv, |i| Ok(forward(i, d, self.scale, store)))?;
        // Set once: each forward pass makes its own op.
        let _ = self.saved.set(saved);
        Ok((CpuStorage::F32(out), self.rows.shape(d.dim)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let d = self.dims(arg.dims().last().copied().unwrap_or(0))?;
        let dqkv = with_values(arg, |qkv| {
            with_values(grad, |g| {
                self.with_inputs(qkv, |i| {
                    let recomputed;
                    let saved = match self.saved.get() {
                        Some(saved) => saved,
                        None => {
                            recomputed = forward(i, d, self.scale, false).0;
                            &recomputed
                        }
                    };
                    Ok(backward(i, d, self.scale, saved, g))
                })
            })
        })?;
        Tensor::from_vec(dqkv, arg.shape(), arg.device()).map(Some)
    }
}

/// Copies head `h`'s part `part` (0 queries, 1 keys, 2 values) of the rows of one
/// name into `out` (`seq x head_dim`), times `scale`; zeros where there is no row.
#[inline(always)]
fn gather(src: &[f32], slots: &[u32], d: Dims, part: usize, h: usize, scale: f32, out: &mut [f32]) {
    let (width, hd) = (3 * d.dim, d.head_dim);
    for (row, &slot) in out.chunks_exact_mut(hd).zip(slots) {
        if slot == ABSENT {
            row.fill(0.0);
            continue;
        }
        let at = slot as usize * width + part * d.dim + h * hd;
        row.iter_mut()
            .zip(&src[at..at + hd])
            .for_each(|(o, s)| *o = s * scale);
    }
}

/// Scratch rows for one (name, head): `seq x head_dim` each.
struct Scratch {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
}

impl Scratch {
    fn new(d: Dims) -> Self {
        let n = d.seq * d.head_dim;
        Self {
            q: vec![0.0; n],
            k: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// Loads name `b`, head `h`; queries times `scale`.
    #[inline(always)]
    fn load(&mut self, i: &Inputs, d: Dims, b: usize, h: usize, scale: f32) {
        let slots = &i.slots[b * d.seq..(b + 1) * d.seq];
        gather(i.qkv, slots, d, 0, h, scale, &mut self.q);
        gather(i.qkv, slots, d, 1, h, 1.0, &mut self.k);
        gather(i.qkv, slots, d, 2, h, 1.0, &mut self.v);
    }
}

/// What the forward pass keeps (every grid position's weights when `store`, else each
/// row's softmax) and the output rows `(rows, dim)`.
fn forward(i: &Inputs, d: Dims, scale: f32, store: bool) -> (Saved, Vec<f32>) {
    vectorized(Forward { i, d, scale, store })
}

/// [`forward`]'s loops.
struct Forward<'a, 'b> {
    i: &'a Inputs<'b>,
    d: Dims,
    scale: f32,
    store: bool,
}

impl Kernel for Forward<'_, '_> {
    type Output = (Saved, Vec<f32>);

    #[inline(always)]
    fn run(self) -> Self::Output {
        match self.d.seq >= blocks::FROM {
            true => blocks::forward(self.i, self.d, self.scale, self.store),
            false => forward_loop(self.i, self.d, self.scale, self.store),
        }
    }
}

/// Index of the `(name, head, query)` row `(b, h, q)` among all rows of weights.
#[inline(always)]
fn weight_row(d: Dims, b: usize, h: usize, q: usize) -> usize {
    (b * d.heads + h) * d.seq + q
}

/// The additive mask of text `b`'s query `q` against every key.
#[inline(always)]
fn mask_row<'a>(i: &Inputs<'a>, d: Dims, b: usize, q: usize) -> &'a [f32] {
    let at = (b * d.bias_rows + q.min(d.bias_rows - 1)) * d.seq;
    &i.bias[at..at + d.seq]
}

/// Query `q`'s scores against every key of name `b` (loaded in `s`), plus the mask.
#[inline(always)]
fn scores(i: &Inputs, d: Dims, s: &Scratch, b: usize, q: usize, out: &mut [f32]) {
    let hd = d.head_dim;
    let bias = mask_row(i, d, b, q);
    let query = &s.q[q * hd..(q + 1) * hd];
    for ((p, key), bias) in out.iter_mut().zip(s.k.chunks_exact(hd)).zip(bias) {
        *p = dot(query, key) + bias;
    }
}

/// The dropout mask on the weights (0 or the keep scale), drawn a block of rows at a
/// time: rows are asked for in order, and a long draw vectorises where a row of a
/// short text would not.
struct KeepRows {
    keep: Keep,
    seq: usize,
    /// Rows of weights in all.
    rows: usize,
    /// The first row drawn in `values`.
    first: usize,
    values: Vec<f32>,
}

/// Elements drawn at once (at least a row).
const KEEP_BLOCK: usize = 4096;

impl KeepRows {
    fn new(keep: Keep, d: Dims) -> Self {
        Self {
            keep,
            seq: d.seq,
            rows: d.batch * d.heads * d.seq,
            first: 0,
            values: Vec::new(),
        }
    }

    /// Row `at` of the mask (see [`weight_row`]).
    #[inline(always)]
    fn row(&mut self, at: usize) -> &[f32] {
        let seq = self.seq;
        if at < self.first || at >= self.first + self.values.len() / seq {
            let n = (KEEP_BLOCK / seq).clamp(1, self.rows - at);
            let (start, end) = ((at * seq) as u32, ((at + n) * seq) as u32);
            let keep = self.keep;
            self.values.clear();
            self.values.extend((start..end).map(|i| keep.value(i)));
            self.first = at;
        }
        let from = (at - self.first) * seq;
        &self.values[from..from + seq]
    }
}

/// A forward pass's buffers: the weights it keeps (when `store`) or the rows'
/// softmaxes, the dropout's rows, the output rows `(rows, dim)`, and the scratch of one
/// (text, head).
#[inline(always)]
fn forward_buffers(
    i: &Inputs,
    d: Dims,
    store: bool,
) -> (
    Vec<f32>,
    Vec<RowSoftmax>,
    Option<KeepRows>,
    Vec<f32>,
    Scratch,
) {
    let rows = i.slots.iter().filter(|&&s| s != ABSENT).count();
    let all_rows = d.batch * d.heads * d.seq;
    (
        vec![0f32; if store { all_rows * d.seq } else { 0 }],
        vec![RowSoftmax::default(); if store { 0 } else { all_rows }],
        i.keep.map(|keep| KeepRows::new(keep, d)),
        vec![0f32; rows * d.dim],
        Scratch::new(d),
    )
}

#[inline(always)]
fn forward_loop(i: &Inputs, d: Dims, scale: f32, store: bool) -> (Saved, Vec<f32>) {
    let (seq, hd) = (d.seq, d.head_dim);
    let (mut weights, mut softmaxes, mut keep, mut out, mut s) = forward_buffers(i, d, store);
    let mut row = vec![0f32; seq];
    for b in 0..d.batch {
        for h in 0..d.heads {
            s.load(i, d, b, h, scale);
            for q in 0..seq {
                let slot = i.slots[b * seq + q];
                if slot == ABSENT && !store {
                    continue; // no output, and no weights to keep
                }
                let at = weight_row(d, b, h, q);
                let p = match store {
                    true => &mut weights[at * seq..(at + 1) * seq],
                    false => &mut row[..],
                };
                scores(i, d, &s, b, q, p);
                let softmax = softmax(p);
                if !store {
                    softmaxes[at] = softmax;
                }
                if slot == ABSENT {
                    continue;
                }
                let keep = keep.as_mut().map(|keep| keep.row(at));
                let o = &mut out[slot as usize * d.dim + h * hd..][..hd];
                for (k, (&w, value)) in p.iter().zip(s.v.chunks_exact(hd)).enumerate() {
                    let w = keep.map_or(w, |keep| w * keep[k]);
                    if w != 0.0 {
                        axpy(o, w, value);
                    }
                }
            }
        }
    }
    (Saved::new(store, weights, softmaxes), out)
}

/// In-place softmax of one row of scores; what it took to compute it again.
#[inline(always)]
fn softmax(p: &mut [f32]) -> RowSoftmax {
    let max = p.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in p.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv_sum = 1.0 / sum;
    p.iter_mut().for_each(|v| *v *= inv_sum);
    RowSoftmax { max, inv_sum }
}

/// `d(qkv)` `(rows, 3 * dim)` from what the forward pass kept and the output gradient `g`.
fn backward(i: &Inputs, d: Dims, scale: f32, saved: &Saved, g: &[f32]) -> Vec<f32> {
    vectorized(Backward {
        i,
        d,
        scale,
        saved,
        g,
    })
}

/// [`backward`]'s loops.
struct Backward<'a, 'b> {
    i: &'a Inputs<'b>,
    d: Dims,
    scale: f32,
    saved: &'a Saved,
    g: &'a [f32],
}

impl Kernel for Backward<'_, '_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn run(self) -> Vec<f32> {
        let (i, d, scale, saved, g) = (self.i, self.d, self.scale, self.saved, self.g);
        match d.seq >= blocks::FROM {
            true => blocks::backward(i, d, scale, saved, g),
            false => backward_loop(i, d, scale, saved, g),
        }
    }
}

#[inline(always)]
fn backward_loop(i: &Inputs, d: Dims, scale: f32, saved: &Saved, g: &[f32]) -> Vec<f32> {
    let (seq, hd, width) = (d.seq, d.head_dim, 3 * d.dim);
    let mut dqkv = vec![0f32; g.len() / d.dim.max(1) * width];
    let mut s = Scratch::new(d);
    let (mut dq, mut dk, mut dv) = (
        vec![0f32; seq * hd],
        vec![0f32; seq * hd],
        vec![0f32; seq * hd],
    );
    let (mut dscores, mut row) = (vec![0f32; seq], vec![0f32; seq]);
    let mut keep = i.keep.map(|keep| KeepRows::new(keep, d));
    for b in 0..d.batch {
        let slots = &i.slots[b * seq..(b + 1) * seq];
        for h in 0..d.heads {
            s.load(i, d, b, h, scale);
            for buf in [&mut dq, &mut dk, &mut dv] {
                buf.fill(0.0);
            }
            for (q, &slot) in slots.iter().enumerate() {
                if slot == ABSENT {
                    continue; // no output, no gradient
                }
                let grad = &g[slot as usize * d.dim + h * hd..][..hd];
                let at = weight_row(d, b, h, q);
                let weights = match saved {
                    Saved::Weights(p) => &p[at * seq..(at + 1) * seq],
                    Saved::Rows(softmaxes) => {
                        scores(i, d, &s, b, q, &mut row);
                        softmaxes[at].weights(&mut row);
                        &row
                    }
                };
                let keep = keep.as_mut().map(|keep| keep.row(at));
                // Through the product with the values and the dropout.
                let mut mean = 0.0;
                for k in 0..seq {
                    let kept = keep.map_or(1.0, |keep| keep[k]);
                    let value = &s.v[k * hd..(k + 1) * hd];
                    dscores[k] = kept * dot(grad, value);
                    mean += weights[k] * dscores[k];
                    let w = weights[k] * kept;
                    if w != 0.0 {
                        axpy(&mut dv[k * hd..(k + 1) * hd], w, grad);
                    }
                }
                // Through the softmax, then the scores.
                let query = &s.q[q * hd..(q + 1) * hd];
                let dquery = &mut dq[q * hd..(q + 1) * hd];
                for k in 0..seq {
                    let ds = weights[k] * (dscores[k] - mean);
                    if ds != 0.0 {
                        axpy(dquery, ds * scale, &s.k[k * hd..(k + 1) * hd]);
                        axpy(&mut dk[k * hd..(k + 1) * hd], ds, query);
                    }
                }
            }
            scatter_head(&mut dqkv, slots, d, h, [&dq, &dk, &dv]);
        }
    }
    dqkv
}

/// Writes head `h`'s gradients `[dq, dk, dv]` (`seq x head_dim` each, over one text's
/// grid positions) into the rows of `dqkv` `(rows, 3 * dim)` that `slots` name.
#[inline(always)]
fn scatter_head(dqkv: &mut [f32], slots: &[u32], d: Dims, h: usize, parts: [&[f32]; 3]) {
    let hd = d.head_dim;
    for (pos, &slot) in slots.iter().enumerate() {
        if slot == ABSENT {
            continue;
        }
        let row = slot as usize * 3 * d.dim + h * hd;
        for (part, buf) in parts.into_iter().enumerate() {
            let at = row + part * d.dim;
            dqkv[at..at + hd].copy_from_slice(&buf[pos * hd..(pos + 1) * hd]);
        }
    }
}
