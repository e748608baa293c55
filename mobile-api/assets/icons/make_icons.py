#!/usr/bin/env python3
"""Draws the phone app's icons (standard library only): a white QR-like mark on the theme
colour. icon-192/512: the mark fills most of the square; maskable-512: full-bleed
background, the mark inside the central safe zone (a circle of 40% radius).
Run from this directory: python3 make_icons.py"""
import struct
import zlib

THEME = (0x0B, 0x3D, 0x91)
WHITE = (0xFF, 0xFF, 0xFF)

# 7x7 module mark: three finder squares and a few data modules.
MARK = [
    "XXX.XXX",
    "X.X.X.X",
    "XXX.XXX",
    ".......",
    "XXX.X.X",
    "X.X..X.",
    "XXX.X.X",
]


def png(path, size, mark_fraction):
    mark_px = int(size * mark_fraction)
    module = mark_px // 7
    mark_px = module * 7
    off = (size - mark_px) // 2
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            c = THEME
            mx, my = x - off, y - off
            if 0 <= mx < mark_px and 0 <= my < mark_px:
                if MARK[my // module][mx // module] == "X":
                    c = WHITE
            row += bytes(c)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw)
                + chunk(b"IEND", b""))


png("icon-192.png", 192, 0.7)
png("icon-512.png", 512, 0.7)
png("maskable-512.png", 512, 0.5)
