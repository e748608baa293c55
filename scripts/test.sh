#!/usr/bin/env bash
# The test command: `bash scripts/test.sh [cargo test args...]`.
#
# Installs what the tests need when it is missing (Debian packages, through apt-get: as
# root, or with sudo otherwise), then runs the whole suite: `cargo test --workspace`, with
# any extra arguments passed through (`bash scripts/test.sh -p kiosk --test browser`).
# When something is missing and cannot be installed it says what and why, and fails:
# the tests never skip for want of a tool.
#
# EGATE_TEST_NO_INSTALL=1 checks without installing (fails with the list of what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test.sh: $*" >&2; }

# ---------------------------------------------------------------------------------------
# What the tests need. One row per need: a name, the check that it is present (a shell
# command, true when it is), the Debian packages that provide it, and why it is needed.
# To add a need (a database server, a tool), add a row here; to start a service the tests
# expect running, add it to `start_services` below.
# ---------------------------------------------------------------------------------------
NEEDS=(
    # name | check | packages | why
    "chromium|test -x /usr/bin/chromium|chromium|the real-browser tests of the kiosk and the officer console"
    "chromedriver|test -x /usr/bin/chromedriver|chromium-driver|the WebDriver those browser tests drive Chromium through"
    "CJK fonts|test -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc|fonts-noto-cjk|the kiosk's Japanese, Chinese and Korean pages in browser screenshots"
    "wrk|command -v wrk|wrk|the load with contention of bench/reliability.sh, which CI runs after the tests"
    "python3 venv|python3 -c 'import ensurepip, venv'|python3 python3-venv|a virtual environment under target/ for the Python tools below"
    "openapi-spec-validator|test -x target/venv/bin/openapi-spec-validator|pip:openapi-spec-validator|validating both services' OpenAPI documents (tests/tests/journeys/openapi.rs)"
    "Node.js and npm|command -v node && command -v npm|nodejs npm|installing the npm tools below"
    "axe-core|test -f target/node/node_modules/axe-core/axe.min.js && cmp -s tests/browser-tools/package-lock.json target/node/package-lock.json|npm:axe-core|the accessibility checks (WCAG 2.2 AA) of the browser tests of the phone app and the kiosk (tests/tests/journeys/)"
    "lighthouse|test -x target/node/node_modules/.bin/lighthouse && cmp -s tests/browser-tools/package-lock.json target/node/package-lock.json|npm:lighthouse|bench/lighthouse.sh (performance and accessibility scores, BENCHMARKS.md)"
    "PostgreSQL server|ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl|postgresql|the issuer store's PostgreSQL backend: its tests run against a throw-away cluster started below (docs/storage.md)"
)

# Python tools (packages `pip:<name>`) go into this virtual environment (pip from PyPI),
# never the system's; the tests find them through the variables exported below.
VENV=target/venv
export EGATE_OPENAPI_SPEC_VALIDATOR="$PWD/$VENV/bin/openapi-spec-validator"

# npm tools (packages `npm:<name>`) go into this directory with the machine's npm, at the
# versions pinned by tests/browser-tools/package-lock.json (`npm ci`: exactly the lock,
# install scripts off); a changed lock reinstalls them. The tests find them through the
# variables exported below.
NODE_DIR=target/node
NPM_LOCK_DIR=tests/browser-tools
export EGATE_AXE_CORE="$PWD/$NODE_DIR/node_modules/axe-core/axe.min.js"
export EGATE_LIGHTHOUSE="$PWD/$NODE_DIR/node_modules/.bin/lighthouse"

# Services the tests expect running, started after the installs and stopped when this
# script exits.
#
# PostgreSQL: a throw-away cluster for the issuer store's PostgreSQL tests: initdb into a
# fresh directory (a stale one from a killed run is removed first: nothing is reused),
# owned by the `postgres` user when run as root (the server refuses to run as root),
# listening on 127.0.0.1 only, port $EGATE_TEST_PG_PORT (55432) or the next free one (no
# Unix socket outside the cluster's directory), trust authentication for that one local
# address. The tests read
# EGATE_TEST_DATABASE_URL and make a database of their own in it; without it they fail.
PG_PORT="${EGATE_TEST_PG_PORT:-55432}"
PG_DIR=""
PG_RUN_AS=()
pg() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    "${PG_RUN_AS[@]}" "$bin/$1" "${@:2}"
}
# Stop the cluster in $1 (if it runs) and remove its directory.
remove_cluster() {
    if [ -f "$1/data/postmaster.pid" ]; then
        pg pg_ctl -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$1" "$1-initdb.log"
}
stop_postgres() {
    if [ -n "$PG_DIR" ]; then remove_cluster "$PG_DIR" && rm -f "$PG_DIR.owner"; fi
}
# One cluster per run, under /tmp (the server runs as `postgres`, which must reach its
# directory; a checkout's parent directories may be closed to other users), named by its
# port and marked with this script's process id. A directory whose marking process has
# ended is a stale one (a run killed before its exit trap): removed. One whose process
# still runs belongs to a concurrent run (another engineer's, on a shared machine): left
# alone, and the next port is tried, as when something else holds the port.
start_postgres() {
    if [ "$(id -u)" -eq 0 ]; then PG_RUN_AS=(runuser -u postgres --); fi
    trap stop_postgres EXIT
    local port dir owner
    for port in $(seq "$PG_PORT" $((PG_PORT + 9))); do
        dir="/tmp/egate-test-postgres-$port"
        owner=$(cat "$dir.owner" 2>/dev/null || true)
        if [ -n "$owner" ] && [ "$owner" != "$$" ] && kill -0 "$owner" 2>/dev/null; then
            continue
        fi
        remove_cluster "$dir"
        echo "$$" >"$dir.owner"
        PG_DIR="$dir"
        mkdir -p "$dir"
        if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
        chmod 700 "$dir"
        pg initdb -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir-initdb.log" 2>&1 ||
            { say "initdb failed:"; cat "$dir-initdb.log" >&2; return 1; }
        if pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=300 -c fsync=on" >/dev/null; then
            export EGATE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
            say "PostgreSQL test cluster on 127.0.0.1:$port ($dir, stopped at exit)"
            return 0
        fi
        say "PostgreSQL did not start on 127.0.0.1:$port (port in use?); trying the next one"
        remove_cluster "$dir"
        rm -f "$dir.owner"
        PG_DIR=""
    done
    say "no PostgreSQL test cluster could start on ports $PG_PORT to $((PG_PORT + 9))"
    return 1
}

