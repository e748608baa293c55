#!/usr/bin/env python3
"""Crash-safety harness (RELIABILITY.md item 5).

Runs the whole system as one process (`egate up`: mobile-api, gate-service with the
officer console, kiosk) on a fresh data directory and drives the three kinds of writes
at once from client threads:

- declarations: POST /v1/declarations on mobile-api (some over the allowance, so that
  their scans go RED);
- gate scans: POST /v1/scans with the QR text of a declaration acknowledged earlier and
  the passport's two MRZ lines (ICAO 9303 TD3, built here with their check digits);
  now and then an already-used QR again (a replay, RED);
- officer outcomes: officers signed in to /console open a waiting case (from a RED scan
  acknowledged earlier) and record an outcome; after some "duty assessed" outcomes, a
  payment.

It SIGKILLs the process at a random moment, restarts it on the same data directory and
checks that every write the client saw acknowledged, in this cycle or any earlier one,
is there, and that `PRAGMA integrity_check` / `foreign_key_check` are clean on every
database (mobile-api.db, gate.db, kiosk.db). The server is never stopped cleanly
between cycles: each start after the first recovers from a SIGKILL. In a tenth of the
cycles (--startup-kills) the restart itself is killed too, 0-0.1 s in (a restart takes
about 0.06 s: opening the databases and recovering their WAL, migrations, keys, the
gate's trust list), before the restart that is checked. At the end the system is
stopped cleanly and the databases checked once more.

What "acknowledged" and "present" mean, per kind (each write carries a unique marker):

- declaration: the 201 with its id; present = a row of `declarations` whose body has
  the marker as occupation, and (5 random ones per cycle) readable through the API
  with its edit token;
- scan: the 200 with its scan id (marker: the scan id of the answer; the gate id is the
  device credential's, `CRASH-GATE`, registered with `egate device add` before the first
  start and sent as `Authorization: Bearer`); present = the `scans` row with that id and
  that gate id, and its `used_tokens` row when the scan was the token's first use; 3
  random first-use tokens per cycle are scanned again after the restart and must come
  back RED `token.replayed`. In the control run (no answer awaited) a first use is
  marked by its declaration id: present = a `scans` row for that declaration;
- outcome: the 303 to the case page (marker: the note); present = the `outcomes` row
  for that case with that note, and the case closed; 3 random ones per cycle are read
  back on the console's case page;
- payment: the 303 to its receipt (marker: the reference); present = the `payments` row
  with that id and reference.

The officers' sessions are server-side (SQLite): each is signed in once and must still
be valid after every restart (a lost session is reported; the officer signs in again).

A normal run fails (exit 1) on any lost write, integrity or foreign-key failure, API
read-back miss, lost session or use report missing from the issuer's feed, and on any
unexpected answer during the load: a replay answered without `token.replayed` (GREEN: a
one-time-use breach), a first use refused as replayed, a 5xx, a declaration not 201, an
outcome or payment not redirected to its page, a case page refused. A request cut by the
SIGKILL raises a connection error, not an answer, so the kill itself cannot cause these.
`--inject ANSWER` counts one unexpected answer as if seen, to show that the verdict fails.

--control simulates a server that acknowledges before commit: the client counts every
write as acknowledged as soon as the request is sent. The harness must then report
lost writes (exit status 0 only if it does), which shows it can catch a loss.

Python 3 standard library only. Only loopback traffic; every HTTP call has a timeout
and every loop is bounded in count and time.
"""

import argparse
import base64
import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HTTP_TIMEOUT = 5.0
START_TIMEOUT = 60.0
OFFICER_PASSWORD = "crash-harness-password-1"
# The E-Gate device every scanner thread scans as (its key is sent as a bearer credential).
GATE_DEVICE = "CRASH-GATE"
# Most iterations of one client thread in one cycle (the load lasts about a second).
MAX_ITERATIONS = 100_000
BIRTH = "1985-04-12"
PASSPORT_EXPIRY = "2031-04-12"
RED_ITEMS = [{"category": "whisky", "quantity": 5, "volume_ml": 750,
              "value": {"amount": 300, "currency": "USD"}}]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------ MRZ (ICAO 9303 TD3)

