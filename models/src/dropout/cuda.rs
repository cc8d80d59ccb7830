//! The CUDA launch of the dropout kernel (`kernels/dropout.cu`).

use super::draws::Keep;
use candle_core::cuda_backend::cudarc::driver::{LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::WrapErr;
use candle_core::{CudaStorage, Layout, Result, Shape};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/dropout.ptx"));
const THREADS: u32 = 256;

/// `x * mask` for the contiguous f32 values of `storage` at `layout`.
pub(super) fn forward(
    keep: Keep,
    storage: &CudaStorage,
    layout: &Layout,
) -> Result<(CudaStorage, Shape)> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("xp-dropout: contiguous values only")
    };
    let device = &storage.device;
    let x = storage.as_cuda_slice::<f32>()?.slice(start..end);
    let n = (end - start) as u32;
    let stream = device.cuda_stream();
    let mut y = stream.alloc_zeros::<f32>(n.max(1) as usize).w()?;
    let func = device.get_or_load_custom_func("xp_dropout_f32", "xp_dropout", PTX)?;
    let mut launch = func.builder();
    launch
        .arg(&x)
        .arg(&mut y)
        .arg(&n)
        .arg(&keep.key)
        .arg(&keep.threshold)
        .arg(&keep.scale);
    let blocks = n.div_ceil(THREADS).clamp(1, 65_535);
    let config = LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: the kernel reads n values of x and writes n values of y, both at least
    // n long, with the argument types of its signature.
    #[allow(unsafe_code)]
    unsafe { launch.launch(config) }.w()?;
    Ok((
        CudaStorage::wrap_cuda_slice(y, device.clone()),
        layout.shape().clone(),
    ))
}
