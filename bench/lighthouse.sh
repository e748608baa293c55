#!/usr/bin/env bash
# Phone app benchmark (BENCHMARKS.md, "Phone app"): Lighthouse (mobile profile: its
# default Moto G Power emulation, simulated slow 4G and 4x CPU slowdown) against Debian's
# Chromium on the wizard's start page, its review page and its QR page (a session walked
# with curl, its cookie handed to Lighthouse with --extra-headers) and on /my; the
# performance and accessibility scores and the bytes each page transferred on a first
# load (Lighthouse's total-byte-weight: HTML, CSS, JS, images, compressed as served).
# Then the time to the first QR for a returning passenger offline (bench/offline_qr.mjs:
# /my opened with the server stopped, the shell from the service worker, the QR from the
# device's storage), median of RUNS.
# Not part of the tests (a benchmark measures speed; tests never do).
#
#   bench/lighthouse.sh          # about 3 minutes on the 2-core VM (debug build of mobile-api)
#
# Needs the npm tools pinned in tests/browser-tools (scripts/test.sh installs them into
# target/node), Chromium (/usr/bin/chromium), curl and python3. Missing: it says so and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18090}
INTERNAL_PORT=${INTERNAL_PORT:-18091}
RUNS=${RUNS:-10}
BASE="http://127.0.0.1:$PORT"
OUT=target/artifacts/lighthouse
LIGHTHOUSE=${EGATE_LIGHTHOUSE:-$PWD/target/node/node_modules/.bin/lighthouse}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
CHROME_FLAGS="--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync"

fail() { echo "lighthouse.sh: $*" >&2; exit 1; }
[ -x "$LIGHTHOUSE" ] || fail "Lighthouse is missing at $LIGHTHOUSE: run bash scripts/test.sh (it installs tests/browser-tools into target/node), or: cp tests/browser-tools/package*.json target/node/ && npm ci --prefix target/node --ignore-scripts"
[ -x "$CHROME_PATH" ] || fail "Chromium is missing at $CHROME_PATH: apt-get install chromium"
command -v curl >/dev/null || fail "curl is missing"
command -v python3 >/dev/null || fail "python3 is missing"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "browser: $("$CHROME_PATH" --version 2>/dev/null), Lighthouse $("$LIGHTHOUSE" --version)"
echo "command: RUNS=$RUNS bench/lighthouse.sh"
mkdir -p "$OUT"
cargo build -q -p mobile-api

DATA=$(mktemp -d)
JAR="$DATA/cookies.txt"
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$DATA"
}
trap cleanup EXIT

start_server() {
    EGATE_DATA_DIR="$DATA/data" EGATE_MOBILE_API_ADDR="127.0.0.1:$PORT" \
        EGATE_MOBILE_API_INTERNAL_ADDR="127.0.0.1:$INTERNAL_PORT" EGATE_LOG=warn \
        target/debug/mobile-api >"$DATA/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 300); do
        curl -sf "$BASE/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$PID" 2>/dev/null || fail "mobile-api did not start: $(tail -5 "$DATA/server.log")"
        sleep 0.1
    done
    fail "mobile-api did not answer /healthz"
}
start_server

