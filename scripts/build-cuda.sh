#!/usr/bin/env bash
# Builds `xp` with the `cuda` feature on a machine without a GPU or a system CUDA
# toolkit: nvcc and the CUDA 13.0 libraries come from PyPI wheels, and a stub
# `libcuda.so` (one empty function per driver call cudarc declares) stands in for the
# driver at link time. At run time the GPU machine's real libraries are used:
#
#   LD_LIBRARY_PATH=/usr/local/cuda-13.0/targets/x86_64-linux/lib target/cuda/xp run ... --device cuda
#
# Output: target/cuda/xp (stripped, so it fits a 64 MiB copy). CUDA 13.0, not newer:
# PTX from a newer nvcc may not load on a driver 580 (CUDA 13.0) machine.
#
# Environment: XP_CUDA_TOOLKIT (where the wheels go, default target/cuda-toolkit),
# CUDA_COMPUTE_CAP (default 90: H100/H200), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

toolkit=${XP_CUDA_TOOLKIT:-$PWD/target/cuda-toolkit}
cap=${CUDA_COMPUTE_CAP:-90}
python=${PYTHON:-python3}
cuda=$toolkit/nvidia/cu13
link=$toolkit/link

if [ ! -x "$cuda/bin/nvcc" ]; then
    echo "build-cuda: installing nvcc and the CUDA 13.0 libraries into $toolkit (PyPI wheels, a few GB)"
    "$python" -m pip install --quiet --disable-pip-version-check --target "$toolkit" --no-deps \
        nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 \
        "nvidia-cuda-runtime==13.0.*" nvidia-curand==10.4.0.35 "nvidia-cublas==13.0.*" \
        "nvidia-cuda-nvrtc==13.0.*" "nvidia-cuda-cccl==13.0.*"
fi

# The wheels ship versioned libraries only: give the linker unversioned names.
mkdir -p "$link"
for lib in cublas cublasLt curand nvrtc cudart; do
    real=$(find "$cuda/lib" -maxdepth 1 -name "lib$lib.so.*" | sort | head -n 1)
    if [ -z "$real" ]; then
        echo "build-cuda: lib$lib.so.* is missing from $cuda/lib; delete $toolkit and rerun" >&2
        exit 1
    fi
    ln -sf "$real" "$link/lib$lib.so"
done

# A stub driver with the real soname, so the binary asks for libcuda.so.1 at run time.
if [ ! -f "$link/libcuda.so" ]; then
    cargo fetch --quiet
    cudarc=$(cargo metadata --format-version 1 --features cuda | "$python" -c '
import json, os, sys
pkgs = json.load(sys.stdin)["packages"]
print(next(os.path.dirname(p["manifest_path"]) for p in pkgs if p["name"] == "cudarc"))')
    grep -o 'pub unsafe fn cu[A-Za-z0-9_]*' "$cudarc/src/driver/sys/mod.rs" | sort -u |
        sed 's/^pub unsafe fn \(.*\)$/void \1(void) {}/' >"$link/cuda_stub.c"
    gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$link/libcuda.so" "$link/cuda_stub.c"
fi

echo "build-cuda: building (compute capability $cap); a clean build takes about 10 minutes"
PATH=$cuda/bin:$PATH CUDA_ROOT=$cuda CUDA_COMPUTE_CAP=$cap RUSTFLAGS="-L $link" \
    CARGO_TARGET_DIR=target/cuda cargo build --release --features cuda --bin xp
strip -o target/cuda/xp target/cuda/release/xp
echo "build-cuda: wrote target/cuda/xp; run it with"
echo "  LD_LIBRARY_PATH=/usr/local/cuda-13.0/targets/x86_64-linux/lib target/cuda/xp run EXPERIMENT.toml --device cuda"