def check_digit(field):
    """ICAO 9303 check digit: weights 7, 3, 1; A-Z = 10-35, '<' = 0."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            v = int(ch)
        elif "A" <= ch <= "Z":
            v = ord(ch) - 55
        else:
            v = 0
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def td3_mrz(surname, given_names, nationality, document_number, birth, sex, expiry):
    """The two 44-character lines of a passport's machine-readable zone."""
    name = f"{surname}<<{given_names}".replace(" ", "<")
    line1 = f"P<{nationality}{name}".ljust(44, "<")[:44]
    doc = document_number.ljust(9, "<")
    b = birth.replace("-", "")[2:]
    e = expiry.replace("-", "")[2:]
    line2 = doc + check_digit(doc) + nationality + b + check_digit(b) + sex + e + check_digit(e)
    line2 += "<" * 14 + "<"  # no optional data; its check digit may be '<'
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return line1 + "\n" + line2 + check_digit(composite)


assert td3_mrz("TANAKA", "HANAKO", "JPN", "TR1234567", "1985-04-12", "F", "2035-01-31") == (
    "P<JPNTANAKA<<HANAKO<<<<<<<<<<<<<<<<<<<<<<<<<\n"
    "TR12345672JPN8504124F3501313<<<<<<<<<<<<<<<0"), "TD3 builder disagrees with README.md"


def declaration(marker, passport_number, red):
    today = time.strftime("%Y-%m-%d", time.gmtime())
    return {
        "passenger": {
            "surname": "CRASH", "given_names": "TEST", "nationality": "JPN",
            "birth_date": BIRTH, "sex": "F", "passport_number": passport_number,
            "passport_expiry": PASSPORT_EXPIRY,
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
        "items": RED_ITEMS if red else [],
    }


# ------------------------------------------------------------------ the system

class System:
    """`egate up` on three loopback ports and one data directory."""

    def __init__(self, binary, data_dir, ports, log_path):
        self.binary, self.data_dir, self.ports = binary, data_dir, ports
        self.log_path = log_path
        self.proc = None

    def env(self):
        env = dict(os.environ)
        env.update({
            "EGATE_DATA_DIR": self.data_dir,
            "EGATE_MOBILE_API_ADDR": f"127.0.0.1:{self.ports['mobile']}",
            "EGATE_GATE_ADDR": f"127.0.0.1:{self.ports['gate']}",
            "EGATE_KIOSK_ADDR": f"127.0.0.1:{self.ports['kiosk']}",
            "EGATE_CONSOLE_ADDR": f"127.0.0.1:{self.ports['console']}",
            "EGATE_MOBILE_API_INTERNAL_ADDR": f"127.0.0.1:{self.ports['mobile_internal']}",
            "EGATE_KIOSK_INTERNAL_ADDR": f"127.0.0.1:{self.ports['kiosk_internal']}",
            # One device scans for every scanner thread: its per-device limit (5/s, burst
            # 20 by default) is lifted; the run checks crash safety, not the limiter.
            "EGATE_GATE_SCAN_RATE": "100000000",
            "EGATE_GATE_SCAN_BURST": "100000000",
            "EGATE_RATE_LIMIT_PER_MINUTE": "100000000",
            # No random selection: the lane follows the declared items.
            "EGATE_GATE_SELECTION_RATE": "0",
            "EGATE_LOG": "warn",
        })
        env.pop("EGATE_GATE_ISSUERS", None)
        return env

    def create_officer(self, username):
        r = subprocess.run([self.binary, "officer", "add", username, "--role", "officer",
                            "--password-stdin"], env=self.env(), input=OFFICER_PASSWORD + "\n",
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise SystemExit(f"egate officer add failed: {r.stdout} {r.stderr}")

    def create_gate_device(self, device_id):
        """Register an E-Gate device; its key (printed once) for `Authorization: Bearer`."""
        r = subprocess.run([self.binary, "device", "add", device_id, "--kind", "gate"], env=self.env(),
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"^key \(.*\): (\S+)$", r.stdout, re.M)
        if r.returncode != 0 or not m:
            raise SystemExit(f"egate device add failed: {r.stdout} {r.stderr}")
        return m.group(1)

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "up"], env=self.env(),
                                     stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        deadline = time.time() + START_TIMEOUT
        # The public listeners answer /healthz, the console its sign-in page (the
        # internal ones serve only /v1/internal/*).
        pending = {k: v for k, v in self.ports.items() if k in ("mobile", "gate", "console", "kiosk")}
        while pending and time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"egate up exited with {self.proc.returncode} at start; see {self.log_path}")
            for name, port in list(pending.items()):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    c.request("GET", "/console/login" if name == "console" else "/healthz")
                    if c.getresponse().status == 200:
                        del pending[name]
                    c.close()
                except (OSError, http.client.HTTPException):
                    pass
            if pending:
                time.sleep(0.05)
        if pending:
            self.kill()
            raise SystemExit(f"egate up did not start ({', '.join(pending)} not answering); see {self.log_path}")

    def start_and_kill_early(self, delay):
        """Start, and SIGKILL `delay` seconds later, whether or not it is ready (opening
        the databases, recovering the WAL, running migrations, loading keys)."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "up"], env=self.env(),
                                     stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        time.sleep(delay)
        self.kill()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Conn:
    """One keep-alive HTTP connection with a timeout; reconnects after an error."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def send(self, method, path, body=None, headers=None):
        if self.c is None:
            self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            self.c.request(method, path, body, headers or {})
        except Exception:
            self.close()
            raise

    def receive(self):
        try:
            r = self.c.getresponse()
            data = r.read()
        except Exception:
            self.close()
            raise
        if r.will_close:
            self.close()
        return r.status, r.msg, data

    def call(self, method, path, body=None, headers=None):
        self.send(method, path, body, headers)
        return self.receive()

    def close(self):
        if self.c is not None:
            self.c.close()
        self.c = None


