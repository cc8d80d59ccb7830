#!/usr/bin/env bash
# The yardstick of docs/results.md: on the built-in corpus, with data.dedup off and on,
# seeds 1-3 of the n-gram baseline (experiments/ngram_baseline.toml), of the best
# transformer (experiments/best_cls.toml) and of their ensemble (weights fitted on
# validation), then `xp compare` of the three with paired tests against the baseline.
#
#   scripts/yardstick.sh [OUT]        # default runs/yardstick; SEEDS="1 2 3", XP=xp
#
# Started again, it skips what is finished and resumes what was stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
xp=${XP:-target/release/xp}
out=${1:-runs/yardstick}
seeds=${SEEDS:-1 2 3}

# Trains experiment $2 as $1 for seed $seed into $dir, or finishes it.
train() {
    local run="$dir/$1/seed-$seed"
    if [ -f "$run/summary.json" ]; then
        return
    elif [ -d "$run" ]; then
        "$xp" run --resume "$run"
    else
        "$xp" run "$2" --out "$run" --set "seed=$seed" --set "data.dedup=$dedup"
    fi
}

for dedup in false true; do
    dir="$out/dedup-$dedup"
    for seed in $seeds; do
        train ngram_baseline experiments/ngram_baseline.toml
        train best_cls experiments/best_cls.toml
        ensemble="$dir/ensemble/seed-$seed"
        if [ ! -f "$ensemble/summary.json" ]; then
            "$xp" ensemble "$dir/ngram_baseline/seed-$seed" "$dir/best_cls/seed-$seed" --out "$ensemble"
        fi
    done
    echo "== data.dedup = $dedup"
    "$xp" compare "$dir" --markdown --against ngram_baseline
done
