#!/usr/bin/env python3
"""Issue scan fixtures through mobile-api itself (RELIABILITY.md item 7).

    python3 bench/issue_tokens.py URL COUNT BODIES [--workers 4] [--threads 4]

POSTs COUNT declarations to URL/v1/declarations, each by a different passenger (own
passport number, nationality, birth date, sex, expiry; a green-lane declaration: one
adult, one 700 ml bottle of whisky), and writes BODIES: one `POST /v1/scans` JSON body
per line, in the format bench/load_scan.lua reads:

    {"qr": <the answer's qr.text>, "mrz": <that passenger's TD3 MRZ>}

(the gate id is the scanning device's key's, sent by the load as `Authorization`).

The MRZ is built here (ICAO 9303 TD3, check digits included) from the same passenger
fields as the declaration, so the gate's passport binding (nationality, passport number,
birth date) matches and the scan is GREEN unless the gate selects it at random.

Parallelism: WORKERS processes (no GIL contention) of THREADS threads each, one
keep-alive connection per thread. Prints one summary line; exits non-zero if any answer
was not 201 (the count of 5xx is printed), or a lane preview was not green.
"""
import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import sys
import threading
import time
import urllib.parse

NATIONALITIES = ["JPN", "GBR", "USA", "FRA", "KOR", "AUS", "CAN", "ITA", "ESP", "NLD", "CHN", "TWN"]
SURNAMES = ["Tanaka", "Smith", "Martin", "Kim", "Rossi", "Garcia", "De Vries", "Wang",
            "O'Brien", "Suzuki", "Brown", "Lee", "Nguyen", "Muller", "Sato", "Chen"]
GIVEN = ["Hanako", "John", "Marie", "Min-jun", "Giulia", "Lucia", "Daan", "Wei",
         "Sean", "Taro", "Emily", "Ji-woo", "An", "Lena", "Yuki", "Mei Ling"]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_digit(field):
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            v = ord(ch) - 48
        elif "A" <= ch <= "Z":
            v = ord(ch) - 55
        else:  # '<'
            v = 0
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def mrz_name(s):
    """A name as the MRZ prints it: upper case A-Z, '<' for spaces, hyphens, apostrophes."""
    out = []
    for ch in s.upper():
        if "A" <= ch <= "Z":
            out.append(ch)
        elif ch in " -":
            out.append("<")
        # apostrophes are dropped (O'BRIEN -> OBRIEN), as ICAO 9303 does
    return "".join(out)


def td3(p):
    """The two 44-character lines of a TD3 MRZ for passenger dict p (declaration fields)."""
    names = (mrz_name(p["surname"]) + "<<" + mrz_name(p["given_names"]))[:39]
    line1 = ("P<" + p["nationality"] + names).ljust(44, "<")
    doc = p["passport_number"].ljust(9, "<")
    birth = dt.date.fromisoformat(p["birth_date"]).strftime("%y%m%d")
    expiry = dt.date.fromisoformat(p["passport_expiry"]).strftime("%y%m%d")
    optional = "<" * 14
    part1 = doc + check_digit(doc)
    part2 = birth + check_digit(birth)
    part3 = expiry + check_digit(expiry) + optional + "<"
    composite = check_digit(part1 + part2 + part3)
    line2 = part1 + p["nationality"].ljust(3, "<") + part2 + p["sex"] + part3 + composite
    assert len(line1) == 44 and len(line2) == 44, (line1, line2)
    return line1 + "\n" + line2


