//! With the `cuda` feature: the one-launch optimiser's kernels to PTX (see xp-nvcc).
fn main() {
    xp_nvcc::compile_ptx(&["kernels/adam.cu"]);
}
