"""`create_sandbox_app`: the emulators as one aiohttp sub-app, mounted at `/sandbox`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.settings import ConfigurationError, Settings
from sandbox import (
    api,
    clock_api,
    phone,
    stripe_api,
    stripe_checkout,
    stripe_money,
    telegram_api,
    twilio_api,
    twilio_whatsapp,
)
from sandbox.http import BadInput, json_error
from sandbox.runtime import RUNTIME_KEY, SETTINGS_KEY, STATE_KEY, TEMPLATES_KEY, Runtime
from sandbox.state import SandboxState

STATIC_DIR = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


SANDBOX = web.AppKey("sandbox_state", SandboxState)


def sandbox_mount(
    settings: Settings, state: SandboxState | None = None
) -> Callable[[web.Application], None]:
    """What `create_app(..., mounts=[...])` takes to serve the emulators under `/sandbox`:
    the demo, the tests and `python -m sandbox serve` pass it; the app itself and
    `python -m bot serve` never import this package."""

    def mount(app: web.Application) -> None:
        shared = state or SandboxState()
        app[SANDBOX] = shared
        app.add_subapp("/sandbox", create_sandbox_app(settings, shared))

    return mount


def create_sandbox_app(settings: Settings, state: SandboxState) -> web.Application:
    """The emulators, checkout page and phone simulator; mount with
    `app.add_subapp("/sandbox", create_sandbox_app(settings, state))`."""
    if not settings.sandbox:
        raise ConfigurationError("the sandbox is only served with FACTO_SANDBOX=1")
    app = web.Application(middlewares=[_security_headers, _bad_input])
    app[SETTINGS_KEY] = settings
    app[STATE_KEY] = state
    app[RUNTIME_KEY] = Runtime()
    app[TEMPLATES_KEY] = _templates()
    app.cleanup_ctx.append(_runtime_lifetime)
    for module in (
        stripe_api,
        stripe_money,
        stripe_checkout,
        twilio_api,
        twilio_whatsapp,
        telegram_api,
        api,
        clock_api,
        phone,
    ):
        module.add_routes(app)
    app.router.add_static("/static", STATIC_DIR)
    return app


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sandbox", "templates"),
        autoescape=True,  # every page shows text a customer or the bot typed
        undefined=jinja2.StrictUndefined,
    )
    env.filters["link_parts"] = phone.link_parts
    return env


async def _runtime_lifetime(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME_KEY]
    await runtime.open()
    yield
    await runtime.close()


@web.middleware
async def _bad_input(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadInput as e:
        return json_error(e.message, e.status)


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response
