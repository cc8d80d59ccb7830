#!/usr/bin/env bash
# The GPU check: one prepared command for a lent GPU machine that trains on CUDA and
# prints one JSON summary: the card, CPU-vs-GPU parity on four_losses, the training bench
# on four_losses at batch 32, 256 and 512 (step, forward, backward and optimiser update),
# the aggregate steps/s of 1, 4 and 8 concurrent four_losses runs, and a best_cls run
# with its test CLS accuracy and wall time. It keeps itself under XP_GPU_BUDGET seconds (default
# 420, so the whole call stays under 8 minutes with start-up): best_cls trains its full
# 12000 steps only when the bench says they fit, else 3000 (and the summary says so).
#
# Prepare on this machine (no GPU needed):
#   scripts/build-cuda.sh                 # target/cuda/xp
#   scripts/gpu-check.sh --prepare        # the corpus into target/gpu-check/names
# Run on the GPU machine, carrying target/cuda/xp and target/gpu-check:
#   scripts/gpu-check.sh
# Check the script's CPU side here, with the CPU build and a short budget:
#   XP_BIN=target/release/xp XP_GPU_DEVICE=cpu XP_GPU_QUICK=1 scripts/gpu-check.sh
#
# Writes the summary to stdout and, when $OUT is set (the device tool), to
# $OUT/gpu-check.json with every command's log beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

data=target/gpu-check/names
libs=target/gpu-check/lib
if [ "${1:-}" = "--prepare" ]; then
    src=${XP_TEST_CORPUS:-framework/corpus/names}
    [ -d "$src" ] || { echo "gpu-check: no corpus at $src (set XP_TEST_CORPUS)" >&2; exit 1; }
    mkdir -p "$(dirname "$data")" && rm -rf "$data" && cp -r "$src" "$data"
    # The shared libraries the binary needs beyond libc, libstdc++ and CUDA (fontconfig
    # and its kin, for the figures): a bare GPU machine may lack them.
    rm -rf "$libs" && mkdir -p "$libs"
    ldd "${XP_BIN:-target/cuda/xp}" | awk '$3 ~ /^\// { print $3 }' |
        grep -vE '/(libc|libm|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so|cuda|cublas|curand|nvrtc|cudart' |
        xargs -r cp -L -t "$libs"
    echo "gpu-check: corpus copied to $data, libraries to $libs; carry target/cuda/xp and target/gpu-check"
    exit 0
fi

xp=${XP_BIN:-target/cuda/xp}
device=${XP_GPU_DEVICE:-cuda}
budget=${XP_GPU_BUDGET:-420}
quick=${XP_GPU_QUICK:-}
out=${OUT:-target/gpu-check/out}
mkdir -p "$out"
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-/usr/local/cuda-13.0/targets/x86_64-linux/lib}:$PWD/$libs
export XP_DATA_DIR=${XP_DATA_DIR:-$PWD/$data}
[ -x "$xp" ] || { echo "gpu-check: $xp missing: run scripts/build-cuda.sh (or set XP_BIN)" >&2; exit 1; }
[ -d "$XP_DATA_DIR" ] || { echo "gpu-check: no corpus at $XP_DATA_DIR: run scripts/gpu-check.sh --prepare" >&2; exit 1; }
"$xp" --version >/dev/null 2>"$out/start.log" || { echo "gpu-check: $xp does not start:" >&2; cat "$out/start.log" >&2; exit 1; }
start=$(date +%s)
elapsed() { echo $(($(date +%s) - start)); }

card=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || true)
card=${card:-none (nvidia-smi not found)}

# 1. Parity: the first 50 steps on the CPU and the GPU, dropout off.
parity_steps=50
[ -n "$quick" ] && parity_steps=5
parity_status=ok
"$xp" parity experiments/four_losses.toml --device "$device" --steps "$parity_steps" \
    --json "$out/parity.json" >"$out/parity.log" 2>&1 || parity_status=failed

# 2. The training bench at three batch sizes.
bench_steps=30
[ -n "$quick" ] && bench_steps=3
bench_status=ok
"$xp" bench train experiments/four_losses.toml --batch-sizes 32,256,512 --steps "$bench_steps" \
    --set "train.device=\"$device\"" --json "$out/bench.json" >"$out/bench.log" 2>&1 || bench_status=failed

