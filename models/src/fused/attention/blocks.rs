//! The attention core for long texts: for each (text, head), a block of queries at a
//! time, the scores against every key, the product with the values and the backward
//! pass's products as gemm calls, with the mask, softmax and dropout in between.
//!
//! Why: past a few dozen positions the products dominate, and gemm's kernels run them
//! several times as fast as the row-at-a-time loops that suit names. The weights kept
//! for the backward pass, or each row's softmax when they would take too much memory,
//! are computed the same way in both passes; the dropout draws are the loops'. The sums
//! run in gemm's order and the exponentials through [`exp_nonpositive`], so a long
//! text's numbers differ from the loops' in the last bits. It runs compiled for AVX2
//! and FMA where the CPU has them (the parent's kernels).

use super::super::gemm::{add_product, product, Matrix};
use std::borrow::Cow;

use super::{
    forward_buffers, mask_row, scatter_head, weight_row, Dims, Inputs, KeepRows, RowSoftmax, Saved,
    Scratch, ABSENT,
};
use crate::simd::{dot, sum};

/// Texts of this many positions or more take this path; names stay in the loops.
pub(super) const FROM: usize = 64;

/// Queries per block: a block of scores is `QUERIES x seq`.
const QUERIES: usize = 64;

/// `e^x` for `x <= 0` (a score minus its row's largest), 0 below -87 (where `expf`
/// leaves the normal range; masked scores are there). Cody and Waite's reduction
/// `x = n ln 2 + r` and Cephes's polynomial for `e^r`: within a couple of ulp of `expf`,
/// in plain arithmetic that the compiler vectorises (a call to `expf` is one value at a
/// time).
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    // Adding 1.5 * 2^23 rounds to an integer, which the sum's low bits then hold.
    const ROUND: f32 = 12_582_912.0;
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let e = p * (r * r) + r + 1.0;
    let scale = f32::from_bits(((t.to_bits() as i32 - ROUND.to_bits() as i32 + 127) << 23) as u32);
    if x < -87.0 {
        0.0
    } else {
        e * scale
    }
}

/// The largest of `p`, eight running maxima at a time (so that it vectorises).
#[inline(always)]
fn max(p: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = p.chunks_exact(8);
    let tail = chunks
        .remainder()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    for chunk in chunks {
        for l in 0..8 {
            lanes[l] = lanes[l].max(chunk[l]);
        }
    }
    lanes.into_iter().fold(tail, f32::max)
}

/// In-place softmax of one row of scores; what it took to compute it again
/// ([`weights_again`]).
#[inline(always)]
fn softmax(p: &mut [f32]) -> RowSoftmax {
    let max = max(p);
    p.iter_mut().for_each(|v| *v = exp_nonpositive(*v - max));
    let inv_sum = 1.0 / sum(p);
    p.iter_mut().for_each(|v| *v *= inv_sum);
    RowSoftmax { max, inv_sum }
}

/// A row's weights from its scores and softmax, in place: [`softmax`]'s, bit for bit.
#[inline(always)]
fn weights_again(s: RowSoftmax, scores: &mut [f32]) {
    scores
        .iter_mut()
        .for_each(|v| *v = exp_nonpositive(*v - s.max) * s.inv_sum);
}

/// The masked scores of queries `first..first + n` of the loaded (text `b`, head)
/// against every key, `n x seq`.
#[inline(always)]
fn scores(i: &Inputs, d: Dims, s: &Scratch, b: usize, first: usize, n: usize) -> Vec<f32> {
    let (seq, hd) = (d.seq, d.head_dim);
    let queries = Matrix::new(&s.q[first * hd..(first + n) * hd], n, hd);
    let mut out = product(queries, Matrix::new(&s.k, seq, hd).t());
    for (r, row) in out.chunks_exact_mut(seq).enumerate() {
        row.iter_mut()
            .zip(mask_row(i, d, b, first + r))
            .for_each(|(v, m)| *v += m);
    }
    out
}

/// What the forward pass keeps (as the loops keep it) and the output rows `(rows, dim)`.
#[inline(always)]
pub(super) fn forward(i: &Inputs, d: Dims, scale: f32, store: bool) -> (Saved, Vec<f32>) {
    let (seq, hd) = (d.seq, d.head_dim);
    let (mut weights, mut softmaxes, mut keep, mut out, mut s) = forward_buffers(i, d, store);
    for b in 0..d.batch {
        for h in 0..d.heads {
            s.load(i, d, b, h, scale);
            for first in (0..seq).step_by(QUERIES) {
                let n = QUERIES.min(seq - first);
                let mut p = scores(i, d, &s, b, first, n);
                for (r, row) in p.chunks_exact_mut(seq).enumerate() {
                    let at = weight_row(d, b, h, first + r);
                    let row_softmax = softmax(row);
                    match store {
                        true => weights[at * seq..(at + 1) * seq].copy_from_slice(row),
                        false => softmaxes[at] = row_softmax,
                    }
                    if let Some(keep) = keep.as_mut() {
                        row.iter_mut().zip(keep.row(at)).for_each(|(w, k)| *w *= k);
                    }
                }
                let o = product(Matrix::new(&p, n, seq), Matrix::new(&s.v, seq, hd));
                for (r, o) in o.chunks_exact(hd).enumerate() {
                    let slot = i.slots[b * seq + first + r];
                    if slot != ABSENT {
                        out[slot as usize * d.dim + h * hd..][..hd].copy_from_slice(o);
                    }
                }
            }
        }
    }
    (Saved::new(store, weights, softmaxes), out)
}

