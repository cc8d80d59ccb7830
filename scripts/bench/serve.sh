#!/usr/bin/env bash
# Serving, f32 and int8, xp against the reference's PyTorch model, interleaved in one
# sitting: CLS inference in batches of 256 names (xp bench serve on the ONNX exports,
# f32 and --quantize int8, of a four_losses run; scripts/bench/torch_serve.py in eager
# f32 and with PyTorch's dynamic int8 quantization). Prints each round, the medians and
# the ratios. Run from the project root after `cargo build --release`.
#
#   SEED_REPO=<reference checkout> PYTHON=<python with torch> scripts/bench/serve.sh [ROUNDS]
#
# Needs: SEED_REPO (github.com/adrienchaton/CharTransformer_playground), a python with
# torch, pytorch_lightning, seaborn and scikit-learn (the reference's imports), and the
# onnxruntime xp loads (VIRTUAL_ENV or ORT_DYLIB_PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
xp=${XP:-target/release/xp}
python=${PYTHON:-python3}
rounds=${1:-5}
: "${SEED_REPO:?set SEED_REPO to a checkout of the reference repository}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$xp" run experiments/four_losses.toml --set train.steps=40 --set train.eval_every=40 \
    --out "$tmp/run" --plain >"$tmp/run.log" 2>&1
"$xp" export --onnx "$tmp/run" -o "$tmp/f32.onnx" >/dev/null
"$xp" export --onnx "$tmp/run" -o "$tmp/int8.onnx" --quantize int8 >/dev/null

xp_rate() {
    "$xp" bench serve -m "$tmp/$1.onnx" --run "$tmp/run" --repeats 3 |
        awk '/onnxruntime CLS, batches/ {print $(NF-1)}'
}
torch_rate() {
    PRECISION=$1 SEED_REPO=$SEED_REPO "$python" scripts/bench/torch_serve.py 2>/dev/null |
        "$python" -c "import json, sys; print(json.load(sys.stdin)['names_per_s_b256'])"
}
median() {
    sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

declare -A rates
for round in $(seq 1 "$rounds"); do
    line="round $round:"
    for side in xp torch; do
        for precision in f32 int8; do
            rate=$("${side}_rate" "$precision")
            rates[$side.$precision]+="$rate "
            line+=" $side $precision $rate,"
        done
    done
    echo "${line%,} names/s"
done
declare -A medians
for key in "${!rates[@]}"; do
    medians[$key]=$(tr ' ' '\n' <<<"${rates[$key]}" | grep . | median)
done
ratio() { "$python" -c "print(round($1 / $2, 2))"; }
echo "medians (names/s, batches of 256): xp f32 ${medians[xp.f32]}, xp int8 ${medians[xp.int8]}, pytorch f32 ${medians[torch.f32]}, pytorch int8 ${medians[torch.int8]}"
echo "xp f32 / pytorch f32: x$(ratio "${medians[xp.f32]}" "${medians[torch.f32]}")"
echo "xp int8 / xp f32: x$(ratio "${medians[xp.int8]}" "${medians[xp.f32]}")"
echo "xp int8 / pytorch int8: x$(ratio "${medians[xp.int8]}" "${medians[torch.int8]}")"
