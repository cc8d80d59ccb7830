//! Dropout driven by a seeded, counter-based generator, and the train/eval mode that
//! carries it.
//!
//! candle's CPU random generator cannot be seeded, so dropout masks are drawn here.
//! Each mask a forward pass draws gets its own key, from the pass's seed and the
//! number of masks drawn before it; each element is then a hash of that key and its
//! index (see [`draws`]). The same seed gives the same run, and a mask over some rows
//! of a grid holds exactly what the mask over the whole grid holds there.

#[cfg(feature = "cuda")]
mod cuda;
mod draws;
mod op;

use candle_core::{DType, Device, Result, Shape, Tensor};
use draws::mix64;
pub(crate) use draws::{check_elements, Keep};
use std::cell::Cell;

/// Whether a forward pass trains (dropout on, with its own seed) or evaluates.
#[derive(Debug)]
pub struct Mode {
    draws: Option<Draws>,
}

/// The seed of a training pass and how many masks it has drawn.
#[derive(Debug)]
struct Draws {
    seed: u64,
    masks: Cell<u64>,
}

impl Mode {
    /// Evaluation: dropout is the identity.
    pub fn eval() -> Self {
        Self { draws: None }
    }

    /// Training, with dropout masks drawn under `seed`.
    pub fn train(seed: u64) -> Self {
        Self {
            draws: Some(Draws {
                seed,
                masks: Cell::new(0),
            }),
        }
    }

    /// True in training mode.
    pub fn is_train(&self) -> bool {
        self.draws.is_some()
    }

    /// The next mask of drop probability `p`, or `None` in eval mode.
    fn next_mask(&self, p: f32) -> Option<Keep> {
        let draws = self.draws.as_ref()?;
        let n = draws.masks.get();
        draws.masks.set(n + 1);
        Some(Keep::new(mix64(draws.seed ^ mix64(n)), p))
    }

    /// The rows `rows` (indices into the leading dimensions of `grid`, each row
    /// `grid`'s last dimension wide) of the keep-mask of shape `grid`, as a
    /// `(rows, width)` tensor; the whole mask, shaped `grid`, when `rows` is `None`.
    fn keep_rows(
        &self,
        rows: Option<&[u32]>,
        grid: &Shape,
        device: &Device,
        p: f32,
    ) -> Result<Option<Tensor>> {
        let Some(keep) = self.next_mask(p) else {
            return Ok(None);
        };
        let n = grid.elem_count();
        check_elements(n)?;
        let width = grid.dims().last().copied().unwrap_or(1);
        let count = n / width.max(1);
        let values = keep.rows(rows, count, width);
        match rows {
            None => Tensor::from_vec(values, grid, device).map(Some),
            Some(rows) => Tensor::from_vec(values, (rows.len(), width), device).map(Some),
        }
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

    /// `x` unchanged in eval mode or when `p == 0`; masked and rescaled otherwise. On a
    /// GPU (f32) the mask is drawn there, by the kernel that applies it.
    pub fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        if x.device().is_cuda() && x.dtype() == DType::F32 {
            let keep = (self.p > 0.0).then(|| mode.next_mask(self.p)).flatten();
            return match keep {
                Some(keep) => op::MaskedByKeep(keep).apply(x),
                None => Ok(x.clone()),
            };
        }
        match self.keep_mask(x.shape(), x.device(), mode)? {
            Some(mask) => x.mul(&mask.to_dtype(x.dtype())?),
            None => Ok(x.clone()),
        }
    }

    /// The f32 keep-mask this dropout would apply to a tensor of `shape`, or `None`
    /// in eval mode or when `p == 0`; draws from `mode` as `forward` does.
    pub(crate) fn keep_mask(
        &self,
        shape: &Shape,
        device: &Device,
        mode: &Mode,
    ) -> Result<Option<Tensor>> {
        self.keep_rows(None, shape, device, mode)
    }

    /// The draw of the keep-mask this dropout would apply next (as `keep_mask` would
    /// make it, element `i` of the mask being [`Keep::value`]`(i)`), for a kernel
    /// that draws the elements where it uses them; `None` in eval mode or when `p == 0`.
    pub(crate) fn draw(&self, mode: &Mode) -> Option<Keep> {
        if self.p <= 0.0 {
            return None;
        }
        mode.next_mask(self.p)
    }

    /// Rows `rows` of the keep-mask of shape `grid` (see [`Mode::keep_rows`]), or the
    /// whole mask when `rows` is `None`.
    pub(crate) fn keep_rows(
        &self,
        rows: Option<&[u32]>,
        grid: &Shape,
        device: &Device,
        mode: &Mode,
    ) -> Result<Option<Tensor>> {
        if self.p <= 0.0 {
            return Ok(None);
        }
        mode.keep_rows(rows, grid, device, self.p)
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
    fn masks_are_rows_of_the_grid_mask_and_each_call_draws_anew() -> Result<()> {
        let mode = Mode::train(5);
        let grid = Shape::from((3, 4, 5));
        let full = mode
            .keep_rows(None, &grid, &Device::Cpu, 0.5)?
            .expect("train mode");
        let full = full.reshape((12, 5))?.to_vec2::<f32>()?;
        // The same seed, the same first mask, cut to rows 1, 6 and 11.
        let rows = Mode::train(5)
            .keep_rows(Some(&[1, 6, 11]), &grid, &Device::Cpu, 0.5)?
            .expect("train mode")
            .to_vec2::<f32>()?;
        assert_eq!(rows, [full[1].clone(), full[6].clone(), full[11].clone()]);
        // A second mask from the same pass differs from the first.
        let second = mode
            .keep_rows(None, &grid, &Device::Cpu, 0.5)?
            .expect("train mode");
        assert_ne!(second.reshape((12, 5))?.to_vec2::<f32>()?, full);
        Ok(())
    }

    #[test]
    fn drop_rates_hold_and_neighbours_are_independent() -> Result<()> {
        for p in [0.1f32, 0.2, 0.5] {
            let n = 1 << 16;
            let mask = Mode::train(11)
                .keep_rows(None, &Shape::from(n), &Device::Cpu, p)?
                .expect("train mode")
                .to_vec1::<f32>()?;
            let dropped: Vec<bool> = mask.iter().map(|v| *v == 0.0).collect();
            let rate = dropped.iter().filter(|d| **d).count() as f32 / n as f32;
            // Four standard deviations of a binomial rate over 65536 draws is under 0.008.
            assert!((rate - p).abs() < 0.008, "p {p}: rate {rate}");
            let both = dropped.windows(2).filter(|w| w[0] && w[1]).count() as f32;
            let pairs = both / (n - 1) as f32;
            assert!(
                (pairs - p * p).abs() < 0.008,
                "p {p}: adjacent pairs {pairs}"
            );
        }
        Ok(())
    }
}