# --- A wizard session walked with curl: start (English), passport (MRZ), trip, party,
# questions, items, review. Each POST carries the CSRF field of the page before it.
LAST="$DATA/page.html"
csrf() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$LAST" | head -1; }
get() { curl -sf -b "$JAR" -c "$JAR" -o "$LAST" "$BASE$1" || fail "GET $1"; }
# post PATH FIELD=VALUE...: POST the form (with the csrf of the last page), follow the 303.
post() {
    local path=$1; shift
    local args=(--data-urlencode "csrf=$(csrf)")
    for kv in "$@"; do args+=(--data-urlencode "$kv"); done
    curl -sf -L -b "$JAR" -c "$JAR" -o "$LAST" -H "Origin: $BASE" "${args[@]}" "$BASE$path" || fail "POST $path"
}
MRZ=$(python3 - <<'EOF'
import datetime
def check(s):
    w = [7, 3, 1]
    v = lambda c: int(c) if c.isdigit() else (0 if c == "<" else ord(c) - 55)
    return str(sum(v(c) * w[i % 3] for i, c in enumerate(s)) % 10)
today = datetime.date.today()
expiry = today.replace(year=today.year + 5, day=min(today.day, 28)).strftime("%y%m%d")
number, birth = "TK1234567", "850412"
l1 = ("P<JPNTANAKA<<HANAKO").ljust(44, "<")
body = number + check(number) + "JPN" + birth + check(birth) + "F" + expiry + check(expiry)
opt = "<" * 14
l2 = body + opt + check(opt)
l2 += check(number + check(number) + birth + check(birth) + expiry + check(expiry) + opt + check(opt))
print(l1 + "\n" + l2)
EOF
)
walk() {
    rm -f "$JAR"
    get /
    post /start lang=en
    post /passport "mrz=$MRZ" action=read
    post /passport "mrz=$MRZ" action=next
    local today
    today=$(sed -n 's/.*name="arrival_date" type="date" max="\([0-9-]*\)".*/\1/p' "$LAST" | head -1)
    [ -n "$today" ] || today=$(TZ=Asia/Tokyo date +%F)
    post /trip flight=NH212 origin=LHR "arrival_date=$today" \
        "address_in_japan=Hotel Sakura 1-2-3 Ginza Chuo-ku Tokyo" "phone=+81 90 1234 5678" \
        occupation=Engineer action=next
    post /party aged_20_plus=1 aged_6_to_19=0 under_6=0 action=next
    post /questions q-prohibited=no q-over-allowance=no q-commercial=no q-for-others=no \
        q-means-of-payment=no q-precious-metal=no q-unaccompanied=no action=next
    post /items action=add
    post /items item-0-category=whisky item-0-quantity=1 item-0-size=700 item-0-amount=40 \
        item-0-currency=USD action=next
    grep -q 'class="review' "$LAST" || fail "the walk did not reach the review page"
}
cookie_header() {
    python3 -c 'import json,sys
pairs=[l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip() and (not l.startswith("#") or l.startswith("#HttpOnly_"))]
print(json.dumps({"Cookie": "; ".join(p[5]+"="+p[6] for p in pairs if len(p) >= 7)}))' "$JAR"
}

# lighthouse NAME PATH [HEADERS-JSON]: one run, its scores and transfer size.
lighthouse() {
    local name=$1 path=$2 headers=${3:-}
    local extra=()
    [ -n "$headers" ] && extra=(--extra-headers "$headers")
    "$LIGHTHOUSE" "$BASE$path" --quiet --form-factor=mobile \
        --only-categories=performance,accessibility --output=json \
        --output-path="$OUT/$name.json" --chrome-flags="$CHROME_FLAGS" "${extra[@]}" \
        || fail "Lighthouse failed on $path"
    python3 - "$OUT/$name.json" "$name" "$path" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("runtimeError"):
    sys.exit(f"lighthouse.sh: {sys.argv[3]}: {r['runtimeError']}")
final = r.get("finalDisplayedUrl") or r.get("finalUrl")
perf = r["categories"]["performance"]["score"]
a11y = r["categories"]["accessibility"]["score"]
a = r["audits"]
weight = a["total-byte-weight"]["numericValue"]
fcp = a["first-contentful-paint"]["numericValue"]
lcp = a["largest-contentful-paint"]["numericValue"]
print(f"| {sys.argv[2]} | `{sys.argv[3]}` | {round(perf * 100)} | {round(a11y * 100)} | "
      f"{weight / 1024:.1f} KB | {fcp / 1000:.1f} s | {lcp / 1000:.1f} s | {final.split('127.0.0.1')[-1]} |")
EOF
}

echo
echo "| page | path | performance | accessibility | transferred (first load) | FCP | LCP | final URL |"
echo "|---|---|---|---|---|---|---|---|"
lighthouse start /
walk
lighthouse review /review "$(cookie_header)"
walk
post /review action=confirm
grep -q 'id="issued-declaration"' "$LAST" || fail "the walk did not reach the QR page"
lighthouse qr /result "$(cookie_header)"
lighthouse my /my

# --- Time to the first QR for a returning passenger offline.
python3 - "$LAST" "$DATA/decl.json" <<'EOF'
import html, json, sys
page = open(sys.argv[1]).read()
block = page.split('id="issued-declaration">', 1)[1].split("</script>", 1)[0]
json.dump(json.loads(block), open(sys.argv[2], "w"))
EOF
echo
coproc OFFLINE { node bench/offline_qr.mjs "$BASE" "$DATA/decl.json" "$RUNS" 2>&1; }
read -r line <&"${OFFLINE[0]}" || fail "offline_qr.mjs ended early"
[ "$line" = READY ] || fail "offline_qr.mjs: $line"
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
curl -s -o /dev/null --max-time 2 "$BASE/healthz" && fail "the server still answers"
echo go >&"${OFFLINE[1]}"
read -r result <&"${OFFLINE[0]}" || fail "offline_qr.mjs gave no result"
echo "offline, returning passenger, /my from the service worker (360x640, DPR 2, no throttling): $result"
