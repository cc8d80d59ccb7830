#!/usr/bin/env bash
# The test command of the README: formatting, lints, every test of the workspace, then
# the exported ONNX test models checked by the Python `onnx` checker and run by Python
# onnxruntime, the n-gram baseline beside scikit-learn's, and the Python package
# installed with pip and its tests. What CI runs through `.ci/run`, on a clean clone.
#
# It installs what the tests need when missing: onnxruntime, onnx, numpy, tensorboard and
# scikit-learn into ./.venv (pip), Chromium and its WebDriver for the page's test, and Slurm for the
# Slurm backend's test (Debian packages, then a one-node cluster: scripts/slurm-up.sh).
# The installs run while clippy compiles; the tests wait for them.
# Tests read the corpus the binary packs, framework/corpus/names (override with XP_TEST_CORPUS).
set -euo pipefail
cd "$(dirname "$0")/.."

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

python_packages() {
    if ! .venv/bin/python -c "import onnx, onnxruntime, numpy, tensorboard, sklearn" 2>/dev/null; then
        echo "installing onnxruntime, onnx, numpy, tensorboard and scikit-learn into .venv"
        python3 -m venv .venv
        .venv/bin/pip install --quiet "onnxruntime==1.31.1" onnx numpy "tensorboard==2.21.0" "scikit-learn==1.9.1"
    fi
}

# apt-get takes one lock: the Debian packages install one after the other.
system_packages() {
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! fc-list | grep -q "Droid Sans Fallback"; then
        echo "installing chromium, chromium-driver and fonts-droid-fallback"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-droid-fallback >/dev/null
    fi
    ./scripts/slurm-up.sh
}

python_packages >"$logs/python" 2>&1 &
python_pid=$!
system_packages >"$logs/system" 2>&1 &
system_pid=$!

# Waits for an install started above; on failure shows its output and stops.
await() {
    if ! wait "$1"; then
        echo "installing $2 failed:" >&2
        cat "$logs/$2" >&2
        exit 1
    fi
    cat "$logs/$2"
}

started=$SECONDS
phase() { echo "== $1 ($((SECONDS - started)) s)"; }

phase "cargo fmt --check"
cargo fmt --all -- --check
phase "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
phase "waiting for the installs"
await "$python_pid" python
await "$system_pid" system
phase "cargo test"
fixtures="$(pwd)/target/onnx-fixtures"
rm -rf "$fixtures"
XP_ONNX_FIXTURES="$fixtures" cargo test --workspace
phase "the exported test models in Python onnx and onnxruntime"
.venv/bin/python tests/onnx_check.py "$fixtures"
phase "the n-gram baseline beside scikit-learn's, on eight languages of the corpus"
baseline_check() {
    local dir xp="${CARGO_TARGET_DIR:-target}/debug/xp" experiment=experiments/ngram_baseline.toml
    dir=$(mktemp -d)
    "$xp" data --write "$dir/all" >/dev/null
    mkdir "$dir/names"
    for language in Czech Dutch German Greek Italian Japanese Polish Spanish; do
        cp "$dir/all/$language.txt" "$dir/names/"
    done
    local data="data.dir=\"$dir/names\""
    "$xp" data "$experiment" --set "$data" --split-csv "$dir/split.csv" >/dev/null
    "$xp" run "$experiment" --set "$data" --out "$dir/run" >/dev/null
    .venv/bin/python scripts/sklearn_baseline.py "$dir/split.csv" --run "$dir/run"
    rm -rf "$dir"
}
baseline_check
phase "the Python package: pip install ./python[test] (dev profile, the tests' build), then pytest"
# The dev profile is optimised (Cargo.toml) and reuses what cargo test compiled.
MATURIN_PEP517_ARGS="--profile dev" .venv/bin/pip install --quiet "./python[test]"
# From the root, so that `import xp` finds the installed package, not python/xp's sources.
.venv/bin/python -m pytest python/tests -q -p no:cacheprovider
phase "done"
