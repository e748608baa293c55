#!/usr/bin/env python3
"""Crash-safety harness (RELIABILITY.md item 5).

Starts `egate run mobile-api` on a fresh data directory, drives declarations from
several client threads, SIGKILLs the process at a random moment, restarts it, and
checks that every declaration the client saw acknowledged (201 with its id) is there,
through the API (GET with its edit token) and in SQLite, and that
`PRAGMA integrity_check` / `foreign_key_check` are clean. Repeats for N cycles on the
same data directory.

--control simulates a server that acknowledges before commit: the client counts a
request as acknowledged as soon as it is sent. The harness must then report lost
writes (exit status 0 only if it does), which shows it can catch a loss.

Only loopback traffic; every loop is bounded in count and time.
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def declaration(marker):
    today = time.strftime("%Y-%m-%d", time.gmtime())
    return {
        "passenger": {
            "surname": "CRASH", "given_names": "TEST", "nationality": "JPN",
            "birth_date": "1985-04-12", "sex": "F", "passport_number": "TK1234567",
            "passport_expiry": "2031-04-12",
        },
        "trip": {
            "flight": "NH212", "origin": "LHR", "arrival_date": today,
            "address_in_japan": "1-1 Marunouchi Chiyoda-ku Tokyo",
            "phone": "+81 90 1234 5678", "occupation": marker,
        },
        "party": {"aged_20_plus": 1, "aged_6_to_19": 0, "under_6": 0},
        "answers": {
            "prohibited": False, "over_allowance": False, "commercial": False,
            "for_others": False, "means_of_payment_over_limit": False,
            "precious_metal_over_1kg": False, "unaccompanied_packages": 0,
        },
        "items": [],
    }


class Server:
    def __init__(self, binary, data_dir, port):
        self.binary, self.data_dir, self.port = binary, data_dir, port
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.update({
            "EGATE_DATA_DIR": self.data_dir,
            "EGATE_MOBILE_API_ADDR": f"127.0.0.1:{self.port}",
            "EGATE_RATE_LIMIT_PER_MINUTE": "100000000",
            "RUST_LOG": "error",
        })
        self.proc = subprocess.Popen(
            [self.binary, "run", "mobile-api"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("mobile-api did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def writer(port, control, acked, lock, stop, tag):
    n = 0
    conn = None
    while not stop.is_set():
        n += 1
        marker = f"crash {tag} {n}"
        body = json.dumps(declaration(marker))
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/v1/declarations", body,
                         {"Content-Type": "application/json"})
            if control:
                # The flaw simulated: acknowledged once sent, before any commit.
                with lock:
                    acked[marker] = None
            resp = conn.getresponse()
            data = resp.read()
            if resp.status == 201 and not control:
                v = json.loads(data)
                with lock:
                    acked[marker] = (v["id"], v["edit_token"])
        except (OSError, http.client.HTTPException):
            conn = None
            if stop.is_set():
                return
            time.sleep(0.01)


def check(db_path, port, acked, sample):
    """Returns (missing markers, integrity, fk problems, api misses)."""
    con = sqlite3.connect(db_path)
    present = set()
    for (body,) in con.execute("SELECT body FROM declarations WHERE body IS NOT NULL"):
        try:
            present.add(json.loads(body)["trip"]["occupation"])
        except (ValueError, KeyError, TypeError):
            pass
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    fk = con.execute("PRAGMA foreign_key_check").fetchall()
    con.close()
    if acked and not present and not any(v is None for v in acked.values()):
        raise SystemExit("no declaration found in SQLite: the harness cannot read the store")
    missing = [m for m in acked if m not in present]
    api_miss = 0
    checked = [(m, v) for m, v in acked.items() if v is not None]
    for m, (id_, token) in random.sample(checked, min(sample, len(checked))):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", f"/v1/declarations/{id_}", headers={"Authorization": f"Bearer {token}"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            api_miss += 1
    return missing, integrity, fk, api_miss, len(present)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/debug/egate")
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--max-run", type=float, default=1.0, help="seconds of load before the kill, at most")
    ap.add_argument("--control", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    data_dir = tempfile.mkdtemp(prefix="egate-crash-")
    db_path = os.path.join(data_dir, "mobile-api", "mobile-api.db")
    port = free_port()
    server = Server(args.binary, data_dir, port)
    acked_total, lost_total, bad_integrity, bad_fk, api_misses = 0, 0, 0, 0, 0
    started = time.time()
    try:
        for cycle in range(args.cycles):
            server.start()
            acked, lock, stop = {}, threading.Lock(), threading.Event()
            threads = [threading.Thread(target=writer, args=(port, args.control, acked, lock, stop, f"{cycle}-{w}"))
                       for w in range(args.writers)]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.05, args.max_run))
            server.kill()
            stop.set()
            for t in threads:
                t.join(timeout=10)
            server.start()
            missing, integrity, fk, api_miss, stored = check(db_path, port, acked, sample=5)
            if stored == 0 and cycle > 0:
                raise SystemExit("no declaration found in SQLite: the harness cannot read the store")
            server.stop()
            acked_total += len(acked)
            lost_total += len(missing)
            bad_integrity += integrity != "ok"
            bad_fk += len(fk) > 0
            api_misses += api_miss
            if missing or integrity != "ok" or fk or api_miss:
                print(f"cycle {cycle}: acked {len(acked)}, LOST {len(missing)} {missing[:3]}, "
                      f"integrity {integrity}, fk {len(fk)}, api misses {api_miss}")
    finally:
        server.stop()
    mode = "control (ack before commit)" if args.control else "normal (ack after commit)"
    print(f"RELIABILITY item5: {mode}: {args.cycles} SIGKILL cycles, {args.writers} writers, seed {seed}: "
          f"{acked_total} acknowledged, {lost_total} lost, integrity failures {bad_integrity}, "
          f"foreign-key failures {bad_fk}, API misses {api_misses}, {time.time() - started:.0f}s")
    if args.control:
        # The harness must catch the simulated loss.
        sys.exit(0 if lost_total > 0 else 1)
    sys.exit(0 if (lost_total == 0 and bad_integrity == 0 and bad_fk == 0 and api_misses == 0) else 1)


if __name__ == "__main__":
    main()