CSRF_RE = re.compile(rb'name="csrf" value="([^"]+)"')
FORM = "application/x-www-form-urlencoded"
PAY_KEY_RE = re.compile(rb'name="idempotency_key" value="([^"]+)"')
PAY_AMOUNT_RE = re.compile(rb'name="amount_yen" inputmode="numeric" value="([0-9,]*)"')


class OfficerSession:
    """An officer signed in to the console: the session cookie and its CSRF token."""

    def __init__(self, port, username):
        self.port, self.username = port, username
        self.cookie, self.csrf = None, None

    def login(self):
        c = Conn(self.port)
        try:
            for _ in range(3):
                status, headers, data = c.call("GET", "/console/login")
                m = CSRF_RE.search(data)
                ck = re.search(r"egate_login_csrf=([^;]+)", " ".join(headers.get_all("Set-Cookie") or []))
                if status != 200 or not m or not ck:
                    raise SystemExit(f"console sign-in page unexpected: {status}")
                body = urllib.parse.urlencode({"csrf": m.group(1).decode(), "username": self.username,
                                               "password": OFFICER_PASSWORD})
                status, headers, data = c.call("POST", "/console/login", body, {
                    "Content-Type": FORM, "Cookie": f"egate_login_csrf={ck.group(1)}"})
                if status == 429:
                    time.sleep(min(float(headers.get("Retry-After", "5")), 30))
                    continue
                sess = re.search(r"egate_session=([^;]+)", " ".join(headers.get_all("Set-Cookie") or []))
                if status != 303 or not sess:
                    raise SystemExit(f"console sign-in failed: {status}")
                self.cookie = sess.group(1)
                if not self.refresh_csrf(c):
                    raise SystemExit("console: no session right after signing in")
                return
            raise SystemExit("console sign-in throttled three times")
        finally:
            c.close()

    def refresh_csrf(self, c):
        """GET the queue; True if the session is valid (and its CSRF token read)."""
        status, _, data = c.call("GET", "/console/queue", headers={"Cookie": f"egate_session={self.cookie}"})
        m = CSRF_RE.search(data)
        if status != 200 or not m:
            return False
        self.csrf = m.group(1).decode()
        return True


# ------------------------------------------------------------------ shared client state

class State:
    """What the clients acknowledged (across all cycles) and the work pools."""

    def __init__(self):
        self.lock = threading.Lock()
        # marker -> (id, edit_token) or None (control: sent, no answer needed)
        self.decls = {}
        # scan id -> dict(first_use, decision); control: "decl:<declaration id>" -> None
        self.scans = {}
        # note marker -> case id (known before sending)
        self.outcomes = {}
        # reference marker -> payment id or None
        self.payments = {}
        self.tokens = collections.deque(maxlen=5000)      # unused (qr, mrz, declaration id)
        self.used = collections.deque(maxlen=2000)        # first use acknowledged (qr, mrz, declaration id)
        self.cases = collections.deque(maxlen=5000)       # waiting case ids
        self.claimed = set()                              # case ids an officer thread took
        self.errors = collections.Counter()               # unexpected answers seen (each fails the run)
        self.gate_key = None                              # the device key of GATE_DEVICE
        self.replays_sent = 0                             # replays answered 200 (checked for token.replayed)

    def error(self, what):
        with self.lock:
            self.errors[what] += 1


