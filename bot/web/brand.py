"""The merchant's colour on the customer's pages. Those pages allow no inline style (strict
CSP: `style-src 'self'`), so the colour comes as a tiny stylesheet whose address is the colour
itself, `/brand/<rrggbb>.css`: nothing about the merchant is looked up or revealed, and any
colour asked for is as harmless as it is cacheable."""

from __future__ import annotations

import re

from aiohttp import web

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
INK, WHITE = "#1d2433", "#ffffff"  # facto.css's text colour, and white


def setup_brand(app: web.Application) -> None:
    app.router.add_get(r"/brand/{rrggbb:[0-9a-f]{6}}.css", stylesheet)


def brand_colour(text: str) -> str | None:
    """A colour typed in Settings: `#rrggbb` (stored lower case), or None when left empty."""
    text = text.strip()
    if not text:
        return None
    if not _COLOUR.match(text):
        raise ValueError('expected a colour "#rrggbb" such as #2b59c3, or nothing')
    return text.lower()


def luminance(colour: str) -> float:
    """WCAG relative luminance of `#rrggbb`."""

    def linear(channel: str) -> float:
        c = int(channel, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_on(colour: str) -> str:
    """White or dark text on `colour`, whichever contrasts more (a pale colour keeps its
    button readable)."""
    lum = luminance(colour)
    with_white = 1.05 / (lum + 0.05)
    with_ink = (lum + 0.05) / (luminance(INK) + 0.05)
    return WHITE if with_white >= with_ink else INK


async def stylesheet(request: web.Request) -> web.Response:
    colour = "#" + request.match_info["rrggbb"]
    return web.Response(
        text=f":root {{ --accent: {colour}; --on-accent: {text_on(colour)}; }}\n",
        content_type="text/css",
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
