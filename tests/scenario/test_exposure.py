"""Bad input and exposure (issue 15): what a hostile or unlucky client must never get.

Nested JSON, invisible characters, a Redis outage, the framework's own error pages, guessable
link tokens and card numbers typed in chat: each gets a precise answer, never a 500, a bare
framework page, a version string, a key per guess or a card number at rest.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FakeClock
from bot.embedded_redis import EmbeddedRedis, free_port
from bot.store import keys
from bot.store.conversations import transcript
from bot.store.invoices import hash_link_token
from bot.web.app import create_app
from tests.scenario.harness import Facto, invoice_body, sandbox_settings, start_facto

TELEGRAM = {"X-Telegram-Bot-Api-Secret-Token": "sandbox-telegram-secret"}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture
async def outage(facto: Facto) -> AsyncIterator[Facto]:
    """The same app, with a Redis that is not there (connection refused)."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    broken = await start_facto(dead, facto.redis, prepare_worker=False)
    yield broken
    await broken.client.close()


def assert_security_headers(response: Any) -> None:
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("X-Frame-Options") == "DENY"
    server = response.headers.get("Server", "")
    assert "Python" not in server and "aiohttp" not in server
    assert not any(c.isdigit() for c in server), server


# --- nested JSON -------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [64, 20_000])
async def test_deeply_nested_json_is_400_on_the_api(facto: Facto, depth: int) -> None:
    response = await facto.client.post(
        "/api/v1/invoices",
        data=nested(depth),
        headers={"Authorization": f"Bearer {facto.api_key}", "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert "nested" in (await response.json())["error"]


@pytest.mark.parametrize("depth", [64, 20_000])
async def test_deeply_nested_json_is_400_on_the_telegram_webhook(facto: Facto, depth: int) -> None:
    update = b'{"update_id": 1, "message": ' + nested(depth) + b"}"
    response = await facto.client.post(
        "/webhooks/telegram",
        data=update,
        headers={**TELEGRAM, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert await facto.redis.scard(keys.PIPELINE_PENDING) == 0


async def test_invisible_character_in_a_customer_name_is_422_naming_it(facto: Facto) -> None:
    body = invoice_body()
    body["customer"]["name"] = "Camille \u202eNITRAM"
    response = await facto.post_invoice(body)
    assert response.status == 422
    [error] = (await response.json())["fields"]
    assert error["field"] == "customer.name" and "U+202E" in error["message"]


# --- headers -----------------------------------------------------------------------------


async def test_framework_404_and_405_carry_the_security_headers(facto: Facto) -> None:
    for path, method in (
        ("/nothing-here", "GET"),
        ("/api/v1/nothing", "GET"),
        ("/webhooks/stripe", "GET"),
        ("/healthz", "DELETE"),
        ("/static/nothing.css", "GET"),
    ):
        response = await facto.client.request(method, path)
        assert response.status in (404, 405), path
        assert_security_headers(response)
    assert_security_headers(await facto.client.get("/healthz"))


async def test_an_unexpected_error_is_a_plain_500_with_the_security_headers(
    redis_server: EmbeddedRedis,
) -> None:
    """A bug in any handler: no traceback, no framework page, the same headers."""
    port = free_port()
    app = create_app(
        sandbox_settings(port, redis_server.url), redis_url=redis_server.url, clock=FakeClock()
    )

    async def broken(_request: web.Request) -> web.Response:
        msg = "a bug"
        raise RuntimeError(msg)

    app.router.add_get("/api/v1/broken", broken)
    app.router.add_get("/broken", broken)
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1", port=port))
    await client.start_server()
    try:
        api = await client.get("/api/v1/broken")
        assert api.status == 500
        assert await api.json() == {"error": "internal error"}
        assert_security_headers(api)
        page = await client.get("/broken", headers={"Accept": "text/html"})
        assert page.status == 500
        text = await page.text()
        assert "Traceback" not in text and "a bug" not in text
        assert_security_headers(page)
    finally:
        await client.close()


async def test_hsts_only_when_the_public_url_is_https(redis_server: EmbeddedRedis) -> None:
    port = free_port()
    settings = sandbox_settings(port, redis_server.url)
    settings.public_base_url = "https://pay.example.fr"
    app = create_app(settings, redis_url=redis_server.url, clock=FakeClock())
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1", port=port))
    await client.start_server()
    try:
        for path in ("/healthz", "/nothing"):
            hsts = (await client.get(path)).headers.get("Strict-Transport-Security", "")
            max_age = int(hsts.removeprefix("max-age=").split(";")[0])
            assert max_age >= 180 * 24 * 3600
    finally:
        await client.close()


async def test_no_hsts_over_plain_http(facto: Facto) -> None:
    assert "Strict-Transport-Security" not in (await facto.client.get("/healthz")).headers


# --- Redis outage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en-GB,en;q=0.9", "temporarily unavailable"), ("fr-FR,fr;q=0.9", "momentanément")],
)
async def test_pages_during_a_redis_outage_are_a_friendly_503(
    outage: Facto, language: str, expected: str
) -> None:
    token = secrets.token_urlsafe(16)
    for path in (f"/p/{token}", f"/i/{token}", f"/p/{token}/2"):
        response = await outage.client.get(path, headers={"Accept-Language": language})
        assert response.status == 503, path
        assert response.content_type == "text/html"
        assert response.headers.get("Retry-After")
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert_security_headers(response)
        assert expected in (await response.text()).lower()


async def test_api_reads_during_a_redis_outage_are_503(outage: Facto) -> None:
    auth = {"Authorization": "Bearer fk_" + "x" * 43}
    for path in ("/api/v1/invoices/inv_1", "/api/v1/conversations?status=waiting_agent"):
        response = await outage.client.get(path, headers=auth)
        assert response.status == 503, path
        assert "error" in await response.json()
        assert_security_headers(response)


# --- link tokens -------------------------------------------------------------------------


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


async def all_keys(redis: aioredis.Redis) -> list[str]:
    return [key async for key in redis.scan_iter(count=1000)]


async def test_link_tokens_are_stored_hashed(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    pay, view = token_of(created["pay_url"]), token_of(created["invoice_url"])
    names = await all_keys(facto.redis)
    assert not [name for name in names if pay in name or view in name]
    assert keys.pay_token(hash_link_token(pay)) in names
    assert (await facto.client.get(f"/i/{view}")).status == 200
    assert (await facto.client.post(f"/p/{pay}", allow_redirects=False)).status == 303


async def test_links_stored_before_hashing_keep_working_and_are_migrated(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    pay, view = token_of(created["pay_url"]), token_of(created["invoice_url"])
    # As an earlier version stored them: the token itself in the key name.
    await facto.redis.rename(keys.pay_token(hash_link_token(pay)), f"token:pay:{pay}")
    await facto.redis.rename(keys.view_token(hash_link_token(view)), f"token:view:{view}")

    assert (await facto.client.get(f"/i/{view}")).status == 200
    assert (await facto.client.post(f"/p/{pay}", allow_redirects=False)).status == 303
    names = await all_keys(facto.redis)
    assert not [name for name in names if pay in name or view in name]
    assert (await facto.client.get(f"/i/{view}")).status == 200


async def test_a_stored_digest_does_not_open_the_link_it_names(facto: Facto) -> None:
    """Someone who read a Redis dump sees digests; those are not tokens."""
    created = await facto.issue(invoice_body())
    view = token_of(created["invoice_url"])
    assert (await facto.client.get(f"/i/{hash_link_token(view)}")).status == 404


async def test_guessing_link_tokens_is_throttled_per_address_across_tokens(facto: Facto) -> None:
    """TESTCASES 60: 200 random tokens from one address: 429 well before the end."""
    created = await facto.issue(invoice_body())
    before = len(await all_keys(facto.redis))
    statuses = []
    for i in range(200):
        prefix = "/p/" if i % 2 else "/i/"
        response = await facto.client.get(prefix + secrets.token_urlsafe(16))
        statuses.append(response.status)
    assert 404 in statuses and statuses[-1] == 429
    assert statuses.index(429) <= 30
    assert set(statuses) == {404, 429}
    # One counter for the address, not one key per guess.
    assert len(await all_keys(facto.redis)) - before <= 2
    # Throttled across tokens: even a real link waits; a minute later it opens again.
    assert (await facto.client.get(f"/i/{token_of(created['invoice_url'])}")).status == 429
    facto.clock.advance(61)
    assert (await facto.client.get(f"/i/{token_of(created['invoice_url'])}")).status == 200


async def test_a_customer_opening_their_own_links_is_never_throttled(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    for _ in range(40):
        assert (await facto.client.get(f"/i/{token_of(created['invoice_url'])}")).status == 200


# --- card numbers ------------------------------------------------------------------------


async def test_card_number_is_redacted_before_it_reaches_the_inbox(facto: Facto) -> None:
    """TESTCASES 65: never at rest, not even in the inbox before dispatch."""
    await facto.issue(invoice_body())
    response = await facto.client.post(
        "/sandbox/api/customer/telegram/424242",
        json={"text": "voici ma carte 4242 4242 4242 4242 exp 12/28"},
    )
    assert response.status == 200
    inbox = await facto.redis.lrange(keys.conv_inbox("telegram:424242"), 0, -1)
    assert len(inbox) == 1
    assert "4242 4242" not in inbox[0] and "[CARD REDACTED]" in inbox[0]

    await facto.drain()
    reply = (await facto.messages("telegram", "424242"))[-1]["text"]
    assert "n'envoyez jamais" in reply.lower()
    said = [e["text"] for e in await transcript(facto.redis, "telegram:424242")]
    assert not any("4242 4242" in entry for entry in said)


async def test_card_warning_in_english_over_sms(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", "+447911123456", locale="en"))
    await facto.customer_says("sms", "+447911123456", "card 4000-0566-5566-5556 cvc 123")
    reply = (await facto.messages("sms", "+447911123456"))[-1]["text"]
    assert "never send" in reply.lower()
    assert "4000" not in reply


async def test_a_long_order_number_that_is_not_a_card_is_kept(facto: Facto) -> None:
    await facto.issue(invoice_body())
    await facto.customer_says("telegram", "424242", "commande 1234 5678 9012 3456")
    said = [e["text"] for e in await transcript(facto.redis, "telegram:424242")]
    assert any("1234 5678 9012 3456" in entry for entry in said)
    reply = (await facto.messages("telegram", "424242"))[-1]["text"]
    assert "n'envoyez jamais" not in reply.lower()


async def test_card_warning_without_an_invoice(facto: Facto) -> None:
    await facto.customer_says("telegram", "777", "4242424242424242")
    [reply] = await facto.messages("telegram", "777")
    assert "n'envoyez jamais" in reply["text"].lower() and "/p/" not in reply["text"]
