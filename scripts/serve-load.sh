#!/usr/bin/env bash
# Load on `xp serve` over loopback: single-name POST /api/classify requests from 1, 8
# and 64 concurrent clients (ApacheBench, `apt-get install apache2-utils`), and beside
# them `xp predict`'s names/s on the corpus's test-sized input. Prints requests/s and
# the p50/p99 latency per concurrency.
#
#   scripts/serve-load.sh RUN_DIR_OR_MODEL [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?give a run folder or an exported model}
requests=${2:-4000}
xp=${XP_BIN:-target/release/xp}
command -v ab >/dev/null || { echo "serve-load: ab missing: apt-get install apache2-utils" >&2; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$xp" serve -m "$model" --addr "127.0.0.1:$port" >/tmp/xp-serve-load.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
body=$(mktemp)
echo '{"names": ["Nakamura"]}' >"$body"
# Warm every session.
ab -q -n 200 -c 8 -p "$body" -T application/json "http://127.0.0.1:$port/api/classify" >/dev/null
for clients in 1 8 64; do
    # -e: the latency percentiles in fractions of a millisecond.
    out=$(ab -q -n "$requests" -c "$clients" -e "$body.csv" -p "$body" -T application/json \
        "http://127.0.0.1:$port/api/classify")
    rate=$(echo "$out" | awk '/Requests per second/ {print $4}')
    failed=$(echo "$out" | awk '/Failed requests/ {print $3}')
    p50=$(awk -F, '$1 == 50 {printf "%.2f", $2}' "$body.csv")
    p99=$(awk -F, '$1 == 99 {printf "%.2f", $2}' "$body.csv")
    echo "clients $clients: $requests requests, $rate requests/s, p50 ${p50} ms, p99 ${p99} ms, failed $failed"
done