# 3. Several runs on one GPU at once (as `xp sweep --jobs N` runs them): N processes each
# bench four_losses at batch 32; the aggregate is the sum of their steps per second.
concurrent_steps=150
[ -n "$quick" ] && concurrent_steps=3
steps_per_second() {
    grep -A1 '"what": "four_losses b32 steps per second"' "$1" 2>/dev/null |
        sed -n 's/.*"median": \([0-9.eE+-]*\).*/\1/p' | head -n 1
}
concurrent=""
for n in 1 4 8; do
    pids=()
    for i in $(seq 1 "$n"); do
        "$xp" bench train experiments/four_losses.toml --batch-sizes 32 --steps "$concurrent_steps" \
            --repeats 1 --set "train.device=\"$device\"" --json "$out/concurrent-$n-$i.json" \
            >"$out/concurrent-$n-$i.log" 2>&1 &
        pids+=($!)
    done
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
    total=0
    for i in $(seq 1 "$n"); do
        rate=$(steps_per_second "$out/concurrent-$n-$i.json")
        total=$(awk -v a="$total" -v b="${rate:-0}" 'BEGIN { printf "%.2f", a + b }')
    done
    concurrent="$concurrent${concurrent:+, }{\"runs\": $n, \"failed\": $failed, \"steps_per_second\": $total}"
done

# 4. best_cls: time 20 steps, then train as many of the 12000 as fit the budget.
"$xp" bench train experiments/best_cls.toml --batch-sizes 64 --steps 20 --repeats 1 \
    --set "train.device=\"$device\"" --json "$out/bench_best_cls.json" >"$out/bench_best_cls.log" 2>&1 || true
step_ms=$(grep -A1 '"what": "best_cls b64 step' "$out/bench_best_cls.json" 2>/dev/null |
    sed -n 's/.*"median": \([0-9.eE+-]*\).*/\1/p' | head -n 1 || true)
step_ms=${step_ms:-1000}
left=$((budget - $(elapsed) - 30))
# 12000 steps plus 24 evaluations, with a quarter for what the bench does not see.
need=$(awk -v ms="$step_ms" 'BEGIN { printf "%d", 12000 * ms / 1000 * 1.25 + 24 * 2 }')
steps=12000
note="full run"
if [ "$need" -gt "$left" ]; then
    steps=3000
    note="12000 steps would need about ${need} s of the ${left} s left: trained 3000"
fi
[ -n "$quick" ] && { steps=40; note="quick check: 40 steps"; }
rm -rf "$out/best_cls"
run_start=$(date +%s)
run_status=ok
timeout $((left > 10 ? left : 10)) "$xp" run experiments/best_cls.toml --device "$device" --plain \
    --out "$out/best_cls" --set "train.steps=$steps" --set "train.eval_every=$((steps / 4))" \
    >"$out/best_cls.log" 2>&1 || run_status=failed
run_seconds=$(($(date +%s) - run_start))
# summary.json (format 2): splits.test.objectives.CLS.accuracy; "test" is the last split.
test_cls=$(tr -d ' \n' <"$out/best_cls/summary.json" 2>/dev/null |
    sed -e 's/.*"test":{"objectives":{//' |
    sed -n 's/.*"CLS":{"loss":[^,]*,"accuracy":\([0-9.eE+-]*\).*/\1/p' || true)

json_or_null() { if [ -s "$1" ]; then cat "$1"; else echo null; fi; }
# A top-level field of the parity report (its worst difference), or null.
parity_field() { sed -n "s/^  \"$1\": \(.*\),\{0,1\}$/\1/p" "$out/parity.json" 2>/dev/null | sed 's/,$//' | grep . || echo null; }
summary=$(cat <<EOF
{
  "card": "$card",
  "device": "$device",
  "parity": {"status": "$parity_status", "steps": $parity_steps, "agree": $(parity_field agree),
             "worst_relative": $(parity_field worst_relative), "worst_step": $(parity_field worst_step),
             "worst_loss": $(parity_field worst_loss), "tolerance": $(parity_field tolerance)},
  "bench": {"status": "$bench_status", "steps": $bench_steps, "rows": $(json_or_null "$out/bench.json")},
  "concurrent": {"steps": $concurrent_steps, "runs": [$concurrent]},
  "best_cls": {"status": "$run_status", "steps": $steps, "note": "$note", "step_ms": $step_ms,
               "wall_seconds": $run_seconds, "test_cls_accuracy": ${test_cls:-null}},
  "seconds": $(elapsed)
}
EOF
)
echo "$summary" | tee "$out/gpu-check.json"
