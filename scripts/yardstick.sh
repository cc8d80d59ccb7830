#!/usr/bin/env bash
# The yardstick of docs/results.md: on the built-in corpus, with data.dedup off and on,
# seeds 1-3 of the n-gram baseline (experiments/ngram_baseline.toml), of the best
# transformer (experiments/best_cls.toml), of a small one (experiments/small_cls.toml),
# of the ensemble of the baseline and best_cls and of the ensemble of all three
# (weights fitted on validation), then `xp compare` with paired tests against the
# baseline.
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

# The ensemble $1 of the runs $2.. of seed $seed in $dir, unless it is made.
mix() {
    local out="$dir/$1/seed-$seed" members=()
    shift
    for point in "$@"; do
        members+=("$dir/$point/seed-$seed")
    done
    if [ ! -f "$out/summary.json" ]; then
        "$xp" ensemble "${members[@]}" --out "$out"
    fi
}

for dedup in false true; do
    dir="$out/dedup-$dedup"
    for seed in $seeds; do
        train ngram_baseline experiments/ngram_baseline.toml
        train best_cls experiments/best_cls.toml
        train small_cls experiments/small_cls.toml
        mix ensemble ngram_baseline best_cls
        mix ensemble_all ngram_baseline best_cls small_cls
    done
    echo "== data.dedup = $dedup"
    "$xp" compare "$dir" --markdown --against ngram_baseline
done
