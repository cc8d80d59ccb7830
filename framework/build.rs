//! With the `cuda` feature, compiles `kernels/adam.cu` (the one-launch optimiser) to PTX
//! with nvcc, for the compute capability in `CUDA_COMPUTE_CAP` (default 90: H100/H200).
//! nvcc is `$CUDA_ROOT/bin/nvcc` when `CUDA_ROOT` is set, else the one on `PATH`
//! (`scripts/build-cuda.sh` sets both).

use std::path::PathBuf;
use std::process::Command;

const KERNEL: &str = "kernels/adam.cu";

fn main() {
    println!("cargo:rerun-if-changed={KERNEL}");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=CUDA_ROOT");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("adam.ptx");
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".into());
    let nvcc = std::env::var_os("CUDA_ROOT")
        .map(|root| PathBuf::from(root).join("bin/nvcc"))
        .unwrap_or_else(|| "nvcc".into());
    // -fmad=false: no fused multiply-adds, so the update rounds as the CPU's does.
    let status = Command::new(&nvcc)
        .args([
            "--ptx",
            "-O3",
            "-fmad=false",
            &format!("-arch=sm_{cap}"),
            "-o",
        ])
        .arg(&out)
        .arg(KERNEL)
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("{} failed on {KERNEL} ({status})", nvcc.display()),
        Err(e) => panic!(
            "cannot run {} ({e}): the cuda feature needs nvcc; scripts/build-cuda.sh installs it",
            nvcc.display()
        ),
    }
}
