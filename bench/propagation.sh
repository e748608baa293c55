#!/usr/bin/env bash
# Propagation benchmark: one mobile-api and four gate-service instances (in one process,
# port 0, tests/examples/propagation_bench.rs) under a steady stream of amendments
# (AMEND_PER_SEC, default 5) and first-use scans (SCANS_PER_SEC, default 2) for SECS
# (default 30) per mode. Per (amendment, gate): time from the amendment's acknowledgement
# to the gate having stored the feed entry (from then on its scans refuse the old token
# as `token.superseded`); per (use, other gate): from the scan's answer to the same
# (`token.replayed`). First with the gates following the feed by long polling (wait
# 20 s, periodic refresh 3600 s, so only the long poll can deliver), then, as the
# baseline of the same run, with long polling off and a periodic pull every
# FALLBACK_SECS (default 5). Prints p50/p90/p99/max and counts; target p99 <= 2 s.
# Not part of the tests (a benchmark measures speed; tests never do).
#
#   bench/propagation.sh            # about 80 s on the 2-core VM
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "command: SECS=${SECS:-30} AMEND_PER_SEC=${AMEND_PER_SEC:-5} SCANS_PER_SEC=${SCANS_PER_SEC:-2} FALLBACK_SECS=${FALLBACK_SECS:-5} bench/propagation.sh"
cargo build -q -p tests --example propagation_bench
EGATE_LOG=${EGATE_LOG:-warn} target/debug/examples/propagation_bench
