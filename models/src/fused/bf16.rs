//! Matrix products with bf16 operands and f32 sums (`train.precision = "bf16"`), on
//! CPUs with AVX512_BF16: each operand rounded to bf16 (to nearest, ties to even) as it
//! is packed, pairs of products summed into f32 lanes by `vdpbf16ps`.
//!
//! Why its own kernel: gemm has none for bf16, and at a training step's shapes the
//! instruction does twice the multiply-adds of an f32 FMA (docs/performance.md,
//! "Training in lower precision"). One thread: training runs its batch slices on the
//! cores, one product per slice at a time.

use super::gemm::Matrix;

/// Rows of the output computed at once (one broadcast operand each).
const ROWS: usize = 8;
/// Columns of the output computed at once: two vectors of 16 lanes.
const COLS: usize = 32;
/// Pairs of the inner dimension packed at once: a block of `b` is `PAIRS x COLS`
/// values (16 KiB), which stays in the first-level cache.
const PAIRS: usize = 128;

/// Whether this CPU runs the bf16 products.
pub fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `x` rounded to bf16, to nearest with ties to even (a NaN stays a NaN).
fn bf16_bits(x: f32) -> u32 {
    let bits = x.to_bits();
    if x.is_nan() {
        return (bits >> 16) | 0x40;
    }
    bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) >> 16
}

/// Two values as the pair one 32-bit lane of `vdpbf16ps` reads: `lo` first.
fn pair(lo: f32, hi: f32) -> u32 {
    bf16_bits(lo) | (bf16_bits(hi) << 16)
}

/// An operand read element by element, as `Matrix` reads it.
#[derive(Clone, Copy)]
struct Operand<'a> {
    values: &'a [f32],
    rows: usize,
    cols: usize,
    /// Steps between neighbours along a row and along a column.
    col_step: usize,
    row_step: usize,
}

impl<'a> Operand<'a> {
    fn new(m: Matrix<'a>) -> Self {
        let (rows, cols) = m.dims();
        let (col_step, row_step) = m.strides();
        Self {
            values: m.values,
            rows,
            cols,
            col_step: col_step as usize,
            row_step: row_step as usize,
        }
    }

    /// Element `(i, j)`, 0 past the last column (an odd inner dimension's pair).
    fn at(&self, i: usize, j: usize) -> f32 {
        if j < self.cols {
            self.values[i * self.row_step + j * self.col_step]
        } else {
            0.0
        }
    }

    /// The pair `(i, 2p), (i, 2p + 1)`.
    fn row_pair(&self, i: usize, p: usize) -> u32 {
        pair(self.at(i, 2 * p), self.at(i, 2 * p + 1))
    }
}

/// The pairs `first..first + len` of `a`'s rows `row..row + ROWS` (zeros past its last
/// row), `len` per row, `PAIRS` apart.
fn pack_rows(packed: &mut [u32], a: Operand, row: usize, first: usize, len: usize) {
    let rows = ROWS.min(a.rows - row);
    let whole = 2 * (first + len) <= a.cols;
    for r in 0..ROWS {
        let out = &mut packed[r * PAIRS..r * PAIRS + len];
        if r >= rows {
            out.fill(0);
        } else if a.col_step == 1 && whole {
            let start = (row + r) * a.row_step + 2 * first;
            let src = &a.values[start..start + 2 * len];
            for (o, s) in out.iter_mut().zip(src.chunks_exact(2)) {
                *o = pair(s[0], s[1]);
            }
        } else if a.row_step == 1 && whole {
            // Stored transposed: each pair's two values lie a stored row apart.
            for (p, o) in out.iter_mut().enumerate() {
                let at = (row + r) + 2 * (first + p) * a.col_step;
                *o = pair(a.values[at], a.values[at + a.col_step]);
            }
        } else {
            for (p, o) in out.iter_mut().enumerate() {
                *o = a.row_pair(row + r, first + p);
            }
        }
    }
}

/// The pairs `first..first + len` of the inner dimension of `b` (`k x n` as read),
/// column blocks of `COLS` one after the other, each `PAIRS x COLS`; columns past
/// the last stay as they are (zeros).
fn pack_columns(packed: &mut [u32], b: Operand, first: usize, len: usize) {
    let whole = 2 * (first + len) <= b.rows;
    let slot = |j: usize, p: usize| (j / COLS) * PAIRS * COLS + p * COLS + j % COLS;
    if b.row_step == 1 && whole {
        // Stored transposed (a weight `(out, in)` read as `in x out`): a column's pairs
        // are neighbours in memory.
        for j in 0..b.cols {
            let start = j * b.col_step + 2 * first;
            let src = &b.values[start..start + 2 * len];
            for (p, s) in src.chunks_exact(2).enumerate() {
                packed[slot(j, p)] = pair(s[0], s[1]);
            }
        }
    } else if b.col_step == 1 && whole {
        for p in 0..len {
            let top = 2 * (first + p) * b.row_step;
            let (upper, lower) = (&b.values[top..], &b.values[top + b.row_step..]);
            for j in 0..b.cols {
                packed[slot(j, p)] = pair(upper[j], lower[j]);
            }
        }
    } else {
        let pair_at = |p: usize, j: usize| {
            let k = 2 * (first + p);
            let at = |k: usize| if k < b.rows { b.at(k, j) } else { 0.0 };
            pair(at(k), at(k + 1))
        };
        for p in 0..len {
            for j in 0..b.cols {
                packed[slot(j, p)] = pair_at(p, j);
            }
        }
    }
}

