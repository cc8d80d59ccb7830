//! Losses objectives can pick instead of plain cross-entropy.

use candle_core::{Result, Tensor, D};

/// Cross-entropy against targets smoothed towards the uniform distribution:
/// `(1 - eps) * nll(target) + eps * mean over classes of -log p`, averaged over rows
/// (PyTorch's `cross_entropy(..., label_smoothing=eps)`). `eps = 0` is plain
/// cross-entropy.
pub fn smoothed_cross_entropy(logits: &Tensor, targets: &Tensor, eps: f64) -> Result<Tensor> {
    if eps == 0.0 {
        return candle_nn::loss::cross_entropy(logits, targets);
    }
    let log_p = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let nll = candle_nn::loss::nll(&log_p, targets)?;
    let uniform = log_p.mean(D::Minus1)?.mean_all()?.neg()?;
    (nll * (1.0 - eps))? + (uniform * eps)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn smoothing_mixes_the_target_and_the_uniform_terms() -> Result<()> {
        let logits = Tensor::new(&[[2.0f32, 0.0, -1.0], [0.5, 0.5, 3.0]], &Device::Cpu)?;
        let targets = Tensor::new(&[0u32, 2], &Device::Cpu)?;
        let plain = smoothed_cross_entropy(&logits, &targets, 0.0)?.to_scalar::<f32>()?;
        let smooth = smoothed_cross_entropy(&logits, &targets, 0.1)?.to_scalar::<f32>()?;
        // By hand: log-probabilities of each row.
        let rows = [[2.0f32, 0.0, -1.0], [0.5, 0.5, 3.0]];
        let (mut nll, mut uniform) = (0.0, 0.0);
        for (row, t) in rows.iter().zip([0, 2]) {
            let lse = row.iter().map(|v| v.exp()).sum::<f32>().ln();
            nll += (lse - row[t]) / 2.0;
            uniform += row.iter().map(|v| lse - v).sum::<f32>() / 3.0 / 2.0;
        }
        assert!((plain - nll).abs() < 1e-5);
        assert!((smooth - (0.9 * nll + 0.1 * uniform)).abs() < 1e-5);
        Ok(())
    }
}
