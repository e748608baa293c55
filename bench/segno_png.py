#!/usr/bin/env python3
"""Render the benchmark token to PNG with segno N times and print renders/second.

Same text as shared/benches/qr.rs ("CD1:" + Base45 of 233 LCG bytes, 354 chars), same
settings (level Q, 4 px per module, quiet zone 4), so the two figures compare directly:

    pip install segno && python3 bench/segno_png.py [N]
"""

import io
import sys
import time

import segno

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45(data: bytes) -> str:
    """RFC 9285 Base45."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += [B45[c], B45[d], B45[e]]
    if len(data) % 2:
        n = data[-1]
        out += [B45[n % 45], B45[n // 45]]
    return "".join(out)


def token() -> str:
    x, raw = 1, bytearray()
    for _ in range(233):
        x = (x * 1664525 + 1013904223) % 2**32
        raw.append(x >> 24)
    return "CD1:" + base45(bytes(raw))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    text = token()
    qr = segno.make_qr(text, error="q", boost_error=False)
    print(f"text {len(text)} chars, version {qr.version}, mode {qr.mode}")
    start = time.perf_counter()
    for _ in range(n):
        buf = io.BytesIO()
        segno.make_qr(text, error="q", boost_error=False).save(buf, kind="png", scale=4, border=4)
    elapsed = time.perf_counter() - start
    print(f"segno render_png: {n / elapsed:.0f} renders/s ({elapsed / n * 1000:.2f} ms each, {len(buf.getvalue())} bytes)")


if __name__ == "__main__":
    main()
