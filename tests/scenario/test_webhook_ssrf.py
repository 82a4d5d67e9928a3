"""Outgoing webhook URLs only reach public addresses (SSRF): refused at registration with the
reason, and again at delivery on what the name resolves to then. Loopback is allowed only by
FACTO_WEBHOOKS_ALLOW_LOOPBACK (the demo's and the other tests' receivers listen on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.embedded_redis import EmbeddedRedis
from bot.engine import egress
from bot.engine.egress import address_refusal
from bot.store import merchant_webhooks as store
from tests.scenario.harness import Facto, invoice_body, start_facto
from tests.scenario.test_money import pay


@pytest.fixture
async def strict(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    """Facto as in production: no loopback webhooks."""
    app = await start_facto(redis_server.url, redis, FACTO_WEBHOOKS_ALLOW_LOOPBACK=False)
    await app.add_merchant()
    yield app
    await app.client.close()


async def register(facto: Facto, url: str) -> tuple[int, Any]:
    response = await facto.client.post(
        "/api/v1/webhook-endpoints",
        json={"url": url, "events": ["invoice.paid"]},
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hooks", "127.0.0.1 is a loopback address"),
        ("http://[::1]/hooks", "::1 is a loopback address"),
        ("https://localhost/hooks", "localhost is an internal host name"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a cloud metadata address"),
        ("https://metadata.google.internal/", "metadata.google.internal is an internal host name"),
        ("https://169.254.10.1/hooks", "169.254.10.1 is a link-local address"),
        ("https://10.1.2.3/hooks", "10.1.2.3 is a private network address"),
        ("https://192.168.1.20/hooks", "192.168.1.20 is a private network address"),
        ("https://[fd12::1]/hooks", "fd12::1 is a private network address"),
        ("https://100.64.0.7/hooks", "100.64.0.7 is not a public address"),
        ("https://0.0.0.0/hooks", "0.0.0.0 is not a public address"),
        ("https://[::ffff:10.0.0.1]/hooks", "10.0.0.1 is a private network address"),
    ],
)
async def test_internal_addresses_are_refused_at_registration(
    strict: Facto, url: str, reason: str
) -> None:
    status, body = await register(strict, url)
    assert status == 422, body
    assert {"field": "url", "message": f"must be a public address: {reason}"} in body["fields"]


async def test_a_public_address_is_accepted(strict: Facto) -> None:
    assert (await register(strict, "https://93.184.215.14/hooks"))[0] == 201
    assert (await register(strict, "https://erp.example/hooks"))[0] == 201  # resolved later


async def test_the_loopback_setting_allows_loopback_only(facto: Facto) -> None:
    assert facto.settings.webhooks_allow_loopback
    assert (await register(facto, "http://127.0.0.1:9/hooks"))[0] == 201
    assert (await register(facto, "http://localhost:9/hooks"))[0] == 201
    for url in ("https://10.0.0.1/hooks", "http://169.254.169.254/"):
        assert (await register(facto, url))[0] == 422, url


async def test_a_name_resolving_to_loopback_is_refused_at_delivery(
    strict: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registered as a public-looking name, re-pointed at this host since: the delivery
    resolves it, refuses to connect, logs why and does not retry."""
    received: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.text())
        return web.Response()

    async def repointed(host: str, port: int) -> list[IPv4Address | IPv6Address]:
        assert host == "erp.example"  # no real DNS in tests
        return [ip_address("127.0.0.1")]

    app = web.Application()
    app.router.add_post("/hooks", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        status, body = await register(strict, f"http://erp.example:{server.port}/hooks")
        assert status == 201, body
        monkeypatch.setattr(egress, "resolve", repointed)
        created = await strict.issue(invoice_body())
        await pay(strict, created["pay_url"])
        assert await strict.worker.merchant_webhooks.run_once() == 1
    finally:
        await server.close()
    assert received == []
    assert strict.merchant is not None
    [entry] = await store.delivery_log(strict.redis, strict.merchant.id)
    assert entry["state"] == "failed"
    assert entry["error"] == "refused: 127.0.0.1 is a loopback address"


def test_mapped_and_public_addresses() -> None:
    assert address_refusal(ip_address("8.8.8.8"), allow_loopback=False) is None
    assert address_refusal(ip_address("2001:4860:4860::8888"), allow_loopback=False) is None
    assert address_refusal(ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
