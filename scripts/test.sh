#!/usr/bin/env bash
# The test command of the README: lints, then every test of the workspace.
# Tests read the corpus at ../shared/data/names (override with XP_TEST_CORPUS).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
