#!/usr/bin/env bash
# Gate scan benchmark: raw single-core Ed25519 verify rate, then POST /v1/scans under wrk
# at 32 connections (distinct pre-issued tokens, each sent once), then POST
# /v1/scans/image at 1 connection with 640x480 camera-like JPEG frames, a fresh token in
# each (bench/image_frames.py). Prints the figures and the ratio scan rate / verify rate
# (target >= 25 %, p99 < 10 ms; image p50 < 20 ms). Then the cost of device
# authentication in the same run (examples/device_auth_rate: the per-request key lookup
# alone, on the same cores; its share of the scan throughput is scans/s over lookups/s,
# target < 5 %), and a paced run of POST /v1/scans at half the measured saturation rate
# (connections each waiting PACE_MS, default 8, between requests, as many as make half
# the rate counting the answer's own time (wrk's delay is whole milliseconds); target
# p99 < 10 ms).
# Every request carries the key of one registered E-Gate device (bench_tokens registers
# it); the per-device rate limit is lifted for the run (one device at full rate).
#
#   bench/gate_scan.sh   # N=200000 scan tokens (20,000/s for 10 s: the fastest run so far
#                        # did 11,549/s), IMG_FRAMES=3000, DUR=10s, CONNS=32, THREADS=2
#
# A run that failed prints no figure and exits 1: any 5xx or other non-200 answer, any
# socket error other than a timeout, any scan refused as `token.replayed` (every token is
# sent once, so a replay is the gate's error), an image scan that is not a decision on a
# first use (GREEN, or RED for random selection only: an unreadable QR fails it), or a
# scan token pool that ran out before the end (the req/s would be wrong: raise N). Frames
# running out only ends the image run early: its figures are latencies of the frames sent.
# Needs wrk (apt-get install -y wrk), curl and python3 (segno and Pillow, pinned, are
# installed into target/tools/bench-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
PACED_N=${PACED_N:-60000}
PACE_MS=${PACE_MS:-8}
IMG_FRAMES=${IMG_FRAMES:-3000}
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18081}

VENV=target/tools/bench-venv
if ! "$VENV/bin/python" -c 'import segno, PIL' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q segno==1.6.6 pillow==13.0.0
fi

# BENCH_PROFILE=debug: the debug build, to check the script itself (not for figures).
PROFILE=${BENCH_PROFILE:-release}
if [[ $PROFILE == release ]]; then
  cargo build --release -q -p gate-service --bins --examples
else
  cargo build -q -p gate-service --bins --examples
fi
BIN=target/$PROFILE
DATA=$(mktemp -d)
"$BIN/examples/bench_tokens" "$DATA" "$((N + PACED_N + IMG_FRAMES))" >/dev/null
head -n "$N" "$DATA/bench/bodies.txt" >"$DATA/scan-bodies.txt"
sed -n "$((N + 1)),$((N + PACED_N))p" "$DATA/bench/bodies.txt" >"$DATA/paced-bodies.txt"
tail -n "$IMG_FRAMES" "$DATA/bench/bodies.txt" >"$DATA/image-bodies.txt"
GATE_KEY=$(cat "$DATA/bench/gate.key")
export GATE_KEY
"$VENV/bin/python" bench/image_frames.py "$DATA/image-bodies.txt" "$DATA/frames"
EGATE_DATA_DIR=$DATA EGATE_GATE_ADDR=127.0.0.1:$PORT EGATE_CONSOLE_ADDR=127.0.0.1:$((PORT + 2)) \
  EGATE_GATE_SCAN_RATE=100000000 EGATE_GATE_SCAN_BURST=100000000 \
  EGATE_GATE_ISSUERS="bench=$DATA/bench/issuer.jwks.json" EGATE_LOG=warn \
  "$BIN/gate-service" serve &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

VERIFY=$("$BIN/examples/verify_rate" 3)
echo "raw Ed25519 verify, one core: $VERIFY /s"

echo "== POST /v1/scans, $CONNS connections, $DUR"
wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency -s bench/load_scan.lua \
  "http://127.0.0.1:$PORT" -- "$DATA/scan-bodies.txt" "$THREADS" | tee "$DATA/scan.txt"
echo "== POST /v1/scans/image, 1 connection, 10s, a fresh token per frame"
wrk -t1 -c1 -d10s --latency -s bench/gate_image.lua \
  "http://127.0.0.1:$PORT" -- "$DATA/frames" "$IMG_FRAMES" | tee "$DATA/image.txt"

echo "== device authentication alone (the per-request key lookup), 3 s, 32 tasks on 2 workers"
AUTH=$("$BIN/examples/device_auth_rate" 3 32 | grep -oE '^device_auth_per_s=[0-9]+' | cut -d= -f2)
echo "device_auth_per_s=$AUTH"