def decl_writer(port, st, control, stop, tag, rng):
    conn = Conn(port)
    for n in range(1, MAX_ITERATIONS + 1):
        if stop.is_set():
            break
        marker = f"crash {tag} {n}"
        passport = f"TK{rng.randrange(10**7):07d}"
        red = rng.random() < 0.4
        body = json.dumps(declaration(marker, passport, red))
        try:
            conn.send("POST", "/v1/declarations", body, {"Content-Type": "application/json"})
            if control:
                # The flaw simulated: acknowledged once sent, before any commit.
                with st.lock:
                    st.decls[marker] = None
            status, _, data = conn.receive()
        except (OSError, http.client.HTTPException):
            if stop.is_set():
                break
            time.sleep(0.01)
            continue
        if status != 201:
            st.error(f"declaration {status}")
            continue
        v = json.loads(data)
        mrz = td3_mrz("CRASH", "TEST", "JPN", passport, BIRTH, "F", PASSPORT_EXPIRY)
        with st.lock:
            if not control:
                st.decls[marker] = (v["id"], v["edit_token"])
            st.tokens.append((v["qr"]["text"], mrz, v["id"]))
    conn.close()


def scan_writer(port, st, control, stop, tag, rng, gate_key):
    conn = Conn(port)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {gate_key}"}
    for n in range(1, MAX_ITERATIONS + 1):
        if stop.is_set():
            break
        with st.lock:
            replay = bool(st.used) and rng.random() < 0.05
            if replay:
                qr, mrz, decl_id = st.used[rng.randrange(len(st.used))]
            elif st.tokens:
                qr, mrz, decl_id = st.tokens.popleft()
            else:
                qr = None
        if qr is None:
            time.sleep(0.005)
            continue
        body = json.dumps({"qr": qr, "mrz": mrz})
        try:
            conn.send("POST", "/v1/scans", body, headers)
            if control and not replay:
                # The flaw simulated: a first use acknowledged once sent.
                with st.lock:
                    st.scans[f"decl:{decl_id}"] = None
            status, _, data = conn.receive()
        except (OSError, http.client.HTTPException):
            # Unknown whether it was stored: the token is not used again.
            if stop.is_set():
                break
            time.sleep(0.01)
            continue
        if status != 200:
            st.error(f"scan {status}")
            continue
        v = json.loads(data)
        codes = [r["code"] for r in v["reasons"]]
        first_use = "token.replayed" not in codes
        if replay:
            with st.lock:
                st.replays_sent += 1
        if replay and first_use:
            # A one-time-use breach: a token whose first use was acknowledged was taken again.
            st.error("scan: replay answered GREEN" if v["decision"] == "green"
                     else "scan: replay not refused as token.replayed")
        elif not replay and not first_use:
            st.error("scan: first use refused as token.replayed")
        # The device answer carries no case id (officer data): officers take cases from
        # the console queue (officer_writer).
        if not v.get("scan_id"):
            st.error(f"scan: {v['decision']} answer without a scan id")
            continue
        with st.lock:
            if not control:
                st.scans[v["scan_id"]] = {"first_use": first_use, "decision": v["decision"]}
            if first_use:
                st.used.append((qr, mrz, decl_id))
    conn.close()


