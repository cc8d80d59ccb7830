#!/usr/bin/env bash
# Training at length, xp against PyTorch's own encoder, interleaved in one sitting: for
# each length (default 128 512 1024), generated sequences of exactly that many tokens,
# the same encoder on both sides (dim 128, 4 heads, 2 pre-norm GELU layers, FFN 512,
# learned positions, dropout 0.1, CLS + MLM, Adam, batch BATCH), `xp bench train`
# against scripts/bench/torch_length.py, ROUNDS rounds. Prints tokens/s and peak memory
# (maximum resident set, /usr/bin/time) of each, then their medians and ratios.
#
#   PYTHON=<python with torch> scripts/bench/length.sh [ROUNDS] [LENGTHS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
xp=${XP:-$root/target/release/xp}
python=${PYTHON:-python3}
rounds=${1:-3}
shift || true
lengths=${*:-128 512 1024}
batch=${BATCH:-8}
steps=${STEPS:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() {
    sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
# Runs "$@", prints its standard output, and its peak memory in MB to $tmp/peak.
measured() {
    /usr/bin/time -f "%M" -o "$tmp/peak.kb" "$@"
    echo $(($(cat "$tmp/peak.kb") / 1024)) >"$tmp/peak"
}

for length in $lengths; do
    "$python" - "$tmp/len$length.csv" "$length" <<'PY'
import csv, random, sys
rng = random.Random(1)
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["text", "label"])
    for i in range(200):
        w.writerow(["".join(rng.choice("ACGTNRYK") for _ in range(int(sys.argv[2]) - 1)), "ab"[i % 2]])
PY
    cat >"$tmp/len$length.toml" <<TOML
name = "length$length"
[data]
path = "len$length.csv"
max_len = $length
[model]
dim = 128
heads = 4
layers = 2
ffn_dim = 512
dropout = 0.1
head_dropout = 0.0
activation = "gelu"
norm_first = true
positions = "learned"
[train]
lr = 1e-3
[objectives.CLS]
[objectives.MLM]
TOML
    xs=() ts=() xm=() tm=()
    for round in $(seq 1 "$rounds"); do
        rate=$(measured "$xp" bench train "$tmp/len$length.toml" --batch-sizes "$batch" \
            --steps "$steps" --repeats 1 | awk '/steps per second/ {print $(NF-1)}')
        xs+=("$("$python" -c "print(round($rate * $batch * $length))")") xm+=("$(cat "$tmp/peak")")
        tokens=$(LENGTH=$length BATCH=$batch STEPS=$steps measured "$python" scripts/bench/torch_length.py |
            "$python" -c "import json, sys; print(json.load(sys.stdin)['tokens_per_s'])")
        ts+=("$tokens") tm+=("$(cat "$tmp/peak")")
        echo "length $length round $round: xp ${xs[-1]} tokens/s ${xm[-1]} MB, pytorch ${ts[-1]} tokens/s ${tm[-1]} MB"
    done
    x=$(printf '%s\n' "${xs[@]}" | median) t=$(printf '%s\n' "${ts[@]}" | median)
    x_mb=$(printf '%s\n' "${xm[@]}" | median) t_mb=$(printf '%s\n' "${tm[@]}" | median)
    echo "length $length medians: xp $x tokens/s $x_mb MB, pytorch $t tokens/s $t_mb MB, speed x$("$python" -c "print(round($x / $t, 2))"), memory x$("$python" -c "print(round($x_mb / $t_mb, 2))")"
done
