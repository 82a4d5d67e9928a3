"""Issue 12: a sent message's record keeps only what later steps read (a few hundred bytes, not
~2.4 KB); its content stays beside it for the hours a status callback may need it. Every reader
of a sent record still works once that content has expired."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import redis.asyncio as aioredis

from bot.engine import outbox, retention
from bot.store import keys
from bot.web import console_views
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_telegram_paid_buttons import TG, chat, pay_by_card

PHONE = "+33612345678"
DAY = 86_400


async def delivered(facto: Facto, key: str) -> None:
    """Until the emulator's status callback said "delivered" (loopback: well under a second)."""
    for _ in range(1000):
        if await facto.redis.hget(keys.outbox_message(key), "delivery") == "delivered":
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{key}: no delivered callback")


async def a_day_later(redis: aioredis.Redis) -> None:
    """What expires within a day is gone (as `bench/run.py` counts it)."""
    for pattern in ("outbox:*", "{outbox:msg:*"):
        async for name in redis.scan_iter(match=pattern):
            if 0 <= await redis.ttl(name) <= DAY:
                await redis.delete(name)


async def outbox_bytes(redis: aioredis.Redis) -> int:
    return sum(
        [
            int(await redis.memory_usage(name, samples=0) or 0)
            async for name in redis.scan_iter(match="outbox:*")
        ]
    )


async def test_a_sent_sms_keeps_under_300_bytes_a_day_later(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", PHONE))
    [key] = [n.removeprefix("outbox:msg:") async for n in facto.redis.scan_iter("outbox:msg:*")]
    await delivered(facto, key)
    record = await facto.redis.hgetall(keys.outbox_message(key))
    assert "message" not in record and record["state"] == "sent"
    # Its content, merchant and invoice, for the callbacks of the next hours.
    body = keys.outbox_sent_body(key)
    assert "message" in await facto.redis.hgetall(body)
    assert 0 < await facto.redis.ttl(body) <= outbox.SENT_BODY_SECONDS
    assert await facto.redis.ttl(keys.outbox_message(key)) > 29 * DAY  # the retention's

    await a_day_later(facto.redis)
    policy = retention.RetentionPolicy(outbox=timedelta(days=30))
    await retention.housekeep(facto.redis, facto.clock.now() + timedelta(days=1), policy)
    # 270 bytes here: state, provider id, when, attempts, conversation, delivered.
    assert await outbox_bytes(facto.redis) <= 300
    # The console still shows the message as delivered, the lookups still find it.
    [line] = [x for x in await console_views.lines(facto.redis, f"sms:{PHONE}") if x.delivery]
    assert line.delivery == "delivered"
    sent = await outbox.load_sent(facto.redis, key)
    assert sent is not None and sent.provider_message_id and sent.channel is not None
    assert await outbox.load(facto.redis, key) is None  # nothing left to send it again from


async def test_pay_buttons_are_taken_off_once_the_content_has_expired(facto: Facto) -> None:
    created = await facto.issue(invoice_body(*TG))
    offering = [m for m in chat(facto) if m.buttons]
    assert offering
    await a_day_later(facto.redis)  # the invoice is paid days later

    await pay_by_card(facto, created["pay_url"])

    assert all(not m.buttons for m in chat(facto)), [(m.text, m.buttons) for m in chat(facto)]
    assert sorted(facto.sandbox.edits) == sorted((TG[1], m.message_id) for m in offering)
