"""Read a QR code back with zxing-cpp, from segno's matrix or from the SVG a page served."""

from __future__ import annotations

import re

import segno
import zxingcpp

_MOVE = re.compile(r"([Mmhv])(-?\d+(?:\.\d+)?)(?:\s+(-?\d+(?:\.\d+)?))?")


def decode_rows(rows: list[list[bool]], scale: int = 4) -> zxingcpp.Barcode:
    """Rasterise dark modules (True) as black pixels, with a quiet zone, and decode."""
    border = 4
    width = len(rows[0]) + 2 * border
    light = [False] * width
    padded = [light] * border + [[False] * border + r + [False] * border for r in rows]
    padded += [light] * border
    pixels = bytearray()
    for row in padded:
        line = bytes(0 if dark else 255 for dark in row for _ in range(scale))
        pixels += line * scale
    image = memoryview(bytes(pixels)).cast("B", shape=[len(padded) * scale, width * scale])
    found = zxingcpp.read_barcode(image)
    assert found is not None, "no QR code could be read"
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return found


def decode_code(code: segno.QRCode) -> zxingcpp.Barcode:
    return decode_rows([[bool(m) for m in row] for row in code.matrix])


def decode_svg(svg: str) -> zxingcpp.Barcode:
    """Decode segno's inline SVG: one path of horizontal runs ("M x y.5 h n m dx dy ...").

    Reading the served markup (not a fresh segno call) tests what the customer's camera sees.
    """
    match = re.search(r'<path[^>]*\sd="([^"]+)"', svg)
    assert match, "no path in the SVG"
    size = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg) or re.search(
        r'width="(\d+)" height="(\d+)"', svg
    )
    scale = re.search(r'transform="scale\((\d+)\)"', svg)
    assert size
    factor = int(scale.group(1)) if scale else 1
    n = int(size.group(1)) // factor
    grid = [[False] * n for _ in range(n)]
    x = y = 0.0
    for op, a, b in _MOVE.findall(match.group(1)):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        elif op == "h":
            for i in range(int(float(a))):
                grid[int(y)][int(x) + i] = True
            x += float(a)
    return decode_rows(grid)