def officer_writer(port, st, control, stop, tag, rng, officer):
    conn = Conn(port)
    cookie = {"Cookie": f"egate_session={officer.cookie}"}
    post = {"Content-Type": FORM, **cookie}
    for n in range(1, MAX_ITERATIONS + 1):
        if stop.is_set():
            break
        with st.lock:
            case_id = st.cases.popleft() if st.cases else None
            if case_id is not None:
                # Each case is taken by one officer thread only (two officers closing one
                # case: the second is rightly 409, not a failure of the store).
                st.claimed.add(case_id)
        if case_id is None:
            # The waiting cases, from the queue as an officer sees them.
            try:
                status, _, page = conn.call("GET", "/console/queue?status=waiting", headers=cookie)
            except (OSError, http.client.HTTPException):
                status, page = 0, b""
            ids = [int(m) for m in re.findall(rb'/console/cases/(\d+)"', page)] if status == 200 else []
            with st.lock:
                st.cases.extend(i for i in ids if i not in st.cases and i not in st.claimed)
            time.sleep(0.005)
            continue
        try:
            # Open the case, as the officer does, then record the outcome.
            status, _, _ = conn.call("GET", f"/console/cases/{case_id}", headers=cookie)
            if status != 200:
                st.error(f"case page {status}")
                if status in (303, 403):
                    return  # session gone: checked (and signed in again) after the restart
                continue
            kind = rng.choice(["cleared", "duty_assessed", "duty_assessed", "goods_retained", "referred"])
            note = f"crash {tag} {n}"
            form = {"csrf": officer.csrf, "kind": kind, "note": note}
            if kind == "duty_assessed":
                form["amount_source"] = "estimate"
            conn.send("POST", f"/console/cases/{case_id}/outcome", urllib.parse.urlencode(form), post)
            if control:
                with st.lock:
                    st.outcomes[note] = case_id
            status, headers, _ = conn.receive()
            if status != 303 or not (headers.get("Location") or "").startswith(f"/console/cases/{case_id}"):
                st.error(f"outcome {status}")
                continue
            if not control:
                with st.lock:
                    st.outcomes[note] = case_id
            if kind != "duty_assessed" or rng.random() < 0.5:
                continue
            # The payment form as the case page offers it: its one-time idempotency key and
            # the duty assessed (an officer cannot pay more than that; a supervisor only
            # with a reason).
            status, _, page = conn.call("GET", f"/console/cases/{case_id}", headers=cookie)
            pay_key = PAY_KEY_RE.search(page) if status == 200 else None
            pay_amount = PAY_AMOUNT_RE.search(page) if status == 200 else None
            if not pay_key or not pay_amount:
                st.error(f"case page {status}" if status != 200 else "case page without its payment form")
                continue
            amount = int(pay_amount.group(1).decode().replace(",", "") or "0")
            if amount <= 0:
                continue  # nothing assessed (an estimate of 0 yen): no payment to take
            reference = f"P{tag}-{n}"
            form = {"csrf": officer.csrf, "method": rng.choice(["cash", "card", "qr_payment"]),
                    "amount_yen": str(rng.randrange(1, amount + 1)), "reference": reference,
                    "idempotency_key": pay_key.group(1).decode()}
            conn.send("POST", f"/console/cases/{case_id}/payment", urllib.parse.urlencode(form), post)
            if control:
                with st.lock:
                    st.payments[reference] = None
            status, headers, _ = conn.receive()
            m = re.match(r"/console/payments/(\d+)/receipt$", headers.get("Location") or "")
            if status != 303 or not m:
                st.error(f"payment {status}")
                continue
            if not control:
                with st.lock:
                    st.payments[reference] = int(m.group(1))
        except (OSError, http.client.HTTPException):
            if stop.is_set():
                break
            time.sleep(0.01)
    conn.close()


# ------------------------------------------------------------------ checks

def open_ro(path):
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def db_health(path):
    """(integrity_check result, foreign_key_check rows) of one database."""
    con = open_ro(path)
    try:
        integrity = "; ".join(r[0] for r in con.execute("PRAGMA integrity_check").fetchall())
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        con.close()
    return integrity, fk


