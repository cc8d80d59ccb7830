#!/usr/bin/env bash
# The test command of the README: lints, every test of the workspace, then the exported
# ONNX test models checked by the Python `onnx` checker and run by Python onnxruntime.
# Tests read the corpus at ../shared/data/names (override with XP_TEST_CORPUS).
# ONNX Runtime comes from the onnxruntime wheel, installed into ./.venv if missing;
# Slurm (for the Slurm backend's test) and Chromium (for the page's test) from Debian's
# packages.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! .venv/bin/python -c "import onnx, onnxruntime, numpy, tensorboard" 2>/dev/null; then
    echo "installing onnxruntime, onnx, numpy and tensorboard into .venv (for the ONNX and TensorBoard tests)"
    python3 -m venv .venv
    .venv/bin/pip install --quiet "onnxruntime==1.31.1" onnx numpy "tensorboard==2.21.0"
fi

# The page's test drives Debian's Chromium over WebDriver (chromedriver).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "installing chromium and chromium-driver (for the browser test)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# The Slurm backend's test needs a Slurm cluster: start a one-node one (installs
# slurm-wlm and munge with apt-get when missing; needs root unless one already runs).
./scripts/slurm-up.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
fixtures="$(pwd)/target/onnx-fixtures"
rm -rf "$fixtures"
XP_ONNX_FIXTURES="$fixtures" cargo test --workspace
.venv/bin/python tests/onnx_check.py "$fixtures"
