//! With the `cuda` feature: the dropout kernel to PTX (see xp-nvcc).
fn main() {
    xp_nvcc::compile_ptx(&["kernels/dropout.cu"]);
}
