"""What the sandbox sub-app owns at run time: its HTTP session, its background tasks, and the
typed keys under which handlers find settings, state and templates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jinja2
from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.settings import Settings, secret
from sandbox.state import SandboxState

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 15


class Runtime:
    """The sandbox's one `ClientSession` (webhooks to our own server) and its tasks."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_SECONDS)
        )

    async def close(self) -> None:
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` in the background; it is cancelled and awaited on cleanup."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sandbox background delivery failed", exc_info=task.exception())

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int | None:
        """POST to a webhook; the HTTP status, or None when it could not be reached."""
        if self._session is None:
            raise RuntimeError("sandbox runtime used outside the app's lifetime")
        try:
            async with self._session.post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError) as e:
            log.warning("sandbox could not deliver to %s: %r", url, e)
            return None

    async def post_twilio_form(
        self, url: str, params: dict[str, str], auth_token: str
    ) -> int | None:
        """A form POST signed like Twilio signs its webhooks."""
        signature = RequestValidator(auth_token).compute_signature(url, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
        }
        return await self.post(url, urlencode(params).encode(), headers)


SETTINGS_KEY = web.AppKey("facto_sandbox_settings", Settings)
STATE_KEY = web.AppKey("facto_sandbox_state", SandboxState)
RUNTIME_KEY = web.AppKey("facto_sandbox_runtime", Runtime)
TEMPLATES_KEY = web.AppKey("facto_sandbox_templates", jinja2.Environment)


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS_KEY]


def state_of(request: web.Request) -> SandboxState:
    return request.app[STATE_KEY]


def runtime_of(request: web.Request) -> Runtime:
    return request.app[RUNTIME_KEY]


def twilio_token(settings: Settings) -> str:
    return secret(settings.twilio_auth_token)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    html = request.app[TEMPLATES_KEY].get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def status_response(status: int | None, body: dict[str, Any]) -> web.Response:
    """Answer with the status our webhook gave (502 when it could not be reached)."""
    if status is None or status < 200:
        return web.json_response({**body, "error": "webhook unreachable"}, status=502)
    if status in (204, 304):
        return web.Response(status=status)
    return web.json_response({**body, "webhook_status": status}, status=status)