/// `dst = [dst +] a b`, `dst` row-major `m x n`; panics when a size does not match or
/// the CPU lacks AVX512_BF16 (the run checks [`supported`] when it starts).
pub(crate) fn run(dst: &mut [f32], accumulate: bool, a: Matrix, b: Matrix) {
    let (a, b) = (Operand::new(a), Operand::new(b));
    assert_eq!(a.cols, b.rows, "bf16 gemm: inner dimensions differ");
    assert_eq!(dst.len(), a.rows * b.cols, "bf16 gemm: destination size");
    assert!(supported(), "bf16 gemm: the CPU has no AVX512_BF16");
    if !accumulate {
        dst.fill(0.0);
    }
    let pairs = a.cols.div_ceil(2);
    let blocks = b.cols.div_ceil(COLS);
    let mut packed_b = vec![0u32; blocks * PAIRS * COLS];
    let mut packed_a = vec![0u32; ROWS * PAIRS];
    for first in (0..pairs).step_by(PAIRS) {
        let len = PAIRS.min(pairs - first);
        pack_columns(&mut packed_b, b, first, len);
        for row in (0..a.rows).step_by(ROWS) {
            pack_rows(&mut packed_a, a, row, first, len);
            for block in 0..blocks {
                let panel = &packed_b[block * PAIRS * COLS..(block + 1) * PAIRS * COLS];
                let tile = Tile {
                    row,
                    col: block * COLS,
                    rows: ROWS.min(a.rows - row),
                    n: b.cols,
                };
                // SAFETY: `supported()` checked the CPU's features above; the packed
                // operands hold `len` pairs per row and per column, and `tile` lies in
                // `dst` (`m x n`).
                #[allow(unsafe_code)]
                unsafe {
                    kernel::tile(dst, &packed_a, panel, len, tile)
                };
            }
        }
    }
}