def check_store(paths, st):
    """Lost writes per kind (sets of markers) from SQLite, for everything acknowledged so far."""
    con = open_ro(paths["mobile"])
    present = set()
    try:
        for (body,) in con.execute("SELECT body FROM declarations WHERE body IS NOT NULL"):
            try:
                present.add(json.loads(body)["trip"]["occupation"])
            except (ValueError, KeyError, TypeError):
                pass
    finally:
        con.close()
    lost = {"declarations": {m for m in st.decls if m not in present}}
    found = {"declarations": len(present)}

    con = open_ro(paths["gate"])
    try:
        scans = {i: g for (i, g) in con.execute("SELECT id, gate_id FROM scans")}
        scanned_decls = {d for (d,) in con.execute(
            "SELECT DISTINCT declaration_id FROM scans WHERE declaration_id IS NOT NULL")}
        used = {s for (s,) in con.execute("SELECT scan_id FROM used_tokens")}
        closed = {i for (i,) in con.execute("SELECT id FROM cases WHERE status = 'closed'")}
        outcomes = {n: c for (c, n) in con.execute("SELECT case_id, note FROM outcomes")}
        payments = {r: i for (i, r) in con.execute("SELECT id, reference FROM payments")}
    finally:
        con.close()
    lost_scans = set()
    for marker, v in st.scans.items():
        if marker.startswith("decl:"):
            # Control run: a first use sent; present if any scan of that declaration is.
            if marker[len("decl:"):] not in scanned_decls:
                lost_scans.add(marker)
        elif scans.get(marker) != GATE_DEVICE or (v["first_use"] and marker not in used):
            lost_scans.add(marker)
    lost["scans"] = lost_scans
    lost["outcomes"] = {n for n, c in st.outcomes.items()
                        if outcomes.get(n) != c or c not in closed}
    lost["payments"] = {r for r, p in st.payments.items()
                        if r not in payments or (p is not None and payments[r] != p)}
    found.update(scans=len(scans), outcomes=len(outcomes), payments=len(payments))
    return lost, found


def check_reports(paths):
    """Use reports (gate -> issuer): every use the gate marked reported must be in the
    issuer's revocation feed as `used` (the gate marks it only after the issuer's 200,
    which comes after the issuer's commit). Returns (marked, pending, missing ctis).
    The gate is read first: a use marked later was acknowledged later still."""
    con = open_ro(paths["gate"])
    try:
        marked = {base64.b64encode(c).decode() for (c,) in con.execute(
            "SELECT cti FROM used_tokens WHERE reported_at IS NOT NULL AND issuer = 'mobile-api'")}
        pending = con.execute("SELECT count(*) FROM used_tokens WHERE reported_at IS NULL").fetchone()[0]
    finally:
        con.close()
    con = open_ro(paths["mobile"])
    try:
        feed = {c for (c,) in con.execute("SELECT cti FROM revocations WHERE reason = 'used'")}
    finally:
        con.close()
    return len(marked), pending, marked - feed


def check_api(ports, st, officers, rng):
    """Samples read back through the services; returns the number of misses."""
    misses = []
    with st.lock:
        decls = [(m, v) for m, v in st.decls.items() if v is not None]
        used = list(st.used)
        outcomes = list(st.outcomes.items())
    for m, (id_, token) in rng.sample(decls, min(5, len(decls))):
        c = Conn(ports["mobile"])
        status, _, _ = c.call("GET", f"/v1/declarations/{id_}", headers={"Authorization": f"Bearer {token}"})
        c.close()
        if status != 200:
            misses.append(f"declaration {m}: GET {status}")
    # A token whose first use was acknowledged must now be refused as replayed.
    for qr, mrz, _ in rng.sample(used, min(3, len(used))):
        c = Conn(ports["gate"])
        status, _, data = c.call("POST", "/v1/scans", json.dumps({"qr": qr, "mrz": mrz}),
                                 {"Content-Type": "application/json", "Authorization": f"Bearer {st.gate_key}"})
        c.close()
        codes = [r["code"] for r in json.loads(data)["reasons"]] if status == 200 else []
        if "token.replayed" not in codes:
            misses.append(f"used token accepted again after restart: {status} {codes}")
    if outcomes and officers:
        o = officers[0]
        for note, case_id in rng.sample(outcomes, min(3, len(outcomes))):
            c = Conn(ports["console"])
            status, _, data = c.call("GET", f"/console/cases/{case_id}", headers={"Cookie": f"egate_session={o.cookie}"})
            c.close()
            if status != 200 or note.encode() not in data:
                misses.append(f"outcome {note!r} not on the case page of case {case_id} ({status})")
    return misses


