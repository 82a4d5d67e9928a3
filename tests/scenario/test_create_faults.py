"""Issuing and announcing is one atomic step, under real connection resets (issue 6 §3).

Before: during Redis connection resets, 71 of 600 creates answered 503 "nothing was issued",
yet 49 of them had taken an invoice number (34 never sent, 15 sent), so the merchant's retry
issued a second legal invoice. The app here talks to redis-server through a loopback proxy that
resets its connections (tests/faultproxy.py); the checks read Redis directly.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse

from bot.embedded_redis import EmbeddedRedis
from bot.engine import issuing
from bot.store import idempotency, keys
from tests.faultproxy import Action, ResetProxy, forward_all, proxy_in_front_of
from tests.scenario.harness import Facto, invoice_body, start_facto

# The atomic create is called by its SHA (loaded in `shaky`, as after the app's first create).
CREATE_SCRIPT = issuing.CREATE.sha.encode()


@pytest.fixture
async def proxy(redis_server: EmbeddedRedis) -> AsyncIterator[ResetProxy]:
    async with proxy_in_front_of(redis_server.url) as proxied:
        yield proxied


@pytest.fixture
async def shaky(proxy: ResetProxy, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    """Facto whose Redis connections go through the proxy."""
    app = await start_facto(proxy.url, redis)
    await app.add_merchant()
    await redis.script_load(issuing.CREATE.text)
    yield app
    proxy.plan = forward_all
    await app.client.close()


def once_on_create(action: Action) -> Any:
    """Hit the first create script that passes, then let everything through."""
    fired = False

    def plan(chunk: bytes) -> Action:
        nonlocal fired
        if not fired and CREATE_SCRIPT in chunk:
            fired = True
            return action
        return "forward"

    return plan


async def post(facto: Facto, body: Any, key: str | None) -> ClientResponse:
    headers = {"Authorization": f"Bearer {facto.api_key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await facto.client.post("/api/v1/invoices", json=body, headers=headers)


async def issued(facto: Facto) -> list[str]:
    assert facto.merchant is not None
    ids: list[str] = await facto.redis.zrange(keys.merchant_invoices(facto.merchant.id), 0, -1)
    return ids


async def announced(facto: Facto) -> int:
    """ "invoice issued" events waiting in inboxes (nothing has been dispatched yet)."""
    total = 0
    async for inbox in facto.redis.scan_iter(match="conv:*:inbox"):
        for raw in await facto.redis.lrange(inbox, 0, -1):
            total += '"type":"invoice_issued"' in raw
    return total


@pytest.mark.parametrize("key", ["order-1", None])
async def test_answer_lost_after_commit_is_settled_as_issued(
    shaky: Facto, proxy: ResetProxy, key: str | None
) -> None:
    proxy.plan = once_on_create("drop_reply")
    response = await post(shaky, invoice_body(), key)

    assert response.status == 201, await response.text()
    created = await response.json()
    assert await issued(shaky) == [created["id"]]
    assert await announced(shaky) == 1
    await shaky.drain()
    assert len(await shaky.messages("telegram", "424242")) == 1
    if key is not None:
        again = await post(shaky, invoice_body(), key)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert await again.json() == created


def every_create(action: Action) -> Any:
    """Hit every create script until the plan is changed: the outage outlasts client retries."""

    def plan(chunk: bytes) -> Action:
        return action if CREATE_SCRIPT in chunk else "forward"

    return plan


async def test_one_lost_request_is_resent_by_the_client_and_issues_once(
    shaky: Facto, proxy: ResetProxy
) -> None:
    proxy.plan = once_on_create("drop_request")
    response = await post(shaky, invoice_body(), "order-1")

    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["number"] == f"F-{shaky.clock.now().year}-000001"
    assert await issued(shaky) == [created["id"]]
    assert await announced(shaky) == 1


@pytest.mark.parametrize("key", ["order-1", None])
async def test_request_lost_before_redis_is_a_true_nothing_was_issued(
    shaky: Facto, proxy: ResetProxy, key: str | None
) -> None:
    proxy.plan = every_create("drop_request")
    response = await post(shaky, invoice_body(), key)

    assert response.status == 503
    assert "nothing was issued" in (await response.json())["error"]
    assert await issued(shaky) == []
    assert await announced(shaky) == 0
    year = shaky.clock.now().year
    assert shaky.merchant is not None
    assert await shaky.redis.get(keys.merchant_invoice_seq(shaky.merchant.id, year)) is None

    proxy.plan = forward_all
    retry = await post(shaky, invoice_body(), key)
    assert retry.status == 201 and "Idempotent-Replayed" not in retry.headers
    assert (await retry.json())["number"] == f"F-{year}-000001"


async def test_redis_gone_for_the_settlement_too_says_the_outcome_is_unknown(
    shaky: Facto, proxy: ResetProxy
) -> None:
    def plan(chunk: bytes) -> Action:
        # The create reaches Redis, then every later command on any connection is reset.
        if CREATE_SCRIPT in chunk:
            proxy.plan = lambda _chunk: "drop_request"
            return "drop_reply"
        return "forward"

    proxy.plan = plan
    response = await post(shaky, invoice_body(), "order-1")
    assert response.status == 503
    assert "same Idempotency-Key" in (await response.json())["error"]

    proxy.plan = forward_all
    shaky.clock.advance((idempotency.LOCK_FOR.total_seconds()) + 1)  # its lock could not go
    retry = await post(shaky, invoice_body(), "order-1")
    assert retry.status == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert len(await issued(shaky)) == 1


async def test_hundreds_of_creates_under_random_resets_issue_each_invoice_once(
    shaky: Facto, proxy: ResetProxy
) -> None:
    """The incident, replayed: every command may be cut before or after Redis ran it."""
    rng = random.Random(6)
    resets = {"drop_request": 0, "drop_reply": 0}

    def chaos(_chunk: bytes) -> Action:
        roll = rng.random()
        if roll < 0.06:
            resets["drop_request"] += 1
            return "drop_request"
        if roll < 0.12:
            resets["drop_reply"] += 1
            return "drop_reply"
        return "forward"

    proxy.plan = chaos
    creates = 120
    phones = [f"+336{10_000_000 + i}" for i in range(creates)]
    first_answers: dict[str, int] = {}
    for i, phone in enumerate(phones):
        key, body = f"order-{i}", invoice_body("sms", phone)
        before = len(await issued(shaky))
        response = await post(shaky, body, key)
        first_answers[key] = response.status
        if response.status == 503 and "nothing was issued" in (await response.json())["error"]:
            assert len(await issued(shaky)) == before, f"{key}: 503 but an invoice was issued"
        for _ in range(20):  # the merchant retries with the same key until it has an answer
            if response.status == 201:
                break
            if response.status == 409:
                shaky.clock.advance(idempotency.LOCK_FOR.total_seconds() + 1)
            response = await post(shaky, body, key)
        assert response.status == 201, await response.text()

    proxy.plan = forward_all
    assert shaky.merchant is not None
    merchant_id = shaky.merchant.id
    stored = [await shaky.redis.get(keys.invoice(merchant_id, i)) for i in await issued(shaky)]
    assert len(stored) == creates  # one invoice per key, whatever the retries
    year = shaky.clock.now().year
    expected = {f"F-{year}-{n:06d}" for n in range(1, creates + 1)}
    assert {_number(raw) for raw in stored} == expected  # gap-free, no duplicates
    await shaky.worker.announce_issued()  # what an interrupted create left to the worker
    assert await announced(shaky) == creates  # each one announced, once
    assert sum(1 for s in first_answers.values() if s != 201) > 0  # faults did hit creates
    assert resets["drop_request"] > 0 and resets["drop_reply"] > 0

    await shaky.drain()
    for phone in phones:
        assert len(await shaky.messages("sms", phone)) == 1


def cut_announcements(chunk: bytes) -> Action:
    """Every SET of an invoice's locator (a key argument, not the create's announcement)."""
    return "drop_request" if b"\r\nlocate:invoice:" in chunk else "forward"


async def test_an_announcement_cut_after_the_commit_is_finished_by_the_worker_once(
    shaky: Facto, proxy: ResetProxy
) -> None:
    """The create committed on the merchant's slot; writing its locator, links and event (on
    other slots) fails, as if the web process died there. The answer is still 201 — the
    invoice is issued — and the worker's periodic step finishes the announcement, once."""
    proxy.plan = cut_announcements
    response = await post(shaky, invoice_body(), "order-1")
    assert response.status == 201, await response.text()
    created = await response.json()
    assert await issued(shaky) == [created["id"]]
    assert await announced(shaky) == 0
    assert (await shaky.client.get(urlparse(created["pay_url"]).path)).status == 404

    proxy.plan = forward_all
    again = await post(shaky, invoice_body(), "order-1")  # the merchant's retry, replayed
    assert again.headers["Idempotent-Replayed"] == "true" and await again.json() == created
    assert await announced(shaky) == 0  # a replay answers from the record alone
    assert await shaky.worker.announce_issued() == 1
    assert await announced(shaky) == 1
    await shaky.drain()
    assert await shaky.worker.announce_issued() == 0
    await shaky.drain()
    [message] = await shaky.messages("telegram", "424242")
    assert created["pay_url"] in str(message)
    assert (await shaky.client.get(urlparse(created["pay_url"]).path)).status in (200, 302, 303)