/// Where a tile of the output goes: rows `row..row + rows` (at most `ROWS`), columns
/// `col..col + COLS` cut at `n`, of a row-major destination `n` wide.
#[derive(Clone, Copy)]
struct Tile {
    row: usize,
    col: usize,
    rows: usize,
    n: usize,
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod kernel {
    use super::{Tile, COLS, PAIRS, ROWS};
    use std::arch::x86_64::*;

    /// Adds `a b` (`ROWS x len` pairs by `len x COLS` pairs) into the tile.
    ///
    /// # Safety
    /// The CPU must have AVX512F and AVX512_BF16; `a` holds `ROWS x PAIRS` pairs,
    /// `b` `len x COLS`, and the tile lies inside `dst`.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn tile(dst: &mut [f32], a: &[u32], b: &[u32], len: usize, t: Tile) {
        debug_assert!(a.len() >= ROWS * PAIRS && b.len() >= len * COLS);
        let mut acc = [[_mm512_setzero_ps(); 2]; ROWS];
        for p in 0..len {
            // SAFETY: `p < len`, so both loads lie inside `b` (`len x COLS`).
            let (lo, hi) = unsafe {
                (
                    _mm512_loadu_si512(b.as_ptr().add(p * COLS).cast()),
                    _mm512_loadu_si512(b.as_ptr().add(p * COLS + 16).cast()),
                )
            };
            let (lo, hi): (__m512bh, __m512bh) = (lo.into_bh(), hi.into_bh());
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_epi32(a[r * PAIRS + p] as i32).into_bh();
                acc[0] = _mm512_dpbf16_ps(acc[0], x, lo);
                acc[1] = _mm512_dpbf16_ps(acc[1], x, hi);
            }
        }
        for (r, acc) in acc.iter().enumerate().take(t.rows) {
            for (half, sums) in acc.iter().enumerate() {
                let col = t.col + 16 * half;
                if col >= t.n {
                    continue;
                }
                let mask: __mmask16 = if t.n - col >= 16 {
                    0xffff
                } else {
                    (1 << (t.n - col)) - 1
                };
                let at = (t.row + r) * t.n + col;
                assert!(at + (t.n - col).min(16) <= dst.len());
                // SAFETY: the masked lanes lie in `dst` (asserted).
                unsafe {
                    let p = dst.as_mut_ptr().add(at);
                    let v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, p), *sums);
                    _mm512_mask_storeu_ps(p, mask, v);
                }
            }
        }
    }

    /// A vector of 32 bf16 values, as `vdpbf16ps` reads it.
    trait IntoBh {
        fn into_bh(self) -> __m512bh;
    }

    impl IntoBh for __m512i {
        #[inline(always)]
        fn into_bh(self) -> __m512bh {
            // SAFETY: both are 512 bits of plain data.
            unsafe { std::mem::transmute::<__m512i, __m512bh>(self) }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod kernel {
    use super::Tile;

    /// Never called: [`super::supported`] is false off x86-64.
    pub(super) unsafe fn tile(_: &mut [f32], _: &[u32], _: &[u32], _: usize, _: Tile) {
        unreachable!("bf16 products need x86-64 with AVX512_BF16")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a b` in f64 over the bf16-rounded operands, and the sum of `|a_il b_lj|`.
    fn reference(a: Operand, b: Operand) -> (Vec<f64>, Vec<f64>) {
        let round = |x: f32| f64::from(f32::from_bits(bf16_bits(x) << 16));
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let (mut out, mut size) = (vec![0f64; m * n], vec![0f64; m * n]);
        for i in 0..m {
            for j in 0..n {
                for l in 0..k {
                    let t = round(a.at(i, l)) * round(b.at(l, j));
                    out[i * n + j] += t;
                    size[i * n + j] += t.abs();
                }
            }
        }
        (out, size)
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let h = (i as u32 ^ seed).wrapping_mul(0x9e37_79b9).rotate_left(13);
                (h % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn rounding_is_to_nearest_with_ties_to_even() {
        // 1 + 2^-8 lies halfway between two bf16 values: ties go to the even one (1).
        assert_eq!(bf16_bits(1.0 + 2f32.powi(-8)), 0x3f80);
        assert_eq!(bf16_bits(1.0 + 3.0 * 2f32.powi(-8)), 0x3f82);
        assert_eq!(bf16_bits(-2.5), 0xc020);
        assert!(f32::from_bits(bf16_bits(f32::NAN) << 16).is_nan());
    }

    #[test]
    fn products_match_f64_sums_of_the_rounded_operands_in_every_layout() {
        if !supported() {
            // A CPU without AVX512_BF16: a product refuses to run (runs refuse the
            // setting before they start, tested with the configuration).
            let (a, b) = (vec![1f32; 4], vec![1f32; 4]);
            let refused = std::panic::catch_unwind(|| {
                run(
                    &mut [0f32; 4],
                    false,
                    Matrix::new(&a, 2, 2),
                    Matrix::new(&b, 2, 2),
                )
            });
            assert!(refused.is_err());
            return;
        }
        // Sizes that cut every block: odd inner dimensions, rows and columns past
        // a tile, an inner dimension past a packed block.
        for &(m, k, n) in &[
            (1, 1, 1),
            (9, 3, 33),
            (17, 257, 40),
            (8, 300, 32),
            (3, 64, 5),
        ] {
            let a = values(m * k, 1);
            let b = values(k * n, 2);
            let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
            let layouts = [
                (Matrix::new(&a, m, k), Matrix::new(&b, k, n)),
                (Matrix::new(&at, k, m).t(), Matrix::new(&b, k, n)),
                (Matrix::new(&a, m, k), Matrix::new(&bt, n, k).t()),
                (Matrix::new(&at, k, m).t(), Matrix::new(&bt, n, k).t()),
            ];
            let (want, size) = reference(Operand::new(layouts[0].0), Operand::new(layouts[0].1));
            let mut first = None;
            for (x, y) in layouts {
                let mut got = vec![0.5f32; m * n];
                run(&mut got, true, x, y);
                for ((g, w), s) in got.iter().zip(&want).zip(&size) {
                    let err = (f64::from(*g) - 0.5 - w).abs();
                    assert!(err <= 1e-6 * (s + 1.0), "{m}x{k}x{n}: {g} against {w}");
                }
                // Every layout packs the same pairs: the same bits.
                let first = first.get_or_insert_with(|| got.clone());
                assert_eq!(*first, got, "{m}x{k}x{n}");
            }
            let mut fresh = vec![f32::NAN; m * n];
            run(&mut fresh, false, layouts[0].0, layouts[0].1);
            let shifted: Vec<f32> = fresh.iter().map(|v| v + 0.5).collect();
            let first = first.unwrap_or_default();
            for (s, f) in shifted.iter().zip(&first) {
                assert!((s - f).abs() <= 1e-5, "fresh {s} against accumulated {f}");
            }
        }
    }
}
