#!/usr/bin/env python3
"""Checks around the load-with-contention run of bench/reliability.sh (RELIABILITY.md item 7).

    load_check.py sample  GATE_URL SAMPLES            # scan each body; all must be GREEN
                                                      # (or RED for random selection only)
    load_check.py metrics GATE_URL                    # the gate's scan counters, as JSON
    load_check.py watch   GATE_URL OUT SECS DATA_DIR  # every 2 s: use_reports, WAL sizes, load
    load_check.py drain   GATE_URL MAX_SECS           # wait until no use report is pending
    load_check.py report  GATE_URL MOBILE_URL DATA_DIR BASELINE WATCH

`report` prints `RELIABILITY item7:` lines (scan decisions since BASELINE, a JSON file
written by `metrics`; RED scans by reason from the gate's database; use reports sent,
pending, failed; the issuer's revocation feed entries with reason `used`; 5xx answered
by mobile-api by route; WAL sizes) and exits 1 if a check fails:
  - no scan decided during the load (nothing checked);
  - a RED scan for any reason other than random selection (`selection.*`): a binding
    mismatch, an expired token, a token refused as replayed on its first scan...
    (a replay of a token the load had already sent is the harness's doing: counted and
    printed, not failed; bench/load_scan.lua never sends a body twice);
  - a token accepted (not refused as replayed) twice;
  - a use report still pending after the drain, or a failed report request;
  - the feed does not hold exactly one `used` entry per token the gate accepted once;
  - any 5xx answered by mobile-api (declarations and use reports alike).
Only the standard library; loopback only; every loop is bounded.
"""
import json
import os
import sqlite3
import sys
import time
import urllib.request


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def post_json(url, body, timeout=30):
    headers = {"Content-Type": "application/json"}
    if os.environ.get("GATE_KEY"):
        # The scanning device's key (bench/reliability.sh registers one).
        headers["Authorization"] = "Bearer " + os.environ["GATE_KEY"]
    req = urllib.request.Request(url, data=body.encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def gate_counters(gate):
    out = {}
    for line in get(gate + "/metrics").splitlines():
        if line.startswith("gate_scans_total{decision=\"green\"}"):
            out["green"] = int(line.split()[-1])
        elif line.startswith("gate_scans_total{decision=\"red\"}"):
            out["red"] = int(line.split()[-1])
        elif line.startswith("gate_scans_replayed_total"):
            out["replayed"] = int(line.split()[-1])
        elif line.startswith("gate_scans_selected_total"):
            out["selected"] = int(line.split()[-1])
    return out


def use_reports(gate):
    return json.loads(get(gate + "/healthz"))["use_reports"]


def cmd_sample(gate, samples):
    bad = 0
    for line in open(samples):
        line = line.strip()
        if not line:
            continue
        r = post_json(gate + "/v1/scans", line)
        # Passenger-facing codes only: a RED without one is a risk selection.
        codes = [x["code"] for x in r["reasons"]]
        ok = r["decision"] == "green" or not codes
        print("sample scan: %s %s" % (r["decision"], codes or ""))
        bad += not ok
    return 1 if bad else 0


WALS = ("mobile-api/mobile-api.db-wal", "gate/gate.db-wal")


def wal_sizes(data):
    out = []
    for p in WALS:
        try:
            out.append(os.path.getsize(os.path.join(data, p)))
        except OSError:
            out.append(0)
    return out


def cmd_watch(gate, out, secs, data):
    """Every 2 s while the load runs: the use-report backlog (the reporting lag), the WAL
    sizes of both databases and the machine's load average."""
    peak, samples, loads = 0, [], []
    t0 = time.time()
    end = t0 + secs
    while time.time() < end:
        try:
            loads.append(float(open("/proc/loadavg").read().split()[0]))
        except OSError:
            pass
        try:
            u = use_reports(gate)
            samples.append((round(time.time() - t0, 1), u["pending"], u["sent"], *wal_sizes(data)))
            peak = max(peak, u["pending"] or 0)
        except Exception as e:  # noqa: BLE001 (a missed sample is not a failure)
            samples.append((round(time.time(), 1), None, repr(e)))
        time.sleep(2)
    json.dump({"start": t0, "peak_pending": peak, "samples": samples, "loadavg": loads}, open(out, "w"))
    return 0


def cmd_drain(gate, max_secs):
    t0 = time.time()
    while time.time() - t0 < max_secs:
        u = use_reports(gate)
        if u["pending"] == 0:
            print("use reports drained %.1f s after the load: %s" % (time.time() - t0, u))
            return 0
        time.sleep(0.5)
    print("use reports NOT drained %d s after the load: %s" % (max_secs, use_reports(gate)))
    return 1


def feed_used(mobile):
    """Entries with reason `used` in the issuer's revocation feed (paged by `since`)."""
    since, used, total = 0, 0, 0
    for _ in range(100_000):
        page = json.loads(get("%s/v1/revocations?since=%d" % (mobile, since)))
        revs = page["revocations"]
        if not revs:
            break
        total += len(revs)
        used += sum(1 for r in revs if r["reason"] == "used")
        since = page["next_since"]
    return used, total


def mobile_5xx(mobile):
    """5xx answers of mobile-api by route, and the use reports it answered 200."""
    fivexx, uses_ok = {}, 0
    for line in get(mobile + "/metrics").splitlines():
        if not line.startswith("mobile_api_http_requests_total{"):
            continue
        labels = dict(kv.split("=", 1) for kv in line[line.index("{") + 1:line.index("}")].split(","))
        labels = {k: v.strip('"') for k, v in labels.items()}
        n = int(float(line.split()[-1]))
        if labels["status"].startswith("5"):
            key = "%s %s %s" % (labels["method"], labels["route"], labels["status"])
            fivexx[key] = fivexx.get(key, 0) + n
        if labels["route"] == "/v1/internal/uses" and labels["status"] == "200":
            uses_ok += n
    return fivexx, uses_ok


def replay_kinds(rows):
    """(replays of a token scanned before, replays of a token never scanned before, tokens
    accepted twice) over (cti, reasons JSON) scan rows in the order the gate stored them."""
    scanned, accepted = set(), set()
    self_replays = false_replays = accepted_twice = 0
    for cti, reasons in rows:
        if "token.replayed" in json.loads(reasons):
            if cti in scanned:
                self_replays += 1
            else:
                false_replays += 1
        else:
            if cti in accepted:
                accepted_twice += 1
            accepted.add(cti)
        scanned.add(cti)
    return self_replays, false_replays, accepted_twice


def cmd_report(gate, mobile, data, baseline, watch):
    fails = []
    base = json.load(open(baseline))
    now = gate_counters(gate)
    d = {k: now[k] - base.get(k, 0) for k in now if k != "at"}
    scans = d["green"] + d["red"]
    print("RELIABILITY item7: gate decisions during the load: %d scans, %d GREEN, %d RED "
          "(%d random selection, %d replayed)" % (scans, d["green"], d["red"], d["selected"], d["replayed"]))
    # RED scans by reason, from the gate's own records (read-only).
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "gate", "gate.db"), uri=True, timeout=30)
    by_reason = db.execute(
        "SELECT reasons, count(*) FROM scans WHERE decision = 'red' GROUP BY reasons ORDER BY 2 DESC").fetchall()
    unexpected = sum(n for reasons, n in by_reason
                     if not all(c.startswith("selection.") for c in json.loads(reasons)))
    # Replays, told apart by whether the load itself had sent that token before (a pool
    # that was cycled: the harness's doing, not the gate's) or not (a token refused as
    # replayed on its first scan: a product failure). And tokens accepted twice (a
    # one-time-use breach). bench/load_scan.lua never sends a body twice, so the first
    # kind should not occur either; it is counted, not failed.
    self_replays, false_replays, accepted_twice = replay_kinds(
        db.execute("SELECT cti, reasons FROM scans WHERE cti IS NOT NULL ORDER BY rowid"))
    accepted = db.execute("SELECT count(*) FROM used_tokens WHERE issuer = 'mobile-api'").fetchone()[0]
    w = json.load(open(watch)) if os.path.exists(watch) else {"peak_pending": None}
    if "start" in w and "at" in base:
        # Server-side scan time (decide + store, as the gate records it in each scan row)
        # by 10 s window, next to the WAL sizes sampled by `watch`: does it drift?
        rows = db.execute("SELECT scanned_at, duration_us FROM scans WHERE scanned_at >= ?",
                          (int(base["at"]),)).fetchall()
        print("RELIABILITY item7: timeline (s from start: scans, server-side scan time p50/p99 ms, "
              "WAL mobile-api/gate MB at the window's end):")
        t0 = int(base["at"])
        for k in range(0, 1 + max((r[0] - t0 for r in rows), default=0), 10):
            win = sorted(d for t, d in rows if k <= t - t0 < k + 10)
            if not win:
                continue
            wal = [x for x in w["samples"] if x[0] <= k + 10 and len(x) == 5]
            wal = "%.0f/%.0f" % (wal[-1][3] / 1e6, wal[-1][4] / 1e6) if wal else "?"
            print("  %3d-%3d s: %6d scans, %.2f / %.2f ms, WAL %s MB" % (
                k, k + 10, len(win), win[len(win) // 2] / 1e3, win[min(len(win) - 1, len(win) * 99 // 100)] / 1e3, wal))
    db.close()
    print("RELIABILITY item7: RED scans by reasons (whole run, samples included): %s; unexpected RED: %d"
          % (", ".join("%s %d" % (r, n) for r, n in by_reason) or "none", unexpected))
    print("RELIABILITY item7: replays: %d of tokens the load had already sent (not a product failure; "
          "the pool is never cycled, so expected 0), %d of tokens never scanned before (product failure); "
          "tokens accepted twice: %d" % (self_replays, false_replays, accepted_twice))
    if scans <= 0:
        fails.append("no scan was decided during the load: nothing was checked")
    unexpected_other = unexpected - self_replays
    if unexpected_other > 0 or false_replays or accepted_twice:
        fails.append("unexpected RED %d (other than random selection and replays the load made itself); "
                     "first scans refused as replayed %d; tokens accepted twice %d"
                     % (unexpected_other, false_replays, accepted_twice))
    u = use_reports(gate)
    used, total = feed_used(mobile)
    print("RELIABILITY item7: use reports: %d sent, %d pending, %d failed requests (peak pending during the "
          "load %s); mobile-api feed: %d `used` entries (%d in all) for %d tokens the gate accepted once"
          % (u["sent"], u["pending"], u["failures"], w["peak_pending"], used, total, accepted))
    if u["pending"] or u["failures"]:
        fails.append("use reports pending %s / failed %s" % (u["pending"], u["failures"]))
    if used != accepted:
        fails.append("feed has %d used entries for %d accepted tokens" % (used, accepted))
    fivexx, uses_ok = mobile_5xx(mobile)
    print("RELIABILITY item7: mobile-api 5xx over the whole run (issuance, load, reports): %s; "
          "use-report requests answered 200: %d" % (sum(fivexx.values()), uses_ok))
    for k, n in fivexx.items():
        print("  5xx %s: %d" % (k, n))
    if fivexx:
        fails.append("mobile-api 5xx")
    wal = []
    for p in ("mobile-api/mobile-api.db", "gate/gate.db"):
        f = os.path.join(data, p)
        if os.path.exists(f):
            wal.append("%s %.0f MB (WAL %.0f MB)" % (
                p, os.path.getsize(f) / 1e6,
                os.path.getsize(f + "-wal") / 1e6 if os.path.exists(f + "-wal") else 0))
    print("RELIABILITY item7: database files after the run: %s" % "; ".join(wal))
    loads = w.get("loadavg") or []
    if loads:
        print("RELIABILITY item7: machine: %d cores, 1-min load average during the load %.1f to %.1f "
              "(the services, wrk and whatever else runs here)" % (os.cpu_count(), min(loads), max(loads)))
    if fails:
        print("RELIABILITY item7: FAILED: %s" % "; ".join(fails))
        return 1
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "sample" and len(argv) == 4:
        return cmd_sample(argv[2], argv[3])
    if cmd == "metrics" and len(argv) == 3:
        print(json.dumps(dict(gate_counters(argv[2]), at=time.time())))
        return 0
    if cmd == "watch" and len(argv) == 6:
        return cmd_watch(argv[2], argv[3], float(argv[4]), argv[5])
    if cmd == "drain" and len(argv) == 4:
        return cmd_drain(argv[2], float(argv[3]))
    if cmd == "report" and len(argv) == 7:
        return cmd_report(*argv[2:7])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
