//! Adding or multiplying a vector into every row, with a fast backward pass.
//!
//! candle's backward of `broadcast_add(v)` sums the gradient over the leading
//! dimension, which its CPU backend does some 50 times slower than a sum over the
//! last one (3.3 ms against 68 us for a 1664x384 gradient). Writing the broadcast as
//! the rank-1 product `ones(n, 1) @ v` gives the same values and turns that sum into
//! a matrix product, `ones^T @ grad`, which is fast.

use candle_core::{Result, Tensor, D};

/// `v (dim)` repeated for every row of `x (.., dim)`, shaped like `x`.
pub fn repeat_rows(v: &Tensor, x: &Tensor) -> Result<Tensor> {
    let dim = x.dim(D::Minus1)?;
    let rows = x.elem_count() / dim.max(1);
    let ones = Tensor::ones((rows, 1), v.dtype(), v.device())?;
    ones.matmul(&v.reshape((1, dim))?)?.reshape(x.shape())
}

/// `x + v` with `v (dim)` added to every row of `x (.., dim)`.
pub fn add_rows(x: &Tensor, v: &Tensor) -> Result<Tensor> {
    x + repeat_rows(v, x)?
}

/// `x * v` with every row of `x (.., dim)` multiplied element-wise by `v (dim)`.
pub fn mul_rows(x: &Tensor, v: &Tensor) -> Result<Tensor> {
    x * repeat_rows(v, x)?
}
