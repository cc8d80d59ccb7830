//! The layout of the one-launch device optimiser (`kernels/adam.cu`): every parameter's
//! values in one flat index space that the moments share, and the launch sizes. Plain
//! host code, so it is tested without a device.

use candle_core::{Result, Tensor, Var};

/// Threads per block, `XP_THREADS` in the kernel source.
pub(super) const THREADS: u32 = 256;

/// Where each parameter's values start in the flat index space: `n + 1` entries, the
/// last the total.
pub(super) fn starts(lengths: &[usize]) -> Vec<u64> {
    let mut starts = Vec::with_capacity(lengths.len() + 1);
    let mut at = 0u64;
    starts.push(at);
    for &len in lengths {
        at += len as u64;
        starts.push(at);
    }
    starts
}

/// The parameter holding flat index `i`, as the kernel finds it: the last `t` with
/// `starts[t] <= i` (empty parameters are skipped over).
#[cfg(test)]
fn tensor_of(starts: &[u64], i: u64) -> usize {
    let (mut lo, mut hi) = (0, starts.len() - 2);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if starts[mid] <= i {
            lo = mid
        } else {
            hi = mid - 1
        }
    }
    lo
}

/// The blocks of the norm reduction: one per `THREADS` values, at most `THREADS` (the
/// update sums the blocks' partial sums within one block).
pub(super) fn reduction_blocks(total: u64) -> u32 {
    total.div_ceil(THREADS as u64).clamp(1, THREADS as u64) as u32
}

/// Cuts flat moments back into one tensor per parameter of `vars`, on its device.
pub(super) fn split(flat: &[f32], vars: &[Var]) -> Result<Vec<Tensor>> {
    let mut at = 0;
    vars.iter()
        .map(|var| {
            let len = var.elem_count();
            let part = flat.get(at..at + len).ok_or_else(|| {
                candle_core::Error::Msg(format!("{} flat moments are too few", flat.len()))
            })?;
            at += len;
            Tensor::from_slice(part, var.shape(), var.device())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn every_flat_index_finds_its_parameter() {
        let lengths = [3, 0, 5, 1, 0, 256, 7];
        let starts = starts(&lengths);
        assert_eq!(starts, [0, 3, 3, 8, 9, 9, 265, 272]);
        let mut expected = Vec::new();
        for (t, &len) in lengths.iter().enumerate() {
            expected.extend(std::iter::repeat_n(t, len));
        }
        for (i, &t) in expected.iter().enumerate() {
            assert_eq!(tensor_of(&starts, i as u64), t, "index {i}");
        }
    }

    #[test]
    fn reduction_fits_one_block_of_partials() {
        assert_eq!(reduction_blocks(0), 1);
        assert_eq!(reduction_blocks(1), 1);
        assert_eq!(reduction_blocks(257), 2);
        assert_eq!(reduction_blocks(10_000_000), THREADS);
    }

    #[test]
    fn split_gives_each_parameter_its_values() -> Result<()> {
        let a = Var::zeros((2, 2), candle_core::DType::F32, &Device::Cpu)?;
        let b = Var::zeros(3, candle_core::DType::F32, &Device::Cpu)?;
        let flat: Vec<f32> = (0..7).map(|i| i as f32).collect();
        let parts = split(&flat, &[a, b])?;
        assert_eq!(parts[0].to_vec2::<f32>()?, [[0.0, 1.0], [2.0, 3.0]]);
        assert_eq!(parts[1].to_vec1::<f32>()?, [4.0, 5.0, 6.0]);
        let too_long = Var::zeros(6, candle_core::DType::F32, &Device::Cpu)?;
        assert!(split(&flat[..5], &[too_long]).is_err());
        Ok(())
    }
}
