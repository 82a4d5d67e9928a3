"""TESTCASES 10, 35, 45 and 46: what sits on the webhook's path, and what survives an outage.

Only the durable append is on the request path (design rule 1), so a slow provider or a slow
conversation step never delays an acknowledgement; an update refused while Redis is away is
processed once when the provider redelivers it; an acknowledged event survives a SIGKILL of
Redis, because Redis appends to its AOF before it answers (with `appendfsync everysec`, what a
crash of the whole machine can lose is the last second: see docs/decisions.md "Durability").
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from bot.store.conversations import transcript
from bot.web.webhooks import EMPTY_TWIML
from tests.scenario.harness import Facto, invoice_body, start_facto

pytestmark = pytest.mark.fault

PHONE = "+33612345678"
CHAT = 424242
HANG_GUARD_SECONDS = 10.0  # only stops a broken build from hanging the suite


@pytest.fixture
async def app(own_redis: EmbeddedRedis, tmp_path: Path) -> AsyncIterator[Facto]:
    client = aioredis.Redis.from_url(own_redis.url, decode_responses=True)
    facto = await start_facto(
        own_redis.url, client, FACTO_SPOOL_DIR=str(tmp_path / "spool"), REDIS_SOCKET_TIMEOUT=1.0
    )
    await facto.add_merchant()
    yield facto
    await facto.client.close()
    await client.aclose()


async def sms(facto: Facto, sid: int, text: str) -> Any:
    return await facto.sms(PHONE, sid, text)


def telegram_update(facto: Facto, update_id: int, text: str) -> dict[str, Any]:
    user = {"id": CHAT, "is_bot": False, "first_name": "Camille", "language_code": "fr"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user,
            "chat": {"id": CHAT, "type": "private", "first_name": "Camille"},
            "date": int(facto.clock.now().timestamp()),
            "text": text,
        },
    }


async def deliver(facto: Facto, update: dict[str, Any]) -> int:
    """What Telegram does with one update: POST it with the webhook's secret token."""
    response = await facto.client.post(
        "/webhooks/telegram",
        data=json.dumps(update),
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": "sandbox-telegram-secret",
        },
    )
    return response.status


async def hold_sms_sends(facto: Facto) -> None:
    """The provider answers nothing until the faults are cleared (up to a minute)."""
    response = await facto.client.post(
        "/sandbox/api/faults", json={"channel": "sms", "status": None, "delay": 60, "count": 99}
    )
    assert response.status == 201, await response.text()


async def send_requests(facto: Facto) -> int:
    counts: dict[str, int] = await (await facto.client.get("/sandbox/api/send-requests")).json()
    return counts["sms"]


async def provider_reached(facto: Facto, before: int) -> None:
    """Until the worker's send is held at the provider (the sandbox counts send calls)."""
    while await send_requests(facto) == before:  # noqa: ASYNC110 - polled over HTTP
        await asyncio.sleep(0.01)


async def test_tc10_slow_provider_never_delays_an_acknowledgement(app: Facto) -> None:
    await app.issue(invoice_body("sms", PHONE))
    await hold_sms_sends(app)
    await sms(app, 1, "payer")
    sent_before = await send_requests(app)
    sending = asyncio.create_task(app.drain())
    await asyncio.wait_for(provider_reached(app, sent_before), HANG_GUARD_SECONDS)

    # While the provider holds the worker's send, new webhooks are still acknowledged.
    responses = [
        await asyncio.wait_for(sms(app, n, text), HANG_GUARD_SECONDS)
        for n, text in ((2, "il reste combien ?"), (3, "merci"))
    ]
    assert [r.status for r in responses] == [200, 200]
    assert not sending.done()

    await app.client.delete("/sandbox/api/faults")
    await asyncio.wait_for(sending, HANG_GUARD_SECONDS)
    await app.drain()
    bot_texts = [m["text"] for m in await app.messages("sms", PHONE)]
    assert len(bot_texts) == len(set(bot_texts)) == 4  # the invoice and one reply per message


async def test_tc35_the_webhook_answers_empty_twiml_and_the_reply_goes_out_by_rest(
    app: Facto,
) -> None:
    await app.issue(invoice_body("sms", PHONE))
    before = len(await app.messages("sms", PHONE))

    response = await sms(app, 1, "payer")
    body = await response.text()

    # Nothing of the conversation ran on the request: the event waits in the inbox.
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert body == EMPTY_TWIML
    assert await app.redis.llen(keys.conv_inbox(f"sms:{PHONE}")) == 1
    assert len(await app.messages("sms", PHONE)) == before

    await app.drain()
    [reply] = (await app.messages("sms", PHONE))[before:]
    assert "/p/" in reply["text"]


async def test_tc45_updates_refused_during_an_outage_are_processed_once_on_redelivery(
    app: Facto, own_redis: EmbeddedRedis
) -> None:
    await app.issue(invoice_body())
    updates = [
        telegram_update(app, 100, "il reste combien ?"),
        telegram_update(app, 101, "payer"),
    ]
    own_redis.stop_process()
    assert [await deliver(app, u) for u in updates] == [503, 503]  # Telegram keeps them

    own_redis.start()
    # Telegram redelivers what it kept, a retry of 100 arrives twice, then a new update.
    for update in [*updates, updates[0], telegram_update(app, 102, "merci")]:
        assert await deliver(app, update) == 200
    await app.drain()

    said = [e["text"] for e in await transcript(app.redis, f"telegram:{CHAT}") if e["dir"] == "in"]
    assert said == ["il reste combien ?", "payer", "merci"]
    replies = (await app.messages("telegram", str(CHAT)))[1:]
    assert len(replies) == 3


async def test_tc46_acknowledged_events_survive_a_hard_crash_of_redis(
    app: Facto, own_redis: EmbeddedRedis
) -> None:
    await app.issue(invoice_body("sms", PHONE))
    statuses = [(await sms(app, n, f"message {n}")).status for n in range(1, 41)]
    assert statuses == [200] * 40

    assert own_redis.pid is not None
    os.kill(own_redis.pid, signal.SIGKILL)  # no shutdown, no final fsync
    own_redis.stop_process()
    own_redis.start()

    fresh = aioredis.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        inbox = await fresh.lrange(keys.conv_inbox(f"sms:{PHONE}"), 0, -1)
    finally:
        await fresh.aclose()
    texts = [json.loads(raw)["data"]["text"] for raw in inbox]
    assert texts == [f"message {n}" for n in range(1, 41)]
