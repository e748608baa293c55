#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md in one go on this machine and prints the figures:
#   1. shared core (criterion): token sign+encode, decode+verify vs ring's raw Ed25519
#      verify, QR render/decode, rules evaluation, MRZ parse;
#   2. QR PNG render: ours (criterion, above) vs Python segno, same text and settings;
#   3. gate scan throughput and p50/p99 vs raw verify (bench/gate_scan.sh);
#   4. declaration creation rate and p50/p99 (wrk on mobile-api);
#   5. RSS of the `egate up` process idle and under load;
#   6. QR versions of typical declarations.
# Needs wrk (apt-get install -y wrk), curl, python3 with segno (pip install segno).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
python3 -c 'import segno' 2>/dev/null || pip install -q segno

echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo || true; uname -r

echo "== 1. shared core (criterion)"
cargo bench -q -p egate-shared --bench token --bench qr --bench rules -- --warm-up-time 1 --measurement-time 4 2>&1 \
  | grep -B1 'time:' | grep -v '^--' || true

echo "== 2. segno, same text (renders/s)"
python3 bench/segno_png.py 300

echo "== 3. gate scans"
bench/gate_scan.sh

echo "== 4+5. egate up: declarations under load, RSS"
cargo build --release -q -p egate
DATA=$(mktemp -d)
EGATE_DATA_DIR=$DATA EGATE_MOBILE_API_ADDR=127.0.0.1:18180 EGATE_GATE_ADDR=127.0.0.1:18181 \
  EGATE_KIOSK_ADDR=127.0.0.1:18182 EGATE_RATE_LIMIT_PER_MINUTE=100000000 EGATE_LOG=warn \
  target/release/egate up >/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -fsS http://127.0.0.1:18180/healthz >/dev/null 2>&1 && break; sleep 0.1; done
sleep 2
echo "RSS idle: $(awk '/VmRSS/ {print $2, $3}' /proc/$PID/status)"
TODAY=$(TZ=Asia/Tokyo date +%F)
wrk -t2 -c16 -d10s --latency -s bench/declare.lua http://127.0.0.1:18180 -- "$TODAY" | tee "$DATA/decl.txt"
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$PID/status); peak: $(awk '/VmHWM/ {print $2, $3}' /proc/$PID/status)"

echo "== 6. QR versions (level Q)"
cargo test -q -p egate-shared --lib token::tests::report_token_sizes -- --nocapture 2>&1 | grep -v '^$' | grep -iv 'running\|test result' || true
