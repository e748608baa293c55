#!/usr/bin/env bash
# Declarations per second and latency, mobile-api on SQLite against PostgreSQL, one and
# two instances, on this machine (BENCHMARKS.md, "Issuers on PostgreSQL").
#
#   bash bench/pg_compare.sh postgres://user@host:port/maintenance-db
#
# The URL names a PostgreSQL server where this script may create databases (it makes a
# fresh one per run: egate_bench_<time>). The release binary is built first. Each run:
# `egate run mobile-api` on a fresh data directory, wrk for 10 s with 16 connections
# posting declarations (bench/declare.lua: a party of 4, 5 items); two instances: two
# processes on one database, 8 connections each, at the same time. Every answer must be
# a 201, else no figure. Afterwards the database's size per declaration.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:?usage: bash bench/pg_compare.sh postgres://user@host:port/db}"
SECS="${BENCH_SECS:-10}"
cargo build --release -q -p egate
TODAY=$(TZ=Asia/Tokyo date +%F)
PIDS=()
DIRS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    for d in "${DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# start PORT DATA [DATABASE_URL]: one mobile-api process, waited for.
start() {
    local port=$1 data=$2 url=${3:-}
    EGATE_DATA_DIR=$data EGATE_MOBILE_API_ADDR=127.0.0.1:$port \
        EGATE_MOBILE_API_INTERNAL_ADDR=127.0.0.1:$((port + 1)) \
        EGATE_RATE_LIMIT_PER_MINUTE=100000000 EGATE_LOG=warn EGATE_DATABASE_URL=$url \
        target/release/egate run mobile-api >/dev/null 2>&1 &
    PIDS+=($!)
    for _ in $(seq 200); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "pg_compare: mobile-api on :$port did not start" >&2
    exit 1
}

# load PORT CONNS OUT: wrk against one instance; fails unless every answer was a 201.
load() {
    wrk -t1 -c"$2" -d"${SECS}s" --latency -s bench/declare.lua "http://127.0.0.1:$1" -- "$TODAY" >"$3"
    if grep -q 'Non-2xx' "$3" || ! grep -qE '^not_201=0$' "$3" || ! grep -qE '^created=[1-9]' "$3"; then
        cat "$3"
        echo "pg_compare: answers other than 201: no figure" >&2
        exit 1
    fi
}

figures() { # OUT LABEL
    local rps p50 p99 n
    rps=$(awk '/^Requests\/sec/ {print $2}' "$1")
    p50=$(awk '$1 == "50%" {print $2}' "$1")
    p99=$(awk '$1 == "99%" {print $2}' "$1")
    n=$(awk -F= '/^created=/ {print $2}' "$1")
    echo "$2: $n created, $rps declarations/s, p50 $p50, p99 $p99"
}

fresh_db() {
    local name="egate_bench_$(date +%s%N)"
    psql "$BASE" -qc "CREATE DATABASE $name" >/dev/null
    echo "${BASE%/*}/$name"
}

out=$(mktemp -d); DIRS+=("$out")
# SQLite, one instance.
d=$(mktemp -d); DIRS+=("$d")
start 18280 "$d"
load 18280 16 "$out/sqlite.txt"
figures "$out/sqlite.txt" "sqlite, 1 instance, 16 connections"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

# PostgreSQL, one instance.
url=$(fresh_db)
d=$(mktemp -d); DIRS+=("$d")
start 18290 "$d" "$url"
load 18290 16 "$out/pg1.txt"
figures "$out/pg1.txt" "postgres, 1 instance, 16 connections"

# PostgreSQL, two instances on the same database (the second on the same data
# directory: the same keys), 8 connections each at once.
start 18300 "$d" "$url"
load 18290 8 "$out/pg2a.txt" &
la=$!
load 18300 8 "$out/pg2b.txt"
wait $la
figures "$out/pg2a.txt" "postgres, 2 instances: instance A, 8 connections"
figures "$out/pg2b.txt" "postgres, 2 instances: instance B, 8 connections"
echo "postgres, 2 instances: $(awk '/^Requests\/sec/ {s += $2} END {printf "%.1f", s}' "$out/pg2a.txt" "$out/pg2b.txt") declarations/s together"
psql "$url" -tAc "SELECT 'postgres size: ' || count(*) || ' declarations, ' ||
    round((pg_total_relation_size('declarations') + pg_total_relation_size('tokens'))::numeric / count(*)) ||
    ' bytes each (declaration + token rows with their indexes)' FROM declarations"
