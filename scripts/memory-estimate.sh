#!/usr/bin/env bash
# The memory a run is estimated to need against the peak it reaches: the reference's
# model (dim 128, 2 heads, 2 layers, ffn 512, batch 32) on generated DNA of 128, 512 and
# 1024 characters, CLS+MLM and the four objectives, 4 steps each, peak resident memory by
# GNU time. The table of docs/guide/data.md ("Long texts and memory").
# Usage: scripts/memory-estimate.sh [XP_BINARY]
set -euo pipefail
xp=$(realpath "${1:-target/release/xp}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
python3 - <<'PY'
import csv, random
random.seed(2)
for length in (128, 512, 1024):
    with open(f"dna{length}.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["text", "label"])
        for i in range(400):
            alphabet = "ACGT" if i % 2 == 0 else "AACGTT"
            out.writerow(["".join(random.choice(alphabet) for _ in range(length)), f"class{i % 2}"])
PY
echo "| length | objectives | estimate (GB) | peak resident (GB) |"
echo "|---|---|---|---|"
for length in 128 512 1024; do
    for objectives in "CLS MLM" "CLS MLM LA NSP"; do
        printf 'name = "m"\n[data]\npath = "dna%s.csv"\n[train]\nsteps = 4\neval_every = 4\n' "$length" >m.toml
        for o in $objectives; do printf '[objectives.%s]\n' "$o" >>m.toml; done
        /usr/bin/time -v "$xp" run m.toml --out "run-$length-${objectives// /}" --plain >log 2>&1
        estimate=$(grep -o 'memory about [0-9.]* GB' log | awk '{print $3}')
        peak=$(grep 'Maximum resident' log | awk '{printf "%.2f", $6 / 1e6}')
        echo "| $length | ${objectives// /+} | $estimate | $peak |"
    done
done
