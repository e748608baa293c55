#!/usr/bin/env bash
# Gate scan benchmark: raw single-core Ed25519 verify rate, then POST /v1/scans
# under wrk at 32 connections (distinct pre-issued tokens), then POST /v1/scans/image
# with a 640×480 camera-like JPEG frame at 1 connection. Prints the figures and the ratio
# scan rate ÷ verify rate (target ≥ 25 %, p99 < 10 ms; image p50 < 20 ms).
#
#   bench/gate_scan.sh            # N=60000 tokens, DUR=10s, CONNS=32, THREADS=2
# Needs wrk (apt-get install -y wrk) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-60000}
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18081}

cargo build --release -q -p gate-service --bins --examples
DATA=$(mktemp -d)
target/release/examples/bench_tokens "$DATA" "$N" >/dev/null
EGATE_DATA_DIR=$DATA EGATE_GATE_ADDR=127.0.0.1:$PORT \
  EGATE_GATE_ISSUERS="bench=$DATA/bench/issuer.jwks.json" EGATE_LOG=warn \
  target/release/gate-service serve &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

VERIFY=$(target/release/examples/verify_rate 3)
echo "raw Ed25519 verify, one core: $VERIFY /s"

echo "== POST /v1/scans, $CONNS connections, $DUR"
wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s bench/load_scan.lua \
  "http://127.0.0.1:$PORT" -- "$DATA/bench/bodies.txt" "$THREADS" | tee "$DATA/scan.txt"
echo "== POST /v1/scans/image, 1 connection, 10s"
wrk -t1 -c1 -d10s --latency -s bench/gate_image.lua \
  "http://127.0.0.1:$PORT" -- "$DATA/bench/frame.jpg" "$DATA/bench/frame_mrz.txt" | tee "$DATA/image.txt"

echo "== gate counters"
curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -E '^gate_scans'
RPS=$(awk '/^Requests\/sec/ {print $2}' "$DATA/scan.txt")
P50=$(awk '$1 == "50%" {print $2; exit}' "$DATA/scan.txt")
P99=$(awk '$1 == "99%" {print $2; exit}' "$DATA/scan.txt")
IMG50=$(awk '$1 == "50%" {print $2; exit}' "$DATA/image.txt")
RATIO=$(awk -v a="$RPS" -v b="$VERIFY" 'BEGIN { printf "%.1f", 100 * a / b }')
echo
echo "verify_rate_per_s=$VERIFY scans_per_s=$RPS p50=$P50 p99=$P99 ratio_pct=$RATIO image_p50=$IMG50"
