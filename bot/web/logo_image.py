"""A merchant's logo upload, checked and re-encoded: nothing the merchant uploaded is served
as it came.

The type is read from the file's first bytes, never from its name or the Content-Type the
browser sent. PNG, JPEG and WebP are decoded by Pillow (only the decoder of the type found:
a file cannot pick another plugin), after their declared size is checked, so a small file
declaring a huge picture (a decompression bomb) is refused before any pixel is decoded. The
first frame is then drawn onto a fresh image (no EXIF, no ICC profile, no text chunk, nothing
appended after the image survives), shrunk into BOX and written as a PNG.

SVG is refused: it is a document that may carry scripts, external references and CSS, and
no sanitizer we could trust is at hand; merchants export their logo as PNG instead.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps

MAX_BYTES = 512 * 1024
MAX_SIDE = 6000  # pixels, either side, as the file declares it
MAX_PIXELS = 12_000_000  # a 12-megapixel phone photo at most (about 48 MB once decoded)
BOX = (400, 160)  # what the invoice page's header shows, at most


class LogoError(StrEnum):
    """Why an upload is refused; the Settings page words each one in the merchant's
    language (console/dashboard/settings.html), the API as the text here."""

    MISSING = "no file in the form field `logo`"
    EMPTY = "the file is empty"
    TOO_BIG = f"the file is larger than {MAX_BYTES // 1024} KB"
    SVG = "SVG is not accepted (it may carry scripts): export the logo as PNG"
    UNSUPPORTED = "only PNG, JPEG and WebP are accepted"
    NOT_IMAGE = "not an image: PNG, JPEG or WebP expected"
    DAMAGED = "the image cannot be read (damaged or truncated file)"
    DIMENSIONS = f"the image is too large: at most {MAX_SIDE} pixels a side, 12 megapixels"

    @property
    def code(self) -> str:
        return self.name.lower()


class RefusedLogo(ValueError):
    def __init__(self, reason: LogoError) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CleanLogo:
    png: bytes
    width: int
    height: int


def sniff(data: bytes) -> str:
    """The Pillow format the bytes start like, else raise RefusedLogo."""
    if not data:
        raise RefusedLogo(LogoError.EMPTY)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<svg" in head:
        raise RefusedLogo(LogoError.SVG)
    if data[:6] in (b"GIF87a", b"GIF89a") or data[:2] == b"BM" or data[:4] in _TIFF:
        raise RefusedLogo(LogoError.UNSUPPORTED)
    if data[4:8] == b"ftyp":  # HEIC, AVIF (phones' own formats)
        raise RefusedLogo(LogoError.UNSUPPORTED)
    raise RefusedLogo(LogoError.NOT_IMAGE)


_TIFF = (b"II*\x00", b"MM\x00*")


def clean_logo(data: bytes) -> CleanLogo:
    """The logo to store, re-encoded as PNG inside BOX; RefusedLogo says why not.

    CPU-bound: run it in a thread."""
    if len(data) > MAX_BYTES:
        raise RefusedLogo(LogoError.TOO_BIG)
    kind = sniff(data)
    try:
        return _reencode(data, kind)
    except RefusedLogo:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (the warning is raised only where warnings are errors): far
        # beyond MAX_PIXELS anyway.
        raise RefusedLogo(LogoError.DIMENSIONS) from exc
    except Exception as exc:
        # Whatever a decoder raises on a hostile or broken file (OSError, SyntaxError,
        # ValueError, struct.error, EOFError... differ by plugin and version) means the same
        # to the merchant: this file cannot be read. Never a 500.
        raise RefusedLogo(LogoError.DAMAGED) from exc


def _reencode(data: bytes, kind: str) -> CleanLogo:
    with Image.open(io.BytesIO(data), formats=[kind]) as image:
        width, height = image.size
        if width < 1 or height < 1 or max(width, height) > MAX_SIDE:
            raise RefusedLogo(LogoError.DIMENSIONS)
        if width * height > MAX_PIXELS:
            raise RefusedLogo(LogoError.DIMENSIONS)
        # JPEG only: decode at a reduced scale straight away (no-op for the others).
        image.draft("RGB", (BOX[0] * 2, BOX[1] * 2))
        image.load()
        upright = ImageOps.exif_transpose(image)
    mode = "RGBA" if _has_alpha(upright) else "RGB"
    if upright.mode.startswith("I"):
        # 16-bit grey (a PNG): brought to 8 bits first, as converting it straight to RGB
        # would clip every light grey to white.
        upright = upright.point(lambda value: value * (1 / 256)).convert("L")
    shown = upright.convert(mode)
    shown.thumbnail(BOX, Image.Resampling.LANCZOS)
    # A fresh image from the pixels alone: no metadata of the upload can follow.
    fresh = Image.frombytes(mode, shown.size, shown.tobytes())
    out = io.BytesIO()
    fresh.save(out, format="PNG", optimize=True)
    return CleanLogo(out.getvalue(), fresh.width, fresh.height)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
