"""The merchant's webhook endpoints over the API: register (the signing secret is shown once),
list, remove, and read the delivery log."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.engine.egress import host_refusal
from bot.services import Services
from bot.store import merchant_webhooks as store
from bot.store.merchants import Merchant
from bot.web.api import authenticated, error
from bot.web.bodies import json_body

MAX_URL = 2000
MAX_LOG = 500


def setup_api_webhooks(app: web.Application) -> None:
    app.router.add_post("/api/v1/webhook-endpoints", authenticated(create_endpoint))
    app.router.add_get("/api/v1/webhook-endpoints", authenticated(list_endpoints))
    app.router.add_delete(
        "/api/v1/webhook-endpoints/{endpoint_id}", authenticated(delete_endpoint)
    )
    app.router.add_get("/api/v1/webhook-deliveries", authenticated(list_deliveries))


def check_endpoint(
    body: object, *, sandbox: bool, allow_loopback: bool = False
) -> tuple[str, tuple[str, ...], list[Any]]:
    """The URL and events of a registration, and the problems found (none when valid)."""
    problems: list[dict[str, str]] = []
    if not isinstance(body, dict):
        return "", (), [{"field": "body", "message": "must be a JSON object"}]
    unknown = set(body) - {"url", "events"}
    problems += [{"field": k, "message": "is not an accepted field"} for k in sorted(unknown)]
    url = body.get("url")
    # Plain http only in the sandbox (demo, tests): the merchant's secret data goes out here.
    schemes = ("https", "http") if sandbox else ("https",)
    if not isinstance(url, str) or len(url) > MAX_URL:
        problems.append({"field": "url", "message": f"must be a URL of at most {MAX_URL} chars"})
        url = ""
    else:
        parts = urlsplit(url)
        if parts.scheme not in schemes or not parts.hostname or parts.username:
            problems.append({"field": "url", "message": "must be an https:// URL with a host"})
        elif refused := host_refusal(parts.hostname, allow_loopback=allow_loopback):
            # SSRF: Facto would make this request from inside its own network.
            problems.append({"field": "url", "message": f"must be a public address: {refused}"})
    events = body.get("events")
    if (
        not isinstance(events, list)
        or not events
        or not all(isinstance(e, str) and e in store.EVENT_TYPES for e in events)
    ):
        problems.append(
            {"field": "events", "message": "a list of: " + ", ".join(store.EVENT_TYPES)}
        )
        events = []
    return url, tuple(dict.fromkeys(events)), problems


async def create_endpoint(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    url, events, problems = check_endpoint(
        body,
        sandbox=services.settings.sandbox,
        allow_loopback=services.settings.webhooks_allow_loopback,
    )
    if problems:
        return error(422, "invalid webhook endpoint", fields=problems)
    endpoint = await store.add_endpoint(
        services.redis, merchant.id, url, events, services.clock.now()
    )
    if endpoint is None:
        return error(409, f"at most {store.MAX_ENDPOINTS} endpoints: remove one first")
    return web.json_response({**endpoint.public(), "secret": endpoint.secret}, status=201)


async def list_endpoints(
    _request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    found = await store.endpoints(services.redis, merchant.id)
    return web.json_response({"endpoints": [e.public() for e in found]})


async def delete_endpoint(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    endpoint_id = request.match_info["endpoint_id"]
    if len(endpoint_id) > 64 or not await store.remove_endpoint(
        services.redis, merchant.id, endpoint_id
    ):
        return error(404, "no such webhook endpoint")
    return web.json_response({"deleted": endpoint_id})


async def list_deliveries(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    limit = request.query.get("limit", "100")
    if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_LOG:
        fields = [{"field": "limit", "message": f"must be an integer from 1 to {MAX_LOG}"}]
        return error(422, "invalid query", fields=fields)
    log = await store.delivery_log(services.redis, merchant.id, int(limit))
    return web.json_response({"deliveries": log})
