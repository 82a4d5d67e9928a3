"""`/api/v1/logo`: the merchant's logo over the API, as in Settings (bot.web.desk_logo).

`PUT` takes the image itself as the body, whatever Content-Type is sent (the type is read
from the bytes), checked and re-encoded like an upload in Settings; `GET` describes the
current logo; `DELETE` removes it. A refused image changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.services import Services
from bot.store import logos
from bot.store.merchants import Merchant
from bot.web.api import authenticated, error
from bot.web.logo_image import MAX_BYTES, LogoError, RefusedLogo, clean_logo

PATH = "/api/v1/logo"


def setup_api_logo(app: web.Application) -> None:
    app.router.add_get(PATH, authenticated(read_logo))
    app.router.add_put(PATH, authenticated(put_logo))
    app.router.add_delete(PATH, authenticated(delete_logo))


def described(logo: logos.Logo) -> dict[str, Any]:
    return {
        "version": logo.version,
        "width": logo.width,
        "height": logo.height,
        "content_type": "image/png",
        "bytes": len(logo.png),
    }


def _refused(reason: LogoError) -> web.Response:
    status = 413 if reason is LogoError.TOO_BIG else 422
    return error(status, reason.value, code=reason.code)


async def read_logo(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    logo = await logos.current(services.redis, merchant.id)
    if logo is None:
        return error(404, "no logo")
    return web.json_response(described(logo))


async def put_logo(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    try:
        body = await _body(request)
        clean = await asyncio.to_thread(clean_logo, body)
    except RefusedLogo as exc:
        return _refused(exc.reason)
    logo = await logos.replace(services.redis, merchant.id, clean.png, clean.width, clean.height)
    return web.json_response(described(logo))


async def delete_logo(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    if not await logos.remove(services.redis, merchant.id):
        return error(404, "no logo")
    return web.Response(status=204)


async def _body(request: web.Request) -> bytes:
    """The body, at most MAX_BYTES: read here, as the app's body limit is for JSON."""
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise RefusedLogo(LogoError.TOO_BIG)
    data = bytearray()
    while chunk := await request.content.read(64 * 1024):
        data += chunk
        if len(data) > MAX_BYTES:
            raise RefusedLogo(LogoError.TOO_BIG)
    return bytes(data)