start_services() {
    start_postgres
}

# ---------------------------------------------------------------------------------------

missing_names=()
missing_packages=()
missing_pip=()
missing_npm=()
check_needs() {
    missing_names=()
    missing_packages=()
    missing_pip=()
    missing_npm=()
    local row name check packages why
    for row in "${NEEDS[@]}"; do
        IFS='|' read -r name check packages why <<<"$row"
        if ! bash -c "$check" >/dev/null 2>&1; then
            missing_names+=("$name ($why)")
            if [[ $packages == pip:* ]]; then
                missing_pip+=("${packages#pip:}")
            elif [[ $packages == npm:* ]]; then
                missing_npm+=("${packages#npm:}")
            else
                # shellcheck disable=SC2206 # a row may list several packages
                missing_packages+=($packages)
            fi
        fi
    done
}

print_missing() {
    local m
    for m in "${missing_names[@]}"; do say "  missing: $m"; done
}

# Runs its arguments as root: directly when root, through sudo otherwise (non-interactive
# when there is no terminal to ask for a password on). Fails when neither is possible.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
    else
        say "not root and sudo is not installed: cannot run: $*"
        return 1
    fi
}

install_missing() {
    say "installing: ${missing_packages[*]} ${missing_pip[*]} ${missing_npm[*]}"
    print_missing
    if [ "${#missing_packages[@]}" -gt 0 ]; then install_apt || return 1; fi
    if [ "${#missing_pip[@]}" -gt 0 ]; then install_pip || return 1; fi
    if [ "${#missing_npm[@]}" -gt 0 ]; then install_npm || return 1; fi
}

# npm tools into $NODE_DIR: every package of the committed lock, exactly as locked (the
# `npm:` names of the rows are what the tests use; the lock pins them and their
# dependencies). Needs Node.js and npm (the row above, installed first).
install_npm() {
    if ! command -v npm >/dev/null 2>&1; then
        say "npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)"
        return 1
    fi
    mkdir -p "$NODE_DIR" &&
        cp "$NPM_LOCK_DIR/package.json" "$NPM_LOCK_DIR/package-lock.json" "$NODE_DIR/" &&
        npm ci --prefix "$NODE_DIR" --ignore-scripts --no-audit --no-fund --loglevel=error
}

# Python tools into $VENV (created when missing), from PyPI through pip.
install_pip() {
    if [ ! -x "$VENV/bin/pip" ]; then
        python3 -m venv "$VENV" || { say "python3 -m venv $VENV failed"; return 1; }
    fi
    "$VENV/bin/pip" install -q "${missing_pip[@]}"
}

install_apt() {
    if ! command -v apt-get >/dev/null 2>&1; then
        say "apt-get not found: this script installs Debian packages; install the equivalent of"
        say "  ${missing_packages[*]}"
        say "by hand (paths as on Debian: /usr/bin/chromium, /usr/bin/chromedriver), then run it again."
        return 1
    fi
    as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq "${missing_packages[@]}" >/dev/null
}

if ! command -v cargo >/dev/null 2>&1; then
    say "cargo not found: install Rust first (https://rustup.rs), then run this again."
    exit 1
fi

check_needs
if [ "${#missing_names[@]}" -gt 0 ]; then
    if [ "${EGATE_TEST_NO_INSTALL:-}" = 1 ]; then
        say "EGATE_TEST_NO_INSTALL=1 and the tests need what is missing:"
        print_missing
        exit 1
    fi
    if ! install_missing; then
        say "FAILED to install ${missing_packages[*]} ${missing_pip[*]} ${missing_npm[*]} (as root: apt-get install ${missing_packages[*]}; python3 -m venv $VENV && $VENV/bin/pip install ${missing_pip[*]}; cp $NPM_LOCK_DIR/package*.json $NODE_DIR/ && npm ci --prefix $NODE_DIR)."
        say "The tests need them and would fail without them; not running the tests."
        exit 1
    fi
    check_needs
    if [ "${#missing_names[@]}" -gt 0 ]; then
        say "still missing after installing:"
        print_missing
        exit 1
    fi
fi

start_services

# Not `exec`: the exit trap stops the services started above.
cargo test --workspace "$@"
