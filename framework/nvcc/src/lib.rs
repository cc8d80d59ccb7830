//! Compiles a crate's CUDA kernels to PTX from its build script, when the crate is
//! built with its `cuda` feature; without it, does nothing, so a CPU build needs no
//! CUDA toolkit.
//!
//! ```no_run
//! // in build.rs's main:
//! xp_nvcc::compile_ptx(&["kernels/adam.cu"]);
//! ```
//!
//! Each `kernels/NAME.cu` becomes `$OUT_DIR/NAME.ptx`, for
//! `include_str!(concat!(env!("OUT_DIR"), "/NAME.ptx"))`. nvcc is `$CUDA_ROOT/bin/nvcc`
//! when `CUDA_ROOT` is set, else the one on `PATH`; the target is `sm_$CUDA_COMPUTE_CAP`
//! (default 90: H100, H200), as for candle's own kernels. Fused multiply-adds are off,
//! so the kernels round as the CPU code they mirror does.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiles each of `sources` (paths relative to the crate) to PTX in `OUT_DIR` when
/// the `cuda` feature is on. A failure stops the build with what to do.
pub fn compile_ptx(sources: &[&str]) {
    for source in sources {
        println!("cargo:rerun-if-changed={source}");
    }
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=CUDA_ROOT");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".into());
    let nvcc = std::env::var_os("CUDA_ROOT")
        .map(|root| PathBuf::from(root).join("bin/nvcc"))
        .unwrap_or_else(|| "nvcc".into());
    for source in sources {
        let out = out_dir.join(ptx_name(source));
        if let Err(why) = run_nvcc(&nvcc, &cap, Path::new(source), &out) {
            panic!("compiling {source} to PTX: {why}");
        }
    }
}

/// `kernels/adam.cu` -> `adam.ptx`.
fn ptx_name(source: &str) -> PathBuf {
    Path::new(source)
        .with_extension("ptx")
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn run_nvcc(nvcc: &Path, cap: &str, source: &Path, out: &Path) -> Result<(), String> {
    let status = Command::new(nvcc)
        .args(["--ptx", "-O3", "-fmad=false", &format!("-arch=sm_{cap}"), "-o"])
        .arg(out)
        .arg(source)
        .status()
        .map_err(|e| {
            format!(
                "cannot run {} ({e}): the cuda feature needs nvcc; scripts/build-cuda.sh installs it",
                nvcc.display()
            )
        })?;
    match status.success() {
        true => Ok(()),
        false => Err(format!("{} failed ({status})", nvcc.display())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_kernel_gets_its_own_ptx_file() {
        assert_eq!(
            super::ptx_name("kernels/adam.cu"),
            std::path::Path::new("adam.ptx")
        );
        assert_eq!(
            super::ptx_name("dropout.cu"),
            std::path::Path::new("dropout.ptx")
        );
    }
}
