"""The merchant's logo: uploaded and removed in Settings (owners only), shown in the header
of its customers' pages and of its invoices' PDFs.

The upload is a multipart form read here part by part under our own cap (the app's body limit
is far below a logo's, and one upload should not raise it for every route). The file is
checked and re-encoded (bot.web.logo_image) before it is stored; a refused file changes
nothing, the previous logo stays. Stored per merchant (bot.store.logos) and served at an
address carrying its version, so browsers keep it a year; the customers' copy is reached
through their page's own token, so a page only ever shows its own merchant's logo and no
merchant id is revealed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import BodyPartReader, web

from bot.logs import log_fields
from bot.store import invoices, logos
from bot.store.payments import credit_note_by_token
from bot.web.app_keys import SERVICES
from bot.web.console_auth import Agent, action, current_agent, page, redirect, same_origin
from bot.web.desk_settings import BASE, audit, owner_only, settings_view
from bot.web.logo_image import MAX_BYTES, LogoError, RefusedLogo, clean_logo
from bot.web.pages import by_token

log = logging.getLogger(__name__)

LOGO = BASE + "/logo"
FIELD = "logo"
# Room for the CSRF field, the part headers and the boundaries around the file.
FORM_OVERHEAD = 16 * 1024
CSRF_MAX = 256
IMAGE_HEADERS = {
    "Content-Type": "image/png",
    "X-Content-Type-Options": "nosniff",
    # Opened on its own, it is an image and nothing else.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    # The address changes with the logo. Private: a customer's copy is reached through their
    # own link, so only their browser ever asks for that address again.
    "Cache-Control": "private, max-age=31536000, immutable",
}


def setup_logo(app: web.Application) -> None:
    app.router.add_post(LOGO, upload_logo)
    app.router.add_post(LOGO + "/remove", remove_logo)
    app.router.add_get(LOGO + "/{version}.png", settings_logo)
    app.router.add_get("/i/{token}/logo/{version}.png", invoice_logo)
    app.router.add_get("/a/{token}/logo/{version}.png", credit_note_logo)


@dataclass(frozen=True, slots=True)
class Upload:
    csrf: str
    file: bytes | None  # None: no file chosen (or no `logo` field at all)


async def upload_logo(request: web.Request) -> web.StreamResponse:
    """`POST …/settings/logo` (multipart): like `action`, but the body is read here."""
    agent = await current_agent(request)
    if agent is None:
        raise web.HTTPUnauthorized(text="log in again")
    if not same_origin(request):
        raise web.HTTPForbidden(text="invalid or missing CSRF token: reload the page")
    owner_only(agent)
    try:
        upload = await read_upload(request)
    except RefusedLogo as exc:
        # Nothing was stored: the page says why, the CSRF token is not needed to say it.
        return await _refused(request, agent, exc.reason, status=413)
    if not secrets.compare_digest(upload.csrf, agent.session.csrf):
        raise web.HTTPForbidden(text="invalid or missing CSRF token: reload the page")
    if upload.file is None:
        return await _refused(request, agent, LogoError.MISSING)
    try:
        clean = await asyncio.to_thread(clean_logo, upload.file)
    except RefusedLogo as exc:
        status = 413 if exc.reason is LogoError.TOO_BIG else 422
        return await _refused(request, agent, exc.reason, status=status)
    services = request.app[SERVICES]
    merchant_id = agent.user.merchant_id
    logo = await logos.replace(services.redis, merchant_id, clean.png, clean.width, clean.height)
    await audit(request, agent, "logo_changed", f"{logo.width}×{logo.height} {logo.version}")
    log.info("logo changed", extra=log_fields(user=agent.user.id, size=len(clean.png)))
    return redirect(BASE + "?logo=saved#logo")


async def _refused(
    request: web.Request, agent: Agent, reason: LogoError, status: int = 422
) -> web.Response:
    return await settings_view(request, agent, status=status, errors={FIELD: reason.code})


async def read_upload(request: web.Request) -> Upload:
    """The CSRF token and the `logo` file of a multipart form, at most MAX_BYTES of file.

    RefusedLogo(TOO_BIG) as soon as the body is known to be larger (its Content-Length, or
    what was read so far); a body that is not a multipart form holds no file."""
    total = MAX_BYTES + FORM_OVERHEAD
    if request.content_length is not None and request.content_length > total:
        raise RefusedLogo(LogoError.TOO_BIG)
    if request.content_type != "multipart/form-data":
        form = await request.post()  # small: the app's body limit applies
        return Upload(str(form.get("csrf") or request.headers.get("X-CSRF-Token") or ""), None)
    csrf, file, left = request.headers.get("X-CSRF-Token", ""), None, total
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise web.HTTPBadRequest(text="nested multipart parts are not accepted")
            # Other fields are read and dropped, within the whole form's allowance.
            cap = {FIELD: MAX_BYTES, "csrf": CSRF_MAX}.get(part.name or "", left)
            data = await _read_part(part, min(cap, left))
            left -= len(data)
            if part.name == "csrf":
                csrf = data.decode("utf-8", "replace")
            elif part.name == FIELD and file is None and (data or part.filename):
                file = data  # empty with a file name: an empty file, said so later
    except RefusedLogo:
        raise
    except (ValueError, AssertionError, LookupError) as exc:
        # aiohttp's multipart parser on a malformed body (bad boundary, headers, lengths).
        raise web.HTTPBadRequest(text="malformed multipart form") from exc
    return Upload(csrf, file)


async def _read_part(part: BodyPartReader, cap: int) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > cap:
            raise RefusedLogo(LogoError.TOO_BIG)
    return bytes(data)


@action
async def remove_logo(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    if await logos.remove(services.redis, agent.user.merchant_id):
        await audit(request, agent, "logo_removed", "")
    return redirect(BASE + "#logo")


@page
async def settings_logo(request: web.Request, agent: Agent) -> web.StreamResponse:
    """The Settings page's preview of the current logo."""
    owner_only(agent)
    return await _served(request, agent.user.merchant_id)


async def invoice_logo(request: web.Request) -> web.StreamResponse:
    return await _by_page_token(request, invoices.by_view_token)


async def credit_note_logo(request: web.Request) -> web.StreamResponse:
    return await _by_page_token(request, credit_note_by_token)


class _OfMerchant(Protocol):
    @property
    def merchant_id(self) -> str: ...


async def _by_page_token(
    request: web.Request, find: Callable[..., Awaitable[_OfMerchant | None]]
) -> web.StreamResponse:
    found = await by_token(request, find)
    if isinstance(found, web.StreamResponse):
        return found
    return await _served(request, found.merchant_id)


async def _served(request: web.Request, merchant_id: str) -> web.Response:
    """The merchant's logo if `version` is its current one: an old address is a 404 (its
    page is not shown any more anyway: pages are never cached)."""
    logo = await logos.current(request.app[SERVICES].redis, merchant_id)
    if logo is None or not secrets.compare_digest(logo.version, request.match_info["version"]):
        raise web.HTTPNotFound(text="no such logo")
    return web.Response(body=logo.png, headers=IMAGE_HEADERS)