SAT=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$DATA/scan.txt")
# Half the saturation rate: connections x 1000 / (PACE_MS + about 1 ms of answer).
PACED_CONNS=$(awk -v p="$PACE_MS" -v r="$SAT" 'BEGIN { c = int(r / 2 * (p + 1) / 1000 + 0.5); print (c < 1 ? 1 : c) }')
echo "== POST /v1/scans paced: $PACED_CONNS connections x 1 request / ${PACE_MS} ms (half of $SAT/s), $DUR"
PACE_MS=$PACE_MS wrk -t"$THREADS" -c"$PACED_CONNS" -d"$DUR" --latency -s bench/load_scan.lua \
  "http://127.0.0.1:$PORT" -- "$DATA/paced-bodies.txt" "$THREADS" | tee "$DATA/paced.txt"

echo "== gate counters"
curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -E '^gate_scans' | tee "$DATA/metrics.txt"

# The run's own checks: a failed run prints no figure.
val() { grep -oE "^$1=[0-9]+" "$2" | tail -1 | cut -d= -f2; }
bad=()
for f in scan paced image; do
  [[ "$(val server_errors "$DATA/$f.txt")" == 0 ]] || bad+=("$f: 5xx answers (or no count)")
  [[ "$(val not_200 "$DATA/$f.txt")" == 0 ]] || bad+=("$f: non-200 answers (or no count)")
  # wrk: "Socket errors: connect C, read R, write W, timeout T" (timeouts are slow answers, not errors)
  sock=$(awk -F'[ ,]+' '/Socket errors:/ {print $4 + $6 + $8}' "$DATA/$f.txt")
  [[ "${sock:-0}" == 0 ]] || bad+=("$f: $sock socket errors (connect/read/write)")
done
[[ -z "$(val pool_exhausted_after_s "$DATA/scan.txt")" ]] || bad+=("scan: the $N tokens ran out before $DUR ended (raise N)")
[[ -z "$(val pool_exhausted_after_s "$DATA/paced.txt")" ]] || bad+=("paced: the $PACED_N tokens ran out before $DUR ended (raise PACED_N)")
[[ -n "$AUTH" && "$AUTH" -gt 0 ]] || bad+=("device_auth_rate printed no rate")
[[ "$(val replayed "$DATA/image.txt")" == 0 ]] || bad+=("image: scans answered token.replayed")
[[ "$(val other_red "$DATA/image.txt")" == 0 ]] || bad+=("image: RED for a reason other than random selection (an unreadable frame?)")
[[ "$(val answered_200 "$DATA/image.txt")" -gt 0 ]] || bad+=("image: no answer")
replays=$(awk '/^gate_scans_replayed_total/ {print $NF}' "$DATA/metrics.txt")
[[ "${replays:-x}" == 0 ]] || bad+=("gate: ${replays:-unknown} scans refused as replayed (each token was sent once)")
if ((${#bad[@]})); then
  printf 'gate_scan: FAILED, no figure: %s\n' "${bad[@]}"
  exit 1
fi

RPS=$(awk '/^Requests\/sec/ {print $2}' "$DATA/scan.txt")
P50=$(awk '$1 == "50%" {print $2; exit}' "$DATA/scan.txt")
P99=$(awk '$1 == "99%" {print $2; exit}' "$DATA/scan.txt")
IMG50=$(awk '$1 == "50%" {print $2; exit}' "$DATA/image.txt")
IMG99=$(awk '$1 == "99%" {print $2; exit}' "$DATA/image.txt")
RATIO=$(awk -v a="$RPS" -v b="$VERIFY" 'BEGIN { printf "%.1f", 100 * a / b }')
AUTH_PCT=$(awk -v a="$RPS" -v b="$AUTH" 'BEGIN { printf "%.2f", 100 * a / b }')
PACED_RPS=$(awk '/^Requests\/sec/ {print $2}' "$DATA/paced.txt")
PACED50=$(awk '$1 == "50%" {print $2; exit}' "$DATA/paced.txt")
PACED99=$(awk '$1 == "99%" {print $2; exit}' "$DATA/paced.txt")
echo
echo "verify_rate_per_s=$VERIFY scans_per_s=$RPS p50=$P50 p99=$P99 ratio_pct=$RATIO image_p50=$IMG50 image_p99=$IMG99"
echo "device_auth_per_s=$AUTH auth_share_of_scan_pct=$AUTH_PCT paced_scans_per_s=$PACED_RPS paced_p50=$PACED50 paced_p99=$PACED99 pace_ms=$PACE_MS paced_conns=$PACED_CONNS"
