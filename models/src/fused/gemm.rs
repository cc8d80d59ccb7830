//! Matrix products for the fused kernels, straight through the `gemm` crate (candle's
//! own CPU matrix product).
//!
//! Why not `Tensor::matmul`: candle zeroes every product's destination before gemm
//! overwrites it (3% of a training step in memset and fresh pages), and a linear map
//! then needs a second pass to add its bias. Here a destination is either written
//! once by gemm, or starts as the bias rows that gemm adds the product into.

use std::mem::MaybeUninit;

/// A row-major matrix, read as itself or as its transpose.
#[derive(Clone, Copy)]
pub(crate) struct Matrix<'a> {
    /// The values, `rows * cols` of them, row-major.
    pub values: &'a [f32],
    /// Stored rows.
    pub rows: usize,
    /// Stored columns.
    pub cols: usize,
    /// Read as the transpose.
    pub transposed: bool,
}

impl<'a> Matrix<'a> {
    /// `values` as a `rows x cols` matrix.
    pub fn new(values: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            values,
            rows,
            cols,
            transposed: false,
        }
    }

    /// The same values read as the transpose.
    pub fn t(self) -> Self {
        Self {
            transposed: !self.transposed,
            ..self
        }
    }

    /// `(rows, cols)` as read.
    fn dims(&self) -> (usize, usize) {
        match self.transposed {
            false => (self.rows, self.cols),
            true => (self.cols, self.rows),
        }
    }

    /// `(column stride, row stride)` as read.
    fn strides(&self) -> (isize, isize) {
        match self.transposed {
            false => (1, self.cols as isize),
            true => (self.cols as isize, 1),
        }
    }
}

/// Where a product goes: uninitialised memory that gemm writes whole, or values
/// that it adds the product to.
enum Destination<'a> {
    Fresh(&'a mut [MaybeUninit<f32>]),
    Accumulate(&'a mut [f32]),
}

/// `a b`, freshly allocated.
pub(crate) fn product(a: Matrix, b: Matrix) -> Vec<f32> {
    let (m, n) = (a.dims().0, b.dims().1);
    let mut dst = Vec::with_capacity(m * n);
    run(
        Destination::Fresh(&mut dst.spare_capacity_mut()[..m * n]),
        a,
        b,
    );
    // SAFETY: gemm wrote every element of the fresh `m x n` destination (zeros when
    // the inner dimension is empty).
    #[allow(unsafe_code)]
    unsafe {
        dst.set_len(m * n)
    };
    dst
}

/// `dst += a b`, `dst` row-major `a.rows x b.cols` as read.
pub(crate) fn add_product(dst: &mut [f32], a: Matrix, b: Matrix) {
    run(Destination::Accumulate(dst), a, b);
}

/// `dst = [dst +] a b`; panics when a size does not match.
fn run(dst: Destination, a: Matrix, b: Matrix) {
    let ((m, k), (k2, n)) = (a.dims(), b.dims());
    assert_eq!(k, k2, "gemm: inner dimensions differ");
    assert!(
        a.values.len() >= m * k && b.values.len() >= k * n,
        "gemm: short input"
    );
    let (dst, read_dst, len) = match dst {
        Destination::Fresh(d) => (d.as_mut_ptr().cast::<f32>(), false, d.len()),
        Destination::Accumulate(d) => (d.as_mut_ptr(), true, d.len()),
    };
    assert_eq!(len, m * n, "gemm: destination of the wrong size");
    let ((a_cs, a_rs), (b_cs, b_rs)) = (a.strides(), b.strides());
    // SAFETY: the inputs hold the `m x k` and `k x n` elements their strides reach
    // and the destination is a borrowed slice of exactly `m * n` elements, row-major
    // (asserted above); gemm reads it only when it is initialised (`Accumulate`).
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            n as isize,
            read_dst,
            a.values.as_ptr(),
            a_cs,
            a_rs,
            b.values.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism(),
        )
    }
}

/// candle's threads for a product (one inside training's batch slices).
fn parallelism() -> gemm::Parallelism {
    match candle_core::utils::get_num_threads() {
        0 | 1 => gemm::Parallelism::None,
        n => gemm::Parallelism::Rayon(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a b` the slow way, for `a (m x k)` and `b (k x n)` given by element functions.
    fn naive(
        m: usize,
        k: usize,
        n: usize,
        a: impl Fn(usize, usize) -> f32,
        b: impl Fn(usize, usize) -> f32,
    ) -> Vec<f32> {
        let mut out = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|l| a(i, l) * b(l, j)).sum();
            }
        }
        out
    }

    #[test]
    fn products_read_either_operand_transposed_and_add_into_the_destination() {
        let (m, k, n) = (5, 3, 4);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| 1.0 - i as f32 * 0.25).collect();
        let want = naive(m, k, n, |i, l| a[i * k + l], |l, j| b[l * n + j]);
        assert_eq!(product(Matrix::new(&a, m, k), Matrix::new(&b, k, n)), want);
        // The same operands stored transposed.
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let got = product(Matrix::new(&at, k, m).t(), Matrix::new(&bt, n, k).t());
        assert_eq!(got, want);
        let mut dst = vec![1f32; m * n];
        add_product(&mut dst, Matrix::new(&a, m, k), Matrix::new(&b, k, n));
        assert_eq!(dst, want.iter().map(|v| v + 1.0).collect::<Vec<_>>());
        // An empty inner dimension gives zeros.
        assert_eq!(
            product(Matrix::new(&[], 2, 0), Matrix::new(&[], 0, 3)),
            vec![0.0; 6]
        );
    }
}
