#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md in one go on this machine and prints the figures:
#   1. shared core (criterion): token sign+encode, decode+verify vs ring's raw Ed25519
#      verify, QR render/decode, rules evaluation, MRZ parse;
#   2. QR PNG render: ours (criterion, above) vs Python segno, same text and settings;
#   3. gate scan throughput and p50/p99 vs raw verify (bench/gate_scan.sh);
#   4. declaration creation rate and p50/p99 (wrk on mobile-api);
#   5. RSS of the `egate up` process idle and under load;
#   6. QR versions of typical declarations.
# Needs wrk (apt-get install -y wrk), curl and python3 (segno and Pillow, pinned, go into a
# venv under target/tools). A part that fails stops the run with a non-zero exit and prints
# no figure for it (a failed `cargo bench` is not hidden).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
VENV=target/tools/bench-venv
if ! "$VENV/bin/python" -c 'import segno, PIL' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q segno==1.6.6 pillow==13.0.0
fi
# The shared crate's package name, read from its manifest.
SHARED=$(awk -F'"' '/^name *=/ {print $2; exit}' shared/Cargo.toml)
LOGS=$(mktemp -d)

echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo || true; uname -r

echo "== 1. shared core (criterion)"
if ! cargo bench -q -p "$SHARED" --bench token --bench qr --bench rules -- --warm-up-time 1 --measurement-time 4 \
    >"$LOGS/criterion.txt" 2>&1; then
  tail -30 "$LOGS/criterion.txt"
  echo "run_all: FAILED: cargo bench failed: no criterion figure" >&2
  exit 1
fi
grep -B1 'time:' "$LOGS/criterion.txt" | grep -v '^--' \
  || { echo "run_all: FAILED: cargo bench printed no time" >&2; exit 1; }

echo "== 2. segno, same text (renders/s)"
"$VENV/bin/python" bench/segno_png.py 300

echo "== 3. gate scans"
bench/gate_scan.sh

echo "== 4+5. egate up: declarations under load, RSS"
cargo build --release -q -p egate
DATA=$(mktemp -d)
EGATE_DATA_DIR=$DATA EGATE_MOBILE_API_ADDR=127.0.0.1:18180 EGATE_GATE_ADDR=127.0.0.1:18181 EGATE_CONSOLE_ADDR=127.0.0.1:18183 \
  EGATE_KIOSK_ADDR=127.0.0.1:18182 EGATE_MOBILE_API_INTERNAL_ADDR=127.0.0.1:18184 \
  EGATE_KIOSK_INTERNAL_ADDR=127.0.0.1:18185 EGATE_RATE_LIMIT_PER_MINUTE=100000000 EGATE_LOG=warn \
  target/release/egate up >/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -fsS http://127.0.0.1:18180/healthz >/dev/null 2>&1 && break; sleep 0.1; done
sleep 2
echo "RSS idle: $(awk '/VmRSS/ {print $2, $3}' /proc/$PID/status)"
TODAY=$(TZ=Asia/Tokyo date +%F)
wrk -t2 -c16 -d10s --latency -s bench/declare.lua http://127.0.0.1:18180 -- "$TODAY" | tee "$DATA/decl.txt"
# Every answer must be a 201 (wrk's "Non-2xx" line counts the others), else no figure.
if grep -q 'Non-2xx' "$DATA/decl.txt" || grep -qE 'Socket errors: connect [1-9]' "$DATA/decl.txt" \
    || ! grep -qE '^created=[1-9]' "$DATA/decl.txt" || ! grep -qE '^not_201=0$' "$DATA/decl.txt"; then
  echo "run_all: FAILED: declarations answered other than 201 (or none): no declaration figure" >&2
  exit 1
fi
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$PID/status); peak: $(awk '/VmHWM/ {print $2, $3}' /proc/$PID/status)"

echo "== 6. QR versions (level Q)"
if ! cargo test -q -p "$SHARED" --lib token::tests::report_token_sizes -- --nocapture >"$LOGS/sizes.txt" 2>&1 \
    || ! grep -qE '1 passed' "$LOGS/sizes.txt"; then
  tail -30 "$LOGS/sizes.txt"
  echo "run_all: FAILED: the QR version test failed or did not run: no QR version figure" >&2
  exit 1
fi
grep -v '^$' "$LOGS/sizes.txt" | grep -iv 'running\|test result'