/// The weights of queries `first..first + n` of (text `b`, head `h`): kept, or computed
/// again from each row's softmax.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn block_weights<'a>(
    i: &Inputs,
    d: Dims,
    s: &Scratch,
    saved: &'a Saved,
    (b, h): (usize, usize),
    first: usize,
    n: usize,
) -> Cow<'a, [f32]> {
    let (seq, at) = (d.seq, weight_row(d, b, h, first));
    match saved {
        Saved::Weights(p) => Cow::Borrowed(&p[at * seq..(at + n) * seq]),
        Saved::Rows(softmaxes) => {
            let mut p = scores(i, d, s, b, first, n);
            for (r, row) in p.chunks_exact_mut(seq).enumerate() {
                weights_again(softmaxes[at + r], row);
            }
            Cow::Owned(p)
        }
    }
}

/// `d(qkv)` `(rows, 3 * dim)` from what the forward pass kept and the output gradient `g`.
#[inline(always)]
pub(super) fn backward(i: &Inputs, d: Dims, scale: f32, saved: &Saved, g: &[f32]) -> Vec<f32> {
    let (seq, hd, width) = (d.seq, d.head_dim, 3 * d.dim);
    let mut dqkv = vec![0f32; g.len() / d.dim.max(1) * width];
    let mut s = Scratch::new(d);
    let mut grads = vec![0f32; seq * hd];
    let mut keep = i.keep.map(|keep| KeepRows::new(keep, d));
    for b in 0..d.batch {
        let slots = &i.slots[b * seq..(b + 1) * seq];
        for h in 0..d.heads {
            s.load(i, d, b, h, scale);
            // This head's output gradient, zero where there is no row (no gradient).
            for (row, &slot) in grads.chunks_exact_mut(hd).zip(slots) {
                match slot {
                    ABSENT => row.fill(0.0),
                    _ => row.copy_from_slice(&g[slot as usize * d.dim + h * hd..][..hd]),
                }
            }
            let (mut dq, mut dk, mut dv) = (
                vec![0f32; seq * hd],
                vec![0f32; seq * hd],
                vec![0f32; seq * hd],
            );
            for first in (0..seq).step_by(QUERIES) {
                let n = QUERIES.min(seq - first);
                let weights = block_weights(i, d, &s, saved, (b, h), first, n);
                let grad = &grads[first * hd..(first + n) * hd];
                // Through the product with the values and the dropout...
                let mut ds = product(Matrix::new(grad, n, hd), Matrix::new(&s.v, seq, hd).t());
                // The weights after dropout: a copy only where there is dropout.
                let mut kept = Cow::Borrowed(&weights[..]);
                let at = weight_row(d, b, h, first);
                for (r, ds) in ds.chunks_exact_mut(seq).enumerate() {
                    if let Some(keep) = keep.as_mut() {
                        let k = keep.row(at + r);
                        ds.iter_mut().zip(k).for_each(|(v, k)| *v *= k);
                        let kept = &mut kept.to_mut()[r * seq..(r + 1) * seq];
                        kept.iter_mut().zip(k).for_each(|(w, k)| *w *= k);
                    }
                    // ...then the softmax.
                    let w = &weights[r * seq..(r + 1) * seq];
                    let mean = dot(w, ds);
                    ds.iter_mut().zip(w).for_each(|(v, w)| *v = w * (*v - mean));
                }
                let queries = Matrix::new(&s.q[first * hd..(first + n) * hd], n, hd);
                add_product(
                    &mut dv,
                    Matrix::new(&kept, n, seq).t(),
                    Matrix::new(grad, n, hd),
                );
                add_product(&mut dk, Matrix::new(&ds, n, seq).t(), queries);
                let dq_block = product(Matrix::new(&ds, n, seq), Matrix::new(&s.k, seq, hd));
                dq[first * hd..(first + n) * hd]
                    .iter_mut()
                    .zip(&dq_block)
                    .for_each(|(o, v)| *o = v * scale);
            }
            scatter_head(&mut dqkv, slots, d, h, [&dq, &dk, &dv]);
        }
    }
    dqkv
}

#[cfg(test)]
mod tests {
    use super::exp_nonpositive;

    #[test]
    fn exp_nonpositive_is_within_two_ulp_of_exp_and_zero_where_masked() {
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        for x in [-87.01, -100.0, -1e30, f32::NEG_INFINITY] {
            assert_eq!(exp_nonpositive(x), 0.0, "e^{x}");
        }
        assert!(exp_nonpositive(f32::NAN).is_nan());
        let mut x = 0f32;
        while x >= -87.0 {
            let (got, want) = (exp_nonpositive(x) as f64, (x as f64).exp());
            let ulp = (want as f32).to_bits().abs_diff((got as f32).to_bits());
            assert!(ulp <= 2, "e^{x}: {got:e} against {want:e} ({ulp} ulp)");
            x = f32::from_bits(x.to_bits() + 997).min(x - 1e-7);
        }
    }
}
