//! Dropout as one graph node that draws its own mask, for CUDA: one kernel forward
//! (`kernels/dropout.cu`), the same kernel on the gradient backward, and no mask built
//! on the host and copied over. It draws exactly what the host mask holds, so a run on
//! the GPU drops the elements a run on the CPU drops.

use super::draws::Keep;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// Multiplies each element by its value in the mask `Keep` describes.
#[derive(Debug, Clone, Copy)]
pub(super) struct MaskedByKeep(pub Keep);

impl MaskedByKeep {
    /// `x` (contiguous) times the mask.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        super::check_elements(x.elem_count())?;
        x.contiguous()?.apply_op1(self)
    }
}

impl CustomOp1 for MaskedByKeep {
    fn name(&self) -> &'static str {
        "xp-dropout"
    }

    /// The host version, for tests and for completeness (host training builds the
    /// mask as a tensor instead, see [`super::Dropout::forward`]).
    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(values), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("xp-dropout: contiguous f32 values only")
        };
        let mask = self.0.rows(None, end - start, 1);
        let out = values[start..end]
            .iter()
            .zip(mask)
            .map(|(x, m)| x * m)
            .collect();
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        storage: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        super::cuda::forward(self.0, storage, layout)
    }

    /// The derivative of `x * mask` is the mask: the same op on the gradient.
    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        self.apply(grad).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dropout::{Dropout, Mode};
    use candle_core::{Device, Var};

    /// The op multiplies by the mask `Dropout` builds under the same seed, and its
    /// gradient is that mask.
    #[test]
    fn the_op_applies_and_differentiates_the_host_mask() -> Result<()> {
        let values = Tensor::arange(-30f32, 30.0, &Device::Cpu)?.reshape((3, 4, 5))?;
        let var = Var::from_tensor(&values)?;
        let x = var.as_tensor();
        let mask = Dropout::new(0.3)
            .keep_mask(x.shape(), &Device::Cpu, &Mode::train(9))?
            .expect("train mode");
        let keep = Mode::train(9).next_mask(0.3).expect("train mode");
        let y = MaskedByKeep(keep).apply(x)?;
        assert_eq!(
            y.flatten_all()?.to_vec1::<f32>()?,
            (x * &mask)?.flatten_all()?.to_vec1::<f32>()?
        );
        let grads = y.sum_all()?.backward()?;
        let dx = grads.get(x).expect("a gradient");
        assert_eq!(
            dx.flatten_all()?.to_vec1::<f32>()?,
            mask.flatten_all()?.to_vec1::<f32>()?
        );
        Ok(())
    }
}
