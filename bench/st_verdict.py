#!/usr/bin/env python3
"""Verdict of the schemathesis run of bench/reliability.sh (RELIABILITY.md item 10).

    st_verdict.py --exit RC --version V --report st.json --events st.ndjson \
                  --openapi openapi.json --accepted bench/schemathesis-accepted.txt \
                  [--server-log LOG] [--tag TAG | --without-tag TAG]

Reads schemathesis' own machine-readable reports (`--report json,ndjson`), never its
terminal text, and fails (exit 1) unless ALL of these hold:

- the JSON report exists, was written by schemathesis V (the pinned version), the run
  completed (`complete`, stop reason `completed`) and reported no errors;
- every operation of the OpenAPI document that this run selected (all of them; with
  `--tag T` those tagged T, with `--without-tag T` the others: one run per listener, the
  internal operations on the internal listener) was tested with more than 0 generated cases
  (counted per operation from the NDJSON events), and none was skipped or errored (the
  one exception: `GET <schema path>`, the operation serving the document schemathesis
  loaded, which schemathesis itself leaves out; the report's operation total must then
  be the document's count minus that one);
- every failure schemathesis reports (code + operation) is listed in the accepted-findings
  file, whose entries each carry a reason; server errors (ST101, ST102) and response
  conformance failures (every other ST1xx) can never be accepted;
- the exit status is 0, or 1 (failures found) with every failure accepted; any other
  status (2: configuration, schema or internal error; 130: interrupted) fails;
- no `panicked` line in the server log.

Accepted-findings file: one finding per line, `CODE METHOD PATH -- reason` (the reason is
required); `#` starts a comment line.
"""
import argparse
import collections
import json
import re
import sys

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def load_accepted(path):
    accepted, problems = {}, []
    for n, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(ST\d{3})\s+([A-Z]+)\s+(\S+)\s+--\s+(\S.*)$", line)
        if not m:
            problems.append("%s:%d: not `CODE METHOD PATH -- reason`: %s" % (path, n, line))
            continue
        code, method, op_path, reason = m.groups()
        if code.startswith("ST1"):
            problems.append("%s:%d: %s is a server error or a response that breaks its contract: "
                            "it cannot be accepted" % (path, n, code))
            continue
        accepted[(code, "%s %s" % (method, op_path))] = reason
    return accepted, problems


def operations(openapi, tag=None, without_tag=None):
    """The document's operations ("METHOD /path"); only those tagged `tag`, or only those
    not tagged `without_tag`, when given (as the run's --include-tag / --exclude-tag)."""
    doc = json.load(open(openapi, encoding="utf-8"))
    ops = []
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            tags = op.get("tags") or []
            if (tag is not None and tag not in tags) or (without_tag is not None and without_tag in tags):
                continue
            ops.append("%s %s" % (method.upper(), path))
    return sorted(ops)