def passenger(i):
    """A distinct, valid adult passenger for index i."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(i * 7919) % 19000)
    expiry = dt.date(2030 + i % 6, 1 + i % 12, 1 + i % 28)
    return {
        "surname": SURNAMES[i % len(SURNAMES)],
        "given_names": GIVEN[(i // len(SURNAMES)) % len(GIVEN)],
        "nationality": NATIONALITIES[i % len(NATIONALITIES)],
        "birth_date": birth.isoformat(),
        "sex": "F" if i % 2 else "M",
        "passport_number": LETTERS[(i // 7) % 26] + LETTERS[(i // 11) % 26] + "%07d" % (i % 10_000_000),
        "passport_expiry": expiry.isoformat(),
    }


def declaration(i, arrival):
    return {
        "passenger": passenger(i),
        "trip": {"flight": "NH%d" % (200 + i % 50), "origin": "LHR", "arrival_date": arrival,
                 "address_in_japan": "1-1 Marunouchi, Chiyoda, Tokyo", "phone": "+81 90 1234 5678",
                 "occupation": "Engineer"},
        "party": {"aged_20_plus": 1, "aged_6_to_19": 0, "under_6": 0},
        "answers": {"prohibited": False, "over_allowance": False, "commercial": False,
                    "for_others": False, "means_of_payment_over_limit": False,
                    "precious_metal_over_1kg": False, "unaccompanied_packages": 0},
        "items": [{"category": "whisky", "quantity": 1, "volume_ml": 700,
                   "value": {"amount": 40, "currency": "USD"}}],
    }


def worker(args):
    """One process: indices [start, end) over THREADS keep-alive connections; writes its
    bodies to part_path. Returns (issued, non201, server_errors, not_green, first_error)."""
    url, start, end, threads, arrival, part_path = args
    u = urllib.parse.urlsplit(url)
    lock = threading.Lock()
    stats = {"issued": 0, "non201": 0, "5xx": 0, "not_green": 0, "error": None}
    lines = []
    nxt = [start]

    def run():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        while True:
            with lock:
                i = nxt[0]
                if i >= end:
                    break
                nxt[0] += 1
            body = declaration(i, arrival)
            data = json.dumps(body)
            for attempt in range(3):
                try:
                    conn.request("POST", "/v1/declarations", data, headers)
                    r = conn.getresponse()
                    raw = r.read()
                    break
                except (http.client.HTTPException, OSError) as e:
                    conn.close()
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
                    if attempt == 2:
                        with lock:
                            stats["non201"] += 1
                            stats["error"] = stats["error"] or "connection: %r" % e
                        raw, r = None, None
            if r is None:
                continue
            if r.status != 201:
                with lock:
                    stats["non201"] += 1
                    if r.status >= 500:
                        stats["5xx"] += 1
                    stats["error"] = stats["error"] or "%d %s" % (r.status, raw[:300])
                continue
            out = json.loads(raw)
            scan = {"qr": out["qr"]["text"], "mrz": td3(body["passenger"])}
            with lock:
                if out.get("lane_preview") != "green":
                    stats["not_green"] += 1
                stats["issued"] += 1
                lines.append(json.dumps(scan, separators=(",", ":")))
        conn.close()

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(part_path, "w") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url")
    ap.add_argument("count", type=int)
    ap.add_argument("bodies")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--arrival", default=dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date().isoformat(),
                    help="arrival date (default: today in Japan)")
    a = ap.parse_args()

    # Self-check of the MRZ builder against the README's example passport.
    hanako = {"surname": "Tanaka", "given_names": "Hanako", "nationality": "JPN", "birth_date": "1985-04-12",
              "sex": "F", "passport_number": "TR1234567", "passport_expiry": "2035-01-31"}
    assert td3(hanako) == ("P<JPNTANAKA<<HANAKO<<<<<<<<<<<<<<<<<<<<<<<<<\n"
                           "TR12345672JPN8504124F3501313<<<<<<<<<<<<<<<0"), td3(hanako)

    t0 = time.time()
    n = a.count
    w = max(1, min(a.workers, n))
    step = (n + w - 1) // w
    parts = []
    jobs = []
    for k in range(w):
        s, e = k * step, min(n, (k + 1) * step)
        if s >= e:
            continue
        part = "%s.part%d" % (a.bodies, k)
        parts.append(part)
        jobs.append((a.url, s, e, a.threads, a.arrival, part))
    with multiprocessing.Pool(len(jobs)) as pool:
        results = pool.map(worker, jobs)
    with open(a.bodies, "w") as out:
        for p in parts:
            with open(p) as f:
                out.write(f.read())
            os.remove(p)
    secs = time.time() - t0
    tot = {k: sum(r[k] for r in results) for k in ("issued", "non201", "5xx", "not_green")}
    err = next((r["error"] for r in results if r["error"]), None)
    print("issue_tokens: %d declarations issued in %.1f s (%.0f/s, %d connections), %d non-201 (%d 5xx), "
          "%d lane previews not green%s" % (tot["issued"], secs, tot["issued"] / secs if secs else 0,
                                            len(jobs) * a.threads, tot["non201"], tot["5xx"], tot["not_green"],
                                            "; first error: %s" % err if err else ""))
    sys.exit(0 if tot["non201"] == 0 and tot["not_green"] == 0 and tot["issued"] == n else 1)


if __name__ == "__main__":
    main()
