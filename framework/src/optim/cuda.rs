//! The optimiser on a CUDA device in two launches per step (`kernels/adam.cu`): the
//! moments of every parameter live in two flat device buffers, the parameters and their
//! gradients are a table of addresses, and one upload per step sends the gradients'
//! addresses (they are new tensors every step; the parameters' own buffers stay where
//! they are, as the update writes them in place).

use super::flat::{reduction_blocks, split, THREADS};
use super::{Update, BETA1, BETA2, EPS};
use candle_core::backprop::GradStore;
use candle_core::cuda_backend::cudarc::driver::{
    CudaFunction, CudaSlice, CudaStream, DevicePtr, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::WrapErr;
use candle_core::{Device, Result, Storage, Tensor, Var};
use std::sync::Arc;

/// The kernels, compiled to PTX by the build script.
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/adam.ptx"));
/// The name candle keeps the loaded module under.
const MODULE: &str = "xp_adam";

/// The optimiser state of all parameters on one CUDA device.
pub(super) struct FlatAdam {
    /// The two kernels, loaded once.
    square_sums: CudaFunction,
    update: CudaFunction,
    stream: Arc<CudaStream>,
    vars: Vec<Var>,
    total: u64,
    params: CudaSlice<u64>,
    grads: CudaSlice<u64>,
    starts: CudaSlice<u64>,
    m: CudaSlice<f32>,
    v: CudaSlice<f32>,
    partials: CudaSlice<f64>,
    norm: CudaSlice<f64>,
}

/// The device address of a tensor's values (f32, contiguous from its start offset).
fn address(tensor: &Tensor, stream: &CudaStream) -> Result<u64> {
    let (storage, layout) = tensor.storage_and_layout();
    let Storage::Cuda(storage) = &*storage else {
        candle_core::bail!("the CUDA optimiser got a tensor that is not on a CUDA device")
    };
    if !layout.is_contiguous() {
        candle_core::bail!("the CUDA optimiser needs contiguous parameters and gradients")
    }
    let slice = storage.as_cuda_slice::<f32>()?;
    let (ptr, _sync) = slice.device_ptr(stream);
    Ok(ptr + (layout.start_offset() * std::mem::size_of::<f32>()) as u64)
}

impl FlatAdam {
    /// Zero moments for `vars`, all f32 on the CUDA device `device`.
    pub(super) fn new(vars: Vec<Var>, device: &Device) -> Result<Self> {
        let device = device.as_cuda_device()?;
        let stream = device.cuda_stream();
        let lengths: Vec<usize> = vars.iter().map(|v| v.elem_count()).collect();
        let starts_host = super::flat::starts(&lengths);
        let total = *starts_host.last().unwrap_or(&0);
        let params_host = vars
            .iter()
            .map(|v| address(v.as_tensor(), &stream))
            .collect::<Result<Vec<u64>>>()?;
        let flat = (total as usize).max(1);
        Ok(Self {
            params: stream.clone_htod(&params_host).w()?,
            grads: stream.alloc_zeros::<u64>(vars.len().max(1)).w()?,
            starts: stream.clone_htod(&starts_host).w()?,
            m: stream.alloc_zeros::<f32>(flat).w()?,
            v: stream.alloc_zeros::<f32>(flat).w()?,
            partials: stream.alloc_zeros::<f64>(THREADS as usize).w()?,
            norm: stream.alloc_zeros::<f64>(1).w()?,
            square_sums: device
                .get_or_load_custom_func("xp_adam_square_sums", MODULE, PTX)?
                .into_cuda_function(),
            update: device
                .get_or_load_custom_func("xp_adam_update", MODULE, PTX)?
                .into_cuda_function(),
            stream,
            vars,
            total,
        })
    }

    /// One clipped update; returns the gradient norm (read back: the one transfer to
    /// the host). A norm that is not finite left every weight as it was.
    pub(super) fn step(
        &mut self,
        grads: &GradStore,
        update: &Update,
        max_norm: f64,
    ) -> Result<f64> {
        // Kept until the launches are queued; the stream orders any later free after them.
        let contiguous = self
            .vars
            .iter()
            .map(|var| grads.get(var).map(|g| g.contiguous()).transpose())
            .collect::<Result<Vec<Option<Tensor>>>>()?;
        let grads_host = contiguous
            .iter()
            .map(|g| g.as_ref().map_or(Ok(0), |g| address(g, &self.stream)))
            .collect::<Result<Vec<u64>>>()?;
        self.stream.memcpy_htod(&grads_host, &mut self.grads).w()?;
        let n = self.vars.len() as i32;
        let blocks = reduction_blocks(self.total);
        let mut launch = self.stream.launch_builder(&self.square_sums);
        launch
            .arg(&n)
            .arg(&self.total)
            .arg(&self.grads)
            .arg(&self.starts)
            .arg(&mut self.partials);
        // SAFETY: the arguments are those of the kernel's signature; it reads the
        // `total` values of the table's gradients and writes `blocks` partial sums.
        #[allow(unsafe_code)]
        unsafe { launch.launch(config(blocks)) }.w()?;

        let (l2, decoupled) = update.decay_terms();
        let update_blocks = self.total.div_ceil(THREADS as u64).clamp(1, 65_535) as u32;
        let (lr, b1, b2) = (update.lr as f32, BETA1 as f32, BETA2 as f32);
        let (c1, c2, eps) = (update.c1 as f32, update.c2 as f32, EPS as f32);
        let n_partials = blocks as i32;
        let mut launch = self.stream.launch_builder(&self.update);
        launch
            .arg(&n)
            .arg(&self.total)
            .arg(&self.params)
            .arg(&self.grads)
            .arg(&self.starts)
            .arg(&mut self.m)
            .arg(&mut self.v)
            .arg(&self.partials)
            .arg(&n_partials)
            .arg(&mut self.norm)
            .arg(&max_norm)
            .arg(&lr)
            .arg(&b1)
            .arg(&b2)
            .arg(&c1)
            .arg(&c2)
            .arg(&eps)
            .arg(&l2)
            .arg(&decoupled);
        // SAFETY: the arguments are those of the kernel's signature; the table holds
        // live f32 buffers of the lengths `starts` gives, and m and v hold `total`.
        #[allow(unsafe_code)]
        unsafe { launch.launch(config(update_blocks)) }.w()?;
        let norm = self.stream.clone_dtoh(&self.norm).w()?;
        drop(contiguous);
        Ok(norm[0])
    }

    /// Each parameter's moments as tensors on the device, in the order of the vars.
    pub(super) fn moments(&self) -> Result<Vec<(Tensor, Tensor)>> {
        let m = split(&self.stream.clone_dtoh(&self.m).w()?, &self.vars)?;
        let v = split(&self.stream.clone_dtoh(&self.v).w()?, &self.vars)?;
        Ok(m.into_iter().zip(v).collect())
    }

    /// Puts back moments that [`FlatAdam::moments`] (or any optimiser) gave.
    pub(super) fn restore(&mut self, moments: Vec<(Tensor, Tensor)>) -> Result<()> {
        let mut m = Vec::with_capacity(self.total as usize);
        let mut v = Vec::with_capacity(self.total as usize);
        for (mi, vi) in moments {
            m.extend(mi.flatten_all()?.to_vec1::<f32>()?);
            v.extend(vi.flatten_all()?.to_vec1::<f32>()?);
        }
        if m.len() as u64 != self.total || v.len() as u64 != self.total {
            candle_core::bail!(
                "moments of {} values for {} parameters' values",
                m.len(),
                self.total
            )
        }
        if !m.is_empty() {
            self.stream.memcpy_htod(&m, &mut self.m).w()?;
            self.stream.memcpy_htod(&v, &mut self.v).w()?;
        }
        Ok(())
    }
}

fn config(blocks: u32) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}
