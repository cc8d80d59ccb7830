//! The process's threads: the binary owns the process, so it, not the library, sizes
//! the thread pools.

use candle_core::Device;

/// Sizes the pool that trains batch slices and evaluates batches: `threads` workers
/// (0: one per core), and makes candle's own kernels single-threaded inside each
/// worker: for a model this small, slices of a batch on separate cores beat one matrix
/// product split across them. Called once, before any tensor work.
pub fn set_threads(threads: usize) {
    let workers = xp_framework::train::slice_count(threads, &Device::Cpu);
    // candle reads these at every matrix product; it has no other setting.
    for var in ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"] {
        std::env::set_var(var, "1");
    }
    // Fails only when the pool already exists (a second experiment in one process).
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build_global();
}
