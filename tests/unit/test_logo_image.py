"""The logo upload's checks and re-encoding (bot.web.logo_image): a table of hostile files,
each refused for its own reason or defused, and any bytes at all give a clean PNG or a
refusal, never another exception."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from bot.web.logo_image import BOX, MAX_BYTES, LogoError, RefusedLogo, clean_logo

SCRIPT = b"<script>alert(document.cookie)</script>"


def png(size: tuple[int, int] = (800, 300), mode: str = "RGBA", **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "#2b59c3").save(out, "PNG", **save)
    return out.getvalue()


def jpeg_with_exif(size: tuple[int, int] = (300, 600)) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif[0x010F] = "SecretCam GPS 48.85,2.35"  # a maker tag the merchant never meant to publish
    out = io.BytesIO()
    Image.new("RGB", size, "#ffd700").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def webp(size: tuple[int, int] = (120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (255, 0, 0, 100)).save(out, "WEBP")
    return out.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, rows: int = 1) -> bytes:
    """A grey PNG whose header declares `width`×`height` with `rows` rows of zeros: a few
    hundred bytes that would decode into gigabytes (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (1 + width) * rows, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    return png(pnginfo=info)


HOSTILE: list[tuple[str, bytes, LogoError]] = [
    ("zero bytes", b"", LogoError.EMPTY),
    ("text", b"hello, not an image", LogoError.NOT_IMAGE),
    ("html", b"<!doctype html>" + SCRIPT, LogoError.NOT_IMAGE),
    (
        "svg with script",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>",
        LogoError.SVG,
    ),
    ("svg with a BOM and spaces", b"\xef\xbb\xbf  \n<svg onload=alert(1)/>", LogoError.SVG),
    ("gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", LogoError.UNSUPPORTED),
    ("bmp", b"BM" + b"\x00" * 60, LogoError.UNSUPPORTED),
    ("heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20, LogoError.UNSUPPORTED),
    ("truncated png", png()[:120], LogoError.DAMAGED),
    ("png magic, then garbage", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, LogoError.DAMAGED),
    ("jpeg magic, then garbage", b"\xff\xd8\xff" + b"\x13" * 500, LogoError.DAMAGED),
    (
        "webp magic, then garbage",
        b"RIFF\x00\x01\x00\x00WEBPVP8 " + b"\x07" * 100,
        LogoError.DAMAGED,
    ),
    ("bomb 100000 × 100000", png_declaring(100_000, 100_000), LogoError.DIMENSIONS),
    ("bomb 20000 × 20000", png_declaring(20_000, 20_000), LogoError.DIMENSIONS),
    ("6001 px wide", png_declaring(6_001, 10), LogoError.DIMENSIONS),
    ("4000 × 4000 (16 Mpx)", png_declaring(4_000, 4_000), LogoError.DIMENSIONS),
    ("over the size limit", png() + b"\x00" * MAX_BYTES, LogoError.TOO_BIG),
]


@pytest.mark.parametrize(("what", "data", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_for_their_own_reason(
    what: str, data: bytes, reason: LogoError
) -> None:
    with pytest.raises(RefusedLogo) as refused:
        clean_logo(data)
    assert refused.value.reason is reason, what


DEFUSED: list[tuple[str, bytes]] = [
    ("png + html appended (polyglot)", png() + b"<html><body>" + SCRIPT),
    ("png with a script in a text chunk", png_with_text()),
    ("jpeg with exif and a comment", jpeg_with_exif()),
    ("zip appended to a jpeg", jpeg_with_exif() + b"PK\x03\x04" + SCRIPT),
]


@pytest.mark.parametrize(("what", "data"), DEFUSED, ids=[d[0] for d in DEFUSED])
def test_files_with_passengers_come_out_as_bare_pngs(what: str, data: bytes) -> None:
    clean = clean_logo(data)
    assert clean.png.startswith(b"\x89PNG\r\n\x1a\n"), what
    for passenger in (SCRIPT, b"<html", b"PK\x03\x04", b"SecretCam", b"Exif", b"tEXt", b"iCCP"):
        assert passenger not in clean.png, (what, passenger)
    with Image.open(io.BytesIO(clean.png)) as shown:
        assert shown.format == "PNG" and not shown.info.get("exif")
        assert shown.size == (clean.width, clean.height)


def test_a_logo_is_shrunk_into_the_box_keeping_its_shape_and_never_enlarged() -> None:
    wide = clean_logo(png((1600, 400)))
    assert (wide.width, wide.height) == (400, 100)
    tall = clean_logo(png((300, 900), mode="RGB"))
    assert (tall.width, tall.height) == (53, 160)
    small = clean_logo(webp((120, 60)))
    assert (small.width, small.height) == (120, 60)  # a small logo stays sharp
    with Image.open(io.BytesIO(small.png)) as shown:
        assert shown.mode == "RGBA"  # its transparency kept
    upright = clean_logo(jpeg_with_exif((300, 600)))
    # 300 × 600 turned by its EXIF orientation: 600 × 300, shown 320 × 160.
    assert (upright.width, upright.height) == (320, 160)


def test_sixteen_bit_grey_keeps_its_shade() -> None:
    out = io.BytesIO()
    Image.new("I;16", (40, 20), 40_000).save(out, "PNG")
    with Image.open(io.BytesIO(clean_logo(out.getvalue()).png)) as shown:
        assert shown.getpixel((0, 0)) == (156, 156, 156)  # 40000 / 65535 of white


def test_a_large_photo_within_the_limits_is_accepted() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), "#123456").save(out, "JPEG", quality=40)
    assert len(out.getvalue()) <= MAX_BYTES
    clean = clean_logo(out.getvalue())
    assert (clean.width, clean.height) == (213, 160)


@given(st.binary(max_size=2048))
def test_any_bytes_give_a_png_or_a_refusal(data: bytes) -> None:
    try:
        clean = clean_logo(data)
    except RefusedLogo:
        return
    assert clean.png.startswith(b"\x89PNG")


VALID = png((64, 32))


@given(st.integers(min_value=8, max_value=len(VALID) - 1), st.binary(min_size=1, max_size=16))
def test_a_damaged_png_gives_a_png_or_a_refusal(at: int, garbage: bytes) -> None:
    data = VALID[:at] + garbage + VALID[at + len(garbage) :]
    try:
        clean = clean_logo(data)
    except RefusedLogo as refused:
        assert refused.reason in (LogoError.DAMAGED, LogoError.DIMENSIONS)
        return
    assert clean.width <= BOX[0] and clean.height <= BOX[1]