def check_sessions(port, officers):
    """Each officer's session must survive the crash; sign in again where it did not."""
    lost = 0
    for o in officers:
        c = Conn(port)
        try:
            ok = o.refresh_csrf(c)
        finally:
            c.close()
        if not ok:
            lost += 1
            o.login()
    return lost


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default="target/debug/egate")
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--writers", type=int, default=3, help="declaration client threads")
    ap.add_argument("--scanners", type=int, default=2, help="gate scan client threads")
    ap.add_argument("--officers", type=int, default=2, help="console officer threads (one session each)")
    ap.add_argument("--max-run", type=float, default=1.0, help="seconds of load before the kill, at most")
    ap.add_argument("--startup-kills", type=float, default=0.1,
                    help="fraction of cycles with a second SIGKILL 0-0.1 s into the restart (a restart takes about 0.06 s)")
    ap.add_argument("--control", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the data directory (always kept on failure)")
    ap.add_argument("--inject", action="append", default=[], metavar="ANSWER",
                    help="demonstration only: count one unexpected ANSWER (e.g. 'scan: replay answered GREEN', "
                         "'scan 500', 'outcome 500') as if seen during the load; the run must then fail")
    args = ap.parse_args()
    if args.cycles < 1 or args.max_run < 0.05:
        ap.error("--cycles must be at least 1 and --max-run at least 0.05")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    binary = os.path.abspath(args.binary)
    data_dir = tempfile.mkdtemp(prefix="egate-crash-")
    paths = {
        "mobile": os.path.join(data_dir, "mobile-api", "mobile-api.db"),
        "gate": os.path.join(data_dir, "gate", "gate.db"),
        "kiosk": os.path.join(data_dir, "kiosk", "kiosk.db"),
    }
    ports = {name: free_port() for name in ("mobile", "gate", "console", "kiosk", "mobile_internal", "kiosk_internal")}
    system = System(binary, data_dir, ports, os.path.join(data_dir, "egate.log"))
    st = State()
    lost = {k: set() for k in ("declarations", "scans", "outcomes", "payments")}
    bad_integrity, bad_fk, api_misses, sessions_lost, startup_kills = 0, 0, 0, 0, 0
    reports_missing, reports_marked, reports_pending = set(), 0, 0
    started = time.time()
    ok = False
    try:
        system.create_officer("crash")
        st.gate_key = system.create_gate_device(GATE_DEVICE)
        system.start()
        officers = [OfficerSession(ports["console"], "crash") for _ in range(args.officers)]
        for o in officers:
            o.login()
        for cycle in range(args.cycles):
            stop = threading.Event()
            threads = []
            for w in range(args.writers):
                threads.append(threading.Thread(target=decl_writer, args=(
                    ports["mobile"], st, args.control, stop, f"{cycle}-d{w}", random.Random(rng.random()))))
            for w in range(args.scanners):
                threads.append(threading.Thread(target=scan_writer, args=(
                    ports["gate"], st, args.control, stop, f"{cycle}-s{w}", random.Random(rng.random()),
                    st.gate_key)))
            for w, o in enumerate(officers):
                threads.append(threading.Thread(target=officer_writer, args=(
                    ports["console"], st, args.control, stop, f"{cycle}-o{w}", random.Random(rng.random()), o)))
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.05, args.max_run))
            system.kill()
            stop.set()
            for t in threads:
                t.join(timeout=3 * HTTP_TIMEOUT)
            if any(t.is_alive() for t in threads):
                raise SystemExit("a client thread did not stop")
            if rng.random() < args.startup_kills:
                # Sometimes also a kill while the system is starting up again.
                system.start_and_kill_early(rng.uniform(0.0, 0.1))
                startup_kills += 1
            system.start()
            cycle_lost, found = check_store(paths, st)
            for kind, acked in (("declarations", st.decls), ("scans", st.scans), ("outcomes", st.outcomes)):
                if len(acked) > 20 and found[kind] == 0:
                    raise SystemExit(f"no {kind} found in SQLite: the harness cannot read the store")
            health = {name: db_health(p) for name, p in paths.items()}
            reports_marked, reports_pending, missing = check_reports(paths)
            if missing - reports_missing:
                print(f"cycle {cycle}: {len(missing - reports_missing)} uses marked reported are not in "
                      f"the issuer's feed: {sorted(missing - reports_missing)[:3]}", flush=True)
            reports_missing |= missing
            s_lost = check_sessions(ports["console"], officers)
            misses = check_api(ports, st, officers, rng) if not args.control else []
            new_lost = {k: cycle_lost[k] - lost[k] for k in lost}
            for k in lost:
                lost[k] |= cycle_lost[k]
            bi = [n for n, (i, _) in health.items() if i != "ok"]
            bf = [n for n, (_, fk) in health.items() if fk]
            bad_integrity += len(bi)
            bad_fk += len(bf)
            api_misses += len(misses)
            sessions_lost += s_lost
            if any(new_lost.values()) or bi or bf or misses or s_lost:
                print(f"cycle {cycle}: newly lost " + ", ".join(
                    f"{k} {len(v)} {sorted(v)[:3]}" for k, v in new_lost.items())
                    + f"; integrity {[(n, health[n][0]) for n in bi]}, fk {[(n, health[n][1][:3]) for n in bf]}, "
                    f"API misses {misses[:3]}, sessions lost {s_lost}", flush=True)
            if (cycle + 1) % 10 == 0:
                print(f"  {cycle + 1} cycles: acknowledged {len(st.decls)} declarations, {len(st.scans)} scans, "
                      f"{len(st.outcomes)} outcomes, {len(st.payments)} payments", file=sys.stderr, flush=True)
        # A clean stop at the end, and the checks once more on the closed databases.
        system.stop()
        for name, p in paths.items():
            integrity, fk = db_health(p)
            if integrity != "ok" or fk:
                bad_integrity += integrity != "ok"
                bad_fk += bool(fk)
                print(f"after the final clean stop: {name}: integrity {integrity}, fk {fk[:3]}")
        ok = True
    finally:
        system.stop()
        if not ok:
            print(f"  data directory kept: {data_dir}", file=sys.stderr)
    for what in args.inject:
        print(f"  injected (demonstration): one unexpected answer {what!r}")
        st.error(what)
    mode = "control (ack before commit)" if args.control else "normal (ack after commit)"
    acked = {"declarations": len(st.decls), "scans": len(st.scans),
             "outcomes": len(st.outcomes), "payments": len(st.payments)}
    lost_n = {k: len(v) for k, v in lost.items()}
    lost_total = sum(lost_n.values())
    errors = ", ".join(f"{k} x{v}" for k, v in sorted(st.errors.items())) or "none"
    print(f"RELIABILITY item5: {mode}: {args.cycles} SIGKILL cycles of `egate up` "
          f"(+{startup_kills} kills during a restart), "
          f"{args.writers}+{args.scanners}+{args.officers} client threads, seed {seed}: acknowledged "
          f"{acked['declarations']} declarations, {acked['scans']} scans, {acked['outcomes']} outcomes "
          f"(+{acked['payments']} payments); lost {lost_n['declarations']} declarations, {lost_n['scans']} scans, "
          f"{lost_n['outcomes']} outcomes, {lost_n['payments']} payments; integrity failures {bad_integrity}, "
          f"foreign-key failures {bad_fk}, API misses {api_misses}, sessions lost {sessions_lost}; "
          f"{time.time() - started:.0f}s", flush=True)
    print(f"RELIABILITY item5: use reports (gate -> mobile-api feed): {reports_marked} marked reported "
          f"after the last restart, {len(reports_missing)} of them missing from the issuer's feed, "
          f"{reports_pending} pending in the gate's outbox at the last check", flush=True)
    # Unexpected answers during the load, by kind. Every one fails a normal run: a replay
    # answered GREEN (or without token.replayed) is a one-time-use breach, a 5xx is a
    # server error, a refused outcome/payment or a lost case page is a failed officer write.
    # (A request cut by the SIGKILL raises a connection error, never an answer, so none of
    # these can come from the kill itself.)
    breaches = sum(n for k, n in st.errors.items() if k.startswith("scan: replay"))
    fivexx = sum(n for k, n in st.errors.items() if re.search(r" 5\d\d$", k))
    officer = sum(n for k, n in st.errors.items() if k.split(" ")[0] in ("outcome", "payment", "case"))
    print(f"RELIABILITY item5: unexpected answers during the load: {sum(st.errors.values())} "
          f"(replays not refused {breaches}, 5xx {fivexx}, failed officer writes {officer}; "
          f"replays sent and answered {st.replays_sent}): {errors}", flush=True)
    empty = [k for k in ("declarations", "scans", "outcomes") if acked[k] == 0]
    if empty and not args.control:
        print(f"  nothing acknowledged for: {', '.join(empty)} (the run checked nothing there)")
    if args.control:
        # The harness must catch the simulated loss.
        passed = ok and lost_total > 0
    else:
        passed = ok and lost_total == 0 and bad_integrity == 0 and bad_fk == 0 \
            and api_misses == 0 and sessions_lost == 0 and not reports_missing \
            and not st.errors and not empty
    if not passed:
        print(f"RELIABILITY item5: FAILED ({mode})", flush=True)
    if passed and not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        print(f"  data directory kept: {data_dir}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