async def test_the_worker_finishes_an_announcement_nobody_retried(
    shaky: Facto, proxy: ResetProxy
) -> None:
    proxy.plan = cut_announcements
    response = await post(shaky, invoice_body(), None)
    assert response.status == 201
    proxy.plan = forward_all
    assert await shaky.worker.announce_issued() == 1
    assert await shaky.worker.announce_issued() == 0
    await shaky.drain()
    assert len(await shaky.messages("telegram", "424242")) == 1


def _number(raw: str | None) -> str:
    assert raw is not None
    number: str = json.loads(raw)["number"]
    return number


async def test_an_announcement_that_stalls_is_left_to_the_worker_within_the_bound(
    proxy: ResetProxy, redis: aioredis.Redis
) -> None:
    # The announcement runs on the client bounded by its caller (no timeout per reply): a
    # request Redis never gets must still end within REDIS_SOCKET_TIMEOUT, answered 201.
    facto = await start_facto(proxy.url, redis, REDIS_SOCKET_TIMEOUT=0.5)
    try:
        await facto.add_merchant()
        assert facto.merchant is not None
        await redis.script_load(issuing.CREATE.text)  # called by its SHA, as in `shaky`
        locator = b"locate:invoice:"  # written by the announcement, carried by the create

        def hold_the_announcement(chunk: bytes) -> Action:
            held = locator in chunk and CREATE_SCRIPT not in chunk
            return "hold_request" if held else "forward"

        proxy.plan = hold_the_announcement
        # Without a bound the client would wait for that reply for ever: fail, not hang.
        response = await asyncio.wait_for(post(facto, invoice_body(), "stalled-1"), 10)
        assert response.status == 201, await response.text()
        created = await response.json()
        assert proxy.held.is_set()
        assert await issued(facto) == [created["id"]]
        pending = await redis.hkeys(keys.merchant_announcements(facto.merchant.id))
        assert pending == [created["id"]] and await announced(facto) == 0

        proxy.plan = forward_all  # the worker's backstop carries it out
        assert await issuing.announce_all(redis) == 1
        assert await announced(facto) == 1
    finally:
        proxy.plan = forward_all
        await facto.client.close()