def cases_per_operation(events):
    """Generated cases per operation label ("METHOD /path"), from ScenarioFinished events."""
    cases = collections.Counter()
    statuses = collections.defaultdict(set)
    for line in open(events, encoding="utf-8"):
        line = line.strip()
        if not line.startswith('{"ScenarioFinished"'):
            continue
        ev = json.loads(line)["ScenarioFinished"]
        rec = ev.get("recorder") or {}
        label = rec.get("label") or ev.get("label")
        if not label:
            continue
        cases[label] += len(rec.get("cases") or {})
        statuses[label].add(ev.get("status"))
    return cases, statuses


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--exit", type=int, required=True, dest="rc")
    ap.add_argument("--version", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--openapi", required=True)
    ap.add_argument("--accepted", required=True)
    ap.add_argument("--server-log")
    ap.add_argument("--schema-path", default="/openapi.json",
                    help="path the schema was loaded from (schemathesis does not test that operation)")
    sel = ap.add_mutually_exclusive_group()
    sel.add_argument("--tag", help="the run tested only the operations with this tag")
    sel.add_argument("--without-tag", help="the run tested only the operations without this tag")
    a = ap.parse_args()
    fails = []

    accepted, problems = load_accepted(a.accepted)
    fails += problems
    try:
        report = json.load(open(a.report, encoding="utf-8"))
    except (OSError, ValueError) as e:
        report = None
        fails.append("no readable JSON report (%s): schemathesis did not finish its run" % e)
    try:
        ops = operations(a.openapi, a.tag, a.without_tag)
    except (OSError, ValueError) as e:
        ops = []
        fails.append("no readable OpenAPI document (%s)" % e)
    self_op = "GET %s" % a.schema_path
    ops = [op for op in ops if op != self_op]
    if not ops:
        fails.append("the OpenAPI document lists no operation%s"
                     % (" tagged %s" % a.tag if a.tag else " without the tag %s" % a.without_tag
                        if a.without_tag else ""))
    try:
        cases, statuses = cases_per_operation(a.events)
    except (OSError, ValueError) as e:
        cases, statuses = collections.Counter(), {}
        fails.append("no readable NDJSON events (%s)" % e)

    generated, failures, unaccepted, seen_accepted = 0, [], [], set()
    if report is not None:
        if report.get("schemathesis_version") != a.version:
            fails.append("report written by schemathesis %s, not the pinned %s"
                         % (report.get("schemathesis_version"), a.version))
        if not report.get("complete") or report.get("stop_reason") != "completed":
            fails.append("run not complete (stop reason %s)" % report.get("stop_reason"))
        if report.get("errors"):
            fails.append("errors: %s" % "; ".join("%s x%s" % (e["title"], e["count"]) for e in report["errors"]))
        tc = report.get("test_cases") or {}
        generated = tc.get("generated") or 0
        if tc.get("errored"):
            fails.append("%d test cases errored" % tc["errored"])
        o = report.get("operations") or {}
        # schemathesis counts every operation of the document (but its own schema's) in
        # `total`, and the ones the run selected in `tested`.
        everything = len([op for op in operations(a.openapi) if op != self_op]) if ops else 0
        if o.get("total") != everything or o.get("tested") != len(ops):
            fails.append("schemathesis saw %s operations and tested %s; the document has %d (besides %s), "
                         "%d of them for this run" % (o.get("total"), o.get("tested"), everything, self_op, len(ops)))
        if o.get("errored") or o.get("skipped"):
            fails.append("operations errored %s, skipped %s %s" % (o.get("errored"), o.get("skipped"),
                                                                  o.get("skip_reasons") or ""))
        for f in report.get("failures") or []:
            for op in f.get("operations") or ["?"]:
                failures.append((f.get("code") or "?", op, f.get("title"), f.get("count")))
    for code, op, title, count in failures:
        if (code, op) in accepted:
            seen_accepted.add((code, op))
        else:
            unaccepted.append("%s %s: %s (x%s)" % (code, op, title, count))
    if unaccepted:
        fails.append("%d findings not in %s: %s" % (len(unaccepted), a.accepted, "; ".join(unaccepted)))
    if generated <= 0:
        fails.append("0 test cases generated")
    untested = [op for op in ops if cases.get(op, 0) <= 0]
    if untested:
        fails.append("operations with 0 generated cases: %s" % ", ".join(untested))
    if a.rc == 1:
        if not failures:
            fails.append("exit 1 but no failure in the report")
    elif a.rc != 0:
        fails.append("schemathesis exit %d (2: configuration, schema or internal error; 130: interrupted)" % a.rc)
    panics = 0
    if a.server_log:
        panics = sum(1 for line in open(a.server_log, errors="replace") if "panicked" in line.lower())
        if panics:
            fails.append("%d panics in the server log" % panics)

    server = sum(1 for c, *_ in failures if c in ("ST101", "ST102"))
    schema = sum(1 for c, *_ in failures if c.startswith("ST1") and c not in ("ST101", "ST102"))
    fewest = min(((cases.get(op, 0), op) for op in ops), default=(0, "-"))
    what = " [tag %s]" % a.tag if a.tag else " [all but tag %s]" % a.without_tag if a.without_tag else ""
    print("RELIABILITY item10%s: schemathesis (pinned %s): %d test cases over %d/%d operations (fewest: %d, %s), "
          "%d server errors, %d response-contract violations, %d findings accepted (listed in %s), "
          "%d not accepted, %d panics, exit %d"
          % (what, a.version, generated, sum(1 for op in ops if cases.get(op, 0) > 0), len(ops),
             fewest[0], fewest[1], server, schema,
             len(seen_accepted), a.accepted, len(unaccepted), panics, a.rc))
    for code, op in sorted(seen_accepted):
        print("  accepted: %s %s -- %s" % (code, op, accepted[(code, op)]))
    if fails:
        for f in fails:
            print("RELIABILITY item10: FAILED: %s" % f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
