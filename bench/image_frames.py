#!/usr/bin/env python3
"""Camera-like JPEG frames for the image-scan benchmark (bench/gate_scan.sh), one token each.

    image_frames.py BODIES OUT_DIR

BODIES: `POST /v1/scans` JSON bodies, one per line (`qr`, `mrz`), each with its own token
(gate-service's `bench_tokens` example writes them). For each line i it writes
OUT_DIR/i.jpg (the QR of that token) and OUT_DIR/i.mrz, so that every frame the benchmark
sends is a first use: re-sending one frame would measure the replay path (RED
`token.replayed`) after the first request.

The frame is built as the example's single `frame.jpg`: a 640x480 grey image with a
textured, noisy background, the QR (level Q, 4 px per module, quiet zone 4) off-centre
with its white dimmed to 215 and black lifted to 40, a 0.8 px blur, JPEG quality 85.
Needs segno and Pillow (bench/run_all.sh installs pinned versions into a venv).
"""
import io
import json
import multiprocessing
import os
import sys

import segno
from PIL import Image, ImageFilter

W, H, OX, OY = 640, 480, 150, 70


def background():
    img = Image.new("L", (W, H))
    px = img.load()
    for y in range(H):
        for x in range(W):
            px[x, y] = 90 + ((x // 7 + y // 5) % 40) + (((x * 2_654_435_761) ^ (y * 40_503)) & 0xFFFFFFFF) % 23
    return img


BG = None


def frame(job):
    i, qr_text, mrz, out = job
    buf = io.BytesIO()
    segno.make(qr_text, error="q", boost_error=False).save(buf, kind="png", scale=4, border=4)
    qr = Image.open(io.BytesIO(buf.getvalue())).convert("L").point(lambda v: 215 if v > 127 else 40)
    img = BG.copy()
    img.paste(qr.crop((0, 0, min(qr.width, W - OX), min(qr.height, H - OY))), (OX, OY))
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    img.save(os.path.join(out, "%d.jpg" % i), "JPEG", quality=85)
    with open(os.path.join(out, "%d.mrz" % i), "w") as f:
        f.write(mrz)


def init():
    global BG
    BG = background()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    bodies, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    jobs = []
    for i, line in enumerate(open(bodies)):
        line = line.strip()
        if line:
            b = json.loads(line)
            jobs.append((i, b["qr"], b["mrz"], out))
    with multiprocessing.Pool(initializer=init) as pool:
        pool.map(frame, jobs, chunksize=16)
    print("image_frames: %d frames in %s" % (len(jobs), out))
    return 0 if jobs else 1


if __name__ == "__main__":
    sys.exit(main())
