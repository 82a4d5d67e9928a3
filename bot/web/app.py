"""The web application: webhooks, merchant API, hosted pages, health.

The sandbox's emulators are not imported here: whoever runs the sandbox (the demo, the tests,
`python -m sandbox serve`) passes them as a mount, so a production process never loads them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import suppress
from pathlib import Path

from aiohttp import web
from redis import exceptions as redis_errors

from bot.clock import Clock
from bot.engine.spool import InboundSpool, SpoolReplayer
from bot.engine.worker import Worker
from bot.logs import log_fields
from bot.services import Services, open_services
from bot.settings import Settings
from bot.store.sender_routes import SenderRoutes
from bot.web.api import setup_api
from bot.web.api_desk import setup_api_desk
from bot.web.api_lists import setup_api_lists
from bot.web.api_logo import setup_api_logo
from bot.web.api_webhooks import setup_api_webhooks
from bot.web.app_keys import BACKGROUND, SENDER_ROUTES, SERVICES, SPOOL, SPOOL_REPLAYER
from bot.web.brand import setup_brand
from bot.web.campaigns import setup_campaigns
from bot.web.console import setup_console
from bot.web.dashboard import setup_dashboard
from bot.web.desk_logo import setup_logo
from bot.web.documents import invoice_archiver, setup_documents
from bot.web.exports import setup_exports
from bot.web.gdpr import setup_gdpr
from bot.web.offers import setup_offers
from bot.web.openapi import setup_openapi
from bot.web.pages import (
    not_found_page,
    service_unavailable_page,
    setup_pages,
    unexpected_error_page,
)
from bot.web.shops import setup_shops
from bot.web.webhooks import setup_webhooks

log = logging.getLogger(__name__)

WORKER = web.AppKey("worker", Worker)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Mount = Callable[[web.Application], None]
"""Adds routes or a sub-application to the app being built (the sandbox's emulators)."""


# Redis is down, frozen, loading, failing over or full: the request may succeed later (503).
# Any other Redis error (WRONGTYPE...) is a bug and answers 500 like any other.
REDIS_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,
    redis_errors.OutOfMemoryError,
    redis_errors.TryAgainError,
    redis_errors.ClusterDownError,
)
HSTS = "max-age=31536000"  # one year; no includeSubDomains: the merchant's domain is not ours
SERVER_NAME = "Facto"  # instead of aiohttp's "Python/3.x aiohttp/3.x"


def _hardening_hook(https: bool) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """Headers on every response, including aiohttp's own 404/405/500 and static files.

    `on_response_prepare` runs for every prepared response of a routed request, after
    aiohttp's defaults are set, so it also replaces the `Server` header that names versions.
    """

    async def harden(_request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers["Server"] = SERVER_NAME
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)

    return harden


def _machine_path(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/webhooks/"))


@web.middleware
async def unexpected_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outside HTTP errors: Redis unavailable is a 503, anything else a plain 500.

    Never aiohttp's own 500 page, never a traceback: JSON for machines (API, webhooks), a page
    in the visitor's language for people.
    """
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except REDIS_UNAVAILABLE:
        log.exception("redis unavailable", extra=log_fields(path=request.path))
        if _machine_path(request):
            return web.json_response(
                {"error": "temporarily unavailable"}, status=503, headers={"Retry-After": "5"}
            )
        return service_unavailable_page(request)
    except Exception:
        log.exception("unexpected error", extra=log_fields(path=request.path))
        if _machine_path(request):
            return web.json_response({"error": "internal error"}, status=500)
        return unexpected_error_page(request)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's HTTP errors (413, 405, 404...) into JSON on API and webhook paths."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith(("/api/", "/webhooks/")):
            raise
        return web.json_response({"error": exc.reason}, status=exc.status, headers=_allow(exc))


@web.middleware
async def page_not_found(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's plain-text 404 becomes the 404 page, in the visitor's language, for people."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if _machine_path(request) or request.path.startswith("/sandbox/"):
            raise
        return not_found_page(request)


def _allow(exc: web.HTTPException) -> dict[str, str]:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else {}


def create_app(
    settings: Settings,
    *,
    redis_url: str,
    clock: Clock,
    run_worker: bool = False,
    mounts: Sequence[Mount] = (),
) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[unexpected_errors, json_errors, page_not_found],
    )
    app.on_response_prepare.append(
        _hardening_hook(settings.public_base_url.startswith("https://"))
    )
    app[BACKGROUND] = set()
    app.cleanup_ctx.append(_services_ctx(settings, redis_url, clock))
    app.cleanup_ctx.append(_spool_ctx)
    app.cleanup_ctx.append(_sender_routes_ctx)
    if run_worker:
        app.cleanup_ctx.append(_worker_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    setup_webhooks(app)
    setup_api(app)
    setup_api_desk(app)
    setup_api_lists(app)
    setup_api_webhooks(app)
    setup_api_logo(app)
    setup_openapi(app)
    setup_campaigns(app)
    setup_offers(app)
    setup_pages(app)
    setup_brand(app)  # the merchant's colour on those pages
    setup_logo(app)  # and its logo (uploaded in Settings)
    setup_documents(app)
    setup_exports(app)
    setup_gdpr(app)
    setup_shops(app)
    setup_console(app)
    setup_dashboard(app)
    for mount in mounts:
        mount(app)
    return app


def _services_ctx(
    settings: Settings, redis_url: str, clock: Clock
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_services(settings, redis_url, clock) as services:
            app[SERVICES] = services
            yield
            tasks = app[BACKGROUND]
            pending = list(tasks)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    return ctx


async def _spool_ctx(app: web.Application) -> AsyncIterator[None]:
    """The inbound spool, replayed into Redis at start and whenever Redis comes back."""
    services = app[SERVICES]
    spool = InboundSpool(Path(services.settings.inbound_spool_dir))
    replayer = SpoolReplayer(spool, services.redis)
    app[SPOOL], app[SPOOL_REPLAYER] = spool, replayer
    task = asyncio.create_task(replayer.run())
    yield
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def _sender_routes_ctx(app: web.Application) -> AsyncIterator[None]:
    """Inbound routing remembered per process, dropped on every sender change."""
    services = app[SERVICES]
    routes = SenderRoutes(services.redis, changes=services.sender_changes)
    app[SENDER_ROUTES] = routes
    task = asyncio.create_task(routes.listen())
    yield
    routes.stop()  # ends the task even if the cancellation below is lost in the Redis client
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def _worker_ctx(app: web.Application) -> AsyncIterator[None]:
    worker = Worker(app[SERVICES], archive_invoice=invoice_archiver(app[SERVICES]))
    app[WORKER] = worker
    task = asyncio.create_task(worker.run())
    yield
    worker.stop()
    with suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    try:
        await services.redis.ping()
    except Exception:  # any failure means "not ready"; the reason goes to the log
        log.exception("readiness check failed")
        return web.json_response({"status": "redis unreachable"}, status=503)
    return web.json_response({"status": "ready"})
