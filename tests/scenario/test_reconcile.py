"""The sweep finds payments whose webhook never arrived, and never counts one twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from tests.scenario.harness import Facto, invoice_body, start_facto


@pytest.fixture
async def deaf(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    """A Facto whose Stripe webhooks are all lost on the way (wrong endpoint registered)."""
    app = await start_facto(redis_server.url, redis, stripe_webhook_path="/webhooks/lost")
    await app.add_merchant()
    yield app
    await app.client.close()


async def pay_by_card(facto: Facto, pay_url: str) -> str:
    response = await facto.client.post(urlparse(pay_url).path, allow_redirects=False)
    checkout = urlparse(response.headers["Location"]).path
    await facto.client.post(f"{checkout}/card", allow_redirects=False)
    await facto.drain()
    return checkout.rsplit("/", 1)[-1]


async def status(facto: Facto, invoice_id: str) -> dict[str, Any]:
    response = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    body: dict[str, Any] = await response.json()
    return body


async def test_a_lost_webhook_is_made_up_for_by_the_sweep(deaf: Facto) -> None:
    created = await deaf.issue(invoice_body())
    await pay_by_card(deaf, created["pay_url"])
    assert (await status(deaf, created["id"]))["status"] == "open"  # nothing arrived

    assert await deaf.worker.reconcile() == 1
    await deaf.drain()
    assert (await status(deaf, created["id"]))["status"] == "paid"
    assert "Paiement enregistré" in (await deaf.messages("telegram", "424242"))[-1]["text"]

    assert await deaf.worker.reconcile() == 0  # settled sessions are no longer tracked
    assert await deaf.redis.scard(keys.CHECKOUT_SESSIONS_OPEN) == 0


async def test_the_sweep_and_the_webhook_count_a_payment_once(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    session_id = await pay_by_card(facto, created["pay_url"])
    await facto.redis.sadd(keys.CHECKOUT_SESSIONS_OPEN, session_id)  # as if not yet settled
    await facto.worker.reconcile()
    await facto.drain()
    assert (await status(facto, created["id"]))["amount_paid"] == 8580
    receipts = [
        m for m in await facto.messages("telegram", "424242") if "Paiement enregistré" in m["text"]
    ]
    assert len(receipts) == 1


async def test_open_sessions_stay_tracked_and_expired_ones_are_dropped(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    response = await facto.client.post(urlparse(created["pay_url"]).path, allow_redirects=False)
    session_id = response.headers["Location"].rsplit("/", 1)[-1]
    assert await facto.worker.reconcile() == 0
    assert await facto.redis.sismember(keys.CHECKOUT_SESSIONS_OPEN, session_id)
    await facto.client.post(
        f"/sandbox/stripe/v1/checkout/sessions/{session_id}/expire",
        headers={"Authorization": "Bearer sk_test_sandbox"},
    )
    # Whether the sweep or the expiry's own webhook gets there first, dispatch settles it.
    await facto.worker.reconcile()
    await facto.drain()
    assert not await facto.redis.sismember(keys.CHECKOUT_SESSIONS_OPEN, session_id)
