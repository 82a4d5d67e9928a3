"""Inbound messages during a Redis outage (issue 15): nothing lost, nothing hangs.

Twilio does not retry a failed messaging webhook (PROVIDERS T6), so an SMS that arrives while
Redis is down or frozen goes to the local spool, is acknowledged, and is replayed when Redis is
back; Telegram and Stripe retry, so they keep getting 503. These tests stop, restart and freeze
a real redis-server of their own (the session's is left alone).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.engine.pipeline import Event
from bot.engine.spool import InboundSpool
from bot.store import keys
from bot.web.app_keys import SPOOL
from bot.web.webhooks import SPOOL_AFTER_SECONDS
from tests.scenario.harness import Facto, invoice_body, start_facto

pytestmark = pytest.mark.fault

PHONE = "+33612345678"
CONVERSATION = f"sms:{PHONE}"


@pytest.fixture
async def app(own_redis: EmbeddedRedis, tmp_path: Path) -> AsyncIterator[Facto]:
    client = aioredis.Redis.from_url(own_redis.url, decode_responses=True)
    facto = await start_facto(
        own_redis.url, client, FACTO_SPOOL_DIR=str(tmp_path / "spool"), REDIS_SOCKET_TIMEOUT=1.0
    )
    await facto.add_merchant()
    await facto.issue(invoice_body("sms", PHONE))
    yield facto
    await facto.client.close()
    await client.aclose()


async def sms(facto: Facto, sid: int, text: str) -> Any:
    return await facto.sms(PHONE, sid, text)


def spooled(facto: Facto) -> int:
    spool = facto.client.app[SPOOL]
    return sum(len(path.read_text().splitlines()) for path in spool.files())


async def until(condition: Any, within: float = 15.0) -> None:
    """Wait for the web process's own background work (bounded; fails the test if late)."""
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def replies(facto: Facto) -> list[str]:
    return [m["text"] for m in await facto.messages("sms", PHONE)]


async def test_sms_during_a_redis_outage_are_spooled_then_replayed_in_order(
    app: Facto, own_redis: EmbeddedRedis
) -> None:
    own_redis.stop_process()
    texts = ["aide", "payer", "bonjour"]
    for sid, text in enumerate(texts, start=1):
        response = await sms(app, sid, text)
        assert response.status == 200, await response.text()  # acknowledged: on disk
    assert spooled(app) == 3
    telegram = await app.client.post(
        "/sandbox/api/customer/telegram/424242", json={"text": "payer"}
    )
    assert telegram.status == 503  # Telegram retries: no spool for it

    own_redis.start()  # same port, same AOF

    async def drained() -> bool:
        return spooled(app) == 0 and await app.redis.llen(keys.conv_inbox(CONVERSATION)) == 3

    await until(drained)  # replayed by the web process itself, on recovery
    await app.drain()
    said = await replies(app)
    assert len(said) == 4  # the invoice, then one answer per SMS, in the order sent
    assert (
        "Choisissez ci-dessous" in said[1] and "/p/" in said[2] and said[3].startswith("Bonjour !")
    )


async def test_a_replayed_event_already_ingested_is_not_processed_twice(app: Facto) -> None:
    await sms(app, 7, "aide")
    spool: InboundSpool = app.client.app[SPOOL]
    # The same SMS also sits in the spool (a replay that died before deleting its file).
    raw = await app.redis.lindex(keys.conv_inbox(CONVERSATION), 0)
    spool.append(Event.loads(raw))
    assert await spool.replay(app.redis) == 0
    await app.drain()
    assert len(await replies(app)) == 2


async def test_a_frozen_redis_gives_a_fast_answer_not_a_hang(
    app: Facto, own_redis: EmbeddedRedis
) -> None:
    assert own_redis.pid is not None
    os.kill(own_redis.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = await sms(app, 11, "payer")
        sms_seconds = time.monotonic() - started
        assert response.status == 200 and spooled(app) == 1

        started = time.monotonic()
        telegram = await app.client.post(
            "/sandbox/api/customer/telegram/424242", json={"text": "payer"}
        )
        page = await app.client.get("/i/" + "A" * 22)
        api = await app.client.get(
            "/api/v1/invoices/inv_x", headers={"Authorization": f"Bearer {app.api_key}"}
        )
        others_seconds = time.monotonic() - started
        assert (telegram.status, page.status, api.status) == (503, 503, 503)
    finally:
        os.kill(own_redis.pid, signal.SIGCONT)
    # REDIS_SOCKET_TIMEOUT is 1 s here: each request fails within a few of them, never hangs.
    assert sms_seconds < SPOOL_AFTER_SECONDS, sms_seconds
    assert others_seconds < 12.0, others_seconds

    async def drained() -> bool:
        return spooled(app) == 0

    await until(drained)
    await app.drain()
    assert "/p/" in (await replies(app))[-1]


async def test_the_spool_left_by_a_previous_process_is_replayed_at_start(
    own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    InboundSpool(spool_dir).append(
        Event(
            id="sms:SM-left-behind",
            type="inbound",
            conversation=CONVERSATION,
            data={
                "channel": "sms",
                "address": PHONE,
                "provider_id": "SM-left-behind",
                "kind": "text",
                "text": "bonjour",
            },
        )
    )
    client = aioredis.Redis.from_url(own_redis.url, decode_responses=True)
    facto = await start_facto(own_redis.url, client, FACTO_SPOOL_DIR=str(spool_dir))
    try:

        async def replayed() -> bool:
            return bool(await client.llen(keys.conv_inbox(CONVERSATION)) == 1)

        await until(replayed)
        assert not list(spool_dir.glob("*"))
    finally:
        await facto.client.close()
        await client.aclose()


def test_a_torn_last_line_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    """A crash mid-write leaves a partial line that was never acknowledged."""
    spool = InboundSpool(tmp_path)
    event = Event(id="sms:SM1", type="inbound", conversation=CONVERSATION, data={"text": "x"})
    spool.append(event)
    [path] = spool.files()
    with path.open("a") as handle:
        handle.write('{"id": "sms:SM2", "ty')
    from bot.engine.spool import _read_events

    assert [e.id for e in _read_events(path)] == ["sms:SM1"]
