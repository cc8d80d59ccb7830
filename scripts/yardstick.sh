#!/usr/bin/env bash
# The yardstick of docs/results.md: on the built-in corpus, with data.dedup off and on,
# seeds 1-3 of the n-gram baseline (experiments/ngram_baseline.toml), of the
# transformers best_cls, small_cls and conv_cls (experiments/NAME.toml), of the
# ensembles of the baseline with best_cls (ensemble), with conv_cls (ensemble_conv) and
# with all three (ensemble_all; weights fitted on validation), then `xp compare` with
# paired tests against the baseline. ngram_front_cls (and its ensemble with the
# baseline, ensemble_ngram_front) runs when POINTS names it.
#
#   scripts/yardstick.sh [OUT]        # default runs/yardstick; SEEDS="1 2 3", XP=xp
#   SEEDS="4 5 6" DEDUP=false POINTS="ngram_baseline conv_cls" scripts/yardstick.sh runs/fresh
#
# POINTS (default: all four) names the experiments to train; an ensemble is made when
# its members are among them. DEDUP (default "false true") the data.dedup settings.
#
# Started again, it skips what is finished and resumes what was stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
xp=${XP:-target/release/xp}
out=${1:-runs/yardstick}
seeds=${SEEDS:-1 2 3}
points=${POINTS:-ngram_baseline best_cls small_cls conv_cls}

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

# The ensemble $1 of the runs $2.. of seed $seed in $dir, unless it is made or one of
# its members is not among the points.
mix() {
    local out="$dir/$1/seed-$seed" members=()
    shift
    for point in "$@"; do
        [[ " $points " == *" $point "* ]] || return 0
        members+=("$dir/$point/seed-$seed")
    done
    if [ ! -f "$out/summary.json" ]; then
        "$xp" ensemble "${members[@]}" --out "$out"
    fi
}

for dedup in ${DEDUP:-false true}; do
    dir="$out/dedup-$dedup"
    for seed in $seeds; do
        for point in $points; do
            train "$point" "experiments/$point.toml"
        done
        mix ensemble ngram_baseline best_cls
        mix ensemble_conv ngram_baseline conv_cls
        mix ensemble_ngram_front ngram_baseline ngram_front_cls
        mix ensemble_all ngram_baseline best_cls small_cls
    done
    echo "== data.dedup = $dedup"
    "$xp" compare "$dir" --markdown --against ngram_baseline
done
