//! Dropout driven by a seeded generator, and the train/eval mode that carries it.
//!
//! candle's CPU random generator cannot be seeded, so dropout masks are drawn here
//! from a [`SmallRng`] owned by the forward pass: the same seed gives the same run.

use crate::fused::{self, ResidualOp};
use crate::TokenRows;
use candle_core::{Device, Result, Shape, Tensor};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use std::cell::RefCell;

/// Whether a forward pass trains (dropout on, with its own generator) or evaluates.
#[derive(Debug)]
pub struct Mode {
    rng: Option<RefCell<SmallRng>>,
}

impl Mode {
    /// Evaluation: dropout is the identity.
    pub fn eval() -> Self {
        Self { rng: None }
    }

    /// Training, with dropout masks drawn from a generator seeded by `seed`.
    pub fn train(seed: u64) -> Self {
        Self {
            rng: Some(RefCell::new(SmallRng::seed_from_u64(seed))),
        }
    }

    /// True in training mode.
    pub fn is_train(&self) -> bool {
        self.rng.is_some()
    }

    /// A keep-mask of `shape` (f32: 0 with probability `p`, else `1/(1-p)`), or `None`
    /// in eval mode.
    fn keep_mask(&self, shape: &Shape, device: &Device, p: f32) -> Result<Option<Tensor>> {
        let Some(rng) = &self.rng else {
            return Ok(None);
        };
        let scale = 1.0 / (1.0 - p);
        // Bulk draws compared with an integer threshold: drawing one f32 at a time
        // took a tenth of a training step.
        let threshold = (p as f64 * 4_294_967_296.0) as u64;
        // What `fill` on a u32 slice draws (two values from each u64, low half first;
        // a last odd value from the high half), without its zeroed buffer.
        let n = shape.elem_count();
        let mut values = Vec::with_capacity(n);
        let mut rng = rng.borrow_mut();
        let mut push = |bits: u64| values.push(if bits < threshold { 0.0 } else { scale });
        for _ in 0..n / 2 {
            let bits = rng.next_u64();
            push(bits & 0xffff_ffff);
            push(bits >> 32);
        }
        if n % 2 == 1 {
            push(rng.next_u64() >> 32);
        }
        Tensor::from_vec(values, shape, device).map(Some)
    }
}

/// Zeroes each element with probability `p` in training and rescales the rest.
#[derive(Debug, Clone, Copy)]
pub struct Dropout {
    p: f32,
}

impl Dropout {
    /// A dropout of probability `p` in `[0, 1)`.
    pub fn new(p: f32) -> Self {
        Self { p }
    }

    /// `x` unchanged in eval mode or when `p == 0`; masked and rescaled otherwise.
    pub fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        match self.keep_mask(x.shape(), x.device(), mode)? {
            Some(mask) => x.mul(&mask.to_dtype(x.dtype())?),
            None => Ok(x.clone()),
        }
    }

    /// `x + dropout(a)`, the residual connection over `rows`; one fused op on CPU.
    pub fn residual(
        &self,
        x: &Tensor,
        a: &Tensor,
        rows: &TokenRows,
        mode: &Mode,
    ) -> Result<Tensor> {
        if fused::applies(x) {
            let width = a.dims().last().copied().unwrap_or(0);
            let keep = rows.keep_mask(self, width, a.device(), mode)?;
            return x
                .contiguous()?
                .apply_op2(&a.contiguous()?, ResidualOp { keep });
        }
        x + self.forward(a, mode)?
    }

    /// The f32 keep-mask this dropout would apply to a tensor of `shape`, or `None`
    /// in eval mode or when `p == 0`; draws from `mode`'s generator as `forward` does.
    pub(crate) fn keep_mask(
        &self,
        shape: &Shape,
        device: &Device,
        mode: &Mode,
    ) -> Result<Option<Tensor>> {
        if self.p <= 0.0 {
            return Ok(None);
        }
        mode.keep_mask(shape, device, self.p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn dropout_is_seeded_and_rescales() -> Result<()> {
        let x = Tensor::ones((64, 64), candle_core::DType::F32, &Device::Cpu)?;
        let d = Dropout::new(0.25);
        let a = d
            .forward(&x, &Mode::train(7))?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let b = d
            .forward(&x, &Mode::train(7))?
            .flatten_all()?
            .to_vec1::<f32>()?;
        assert_eq!(a, b, "same seed, same mask");
        let zeros = a.iter().filter(|v| **v == 0.0).count() as f32 / a.len() as f32;
        assert!((zeros - 0.25).abs() < 0.03, "drop rate {zeros}");
        assert!(a
            .iter()
            .all(|v| *v == 0.0 || (*v - 1.0 / 0.75).abs() < 1e-6));
        let e = d
            .forward(&x, &Mode::eval())?
            .flatten_all()?
            .to_vec1::<f32>()?;
        assert!(e.iter().all(|v| *v == 1.0));
        Ok(())
    }

    #[test]
    fn masks_draw_what_fill_draws_for_odd_lengths_too() -> Result<()> {
        use rand::Rng;
        for n in [1usize, 7, 64] {
            let mask = Mode::train(5)
                .keep_mask(&Shape::from(n), &Device::Cpu, 0.5)?
                .expect("a mask in training")
                .to_vec1::<f32>()?;
            let mut bits = vec![0u32; n];
            SmallRng::seed_from_u64(5).fill(&mut bits[..]);
            let want: Vec<f32> = bits
                .iter()
                .map(|&b| if b < 1 << 31 { 0.0 } else { 2.0 })
                .collect();
            assert_eq!(mask, want);
        }
        Ok(())
    }
}
