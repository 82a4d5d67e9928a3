"""Provider outage: keep trying (gently) for the horizon, then fail over and tell the merchant.

The defect: during a 15-minute Twilio 503 outage the outbox gave up after 8 tries (about ten
minutes) and the SMS was never sent (TESTCASES 57).
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.engine import outbox
from bot.engine.outbox import SendPolicy
from bot.store import keys
from bot.store.conversations import transcript
from channels.base import (
    ChannelName,
    DeliveryState,
    OutboundMessage,
    PermanentError,
    ProviderUnavailable,
    RateLimited,
)
from tests.scenario.harness import Facto, invoice_body, start_facto
from tests.scenario.outbox_faults import add_fault, clear_faults, send_requests

pytestmark = pytest.mark.fault

PHONES = [f"+3361234{i:04d}" for i in range(5)]
OUTAGE = 15 * 60


async def start_outage(facto: Facto) -> None:
    """Twilio answers 503 until `end_outage`.

    Ended by the test, not at a time on the clock: sends waiting for the SMS rate limit move
    the injected clock too, and on the fake clock waits that overlap add up (eight sends each
    waiting 1 s move it 8 s). An outage timed on the clock ended up to half a minute before the
    test's own 15 minutes of steps, and its last minute sent what had to be still waiting
    (the `0 == 4` seen with more sends or dispatches in flight).
    """
    await add_fault(facto, "sms", status=503, for_seconds=4 * OUTAGE)


async def end_outage(facto: Facto) -> None:
    await clear_faults(facto)


async def sms_customer_writes(facto: Facto, phone: str, text: str) -> None:
    response = await facto.client.post(f"/sandbox/api/customer/sms/{phone}", json={"text": text})
    assert response.status == 200, await response.text()


async def dispatch_all(facto: Facto) -> None:
    while await facto.worker.dispatcher.run_once():
        pass


async def run_for(facto: Facto, seconds: float, step: float) -> None:
    """Let the worker run for `seconds` of clock time, waking every `step`."""
    for _ in range(int(seconds / step)):
        facto.clock.advance(step)
        await facto.drain()


async def sms_said(facto: Facto, phone: str) -> list[str]:
    """The start of each message the bot said, in commit order (SMS rendering adds the
    numbered choices and plain spaces, so only the start is compared)."""
    said = await transcript(facto.redis, f"sms:{phone}")
    return [opening(e["text"]) for e in said if e["dir"] == "out"]


def opening(text: str) -> str:
    return " ".join(text.split())[:24]


async def test_57_twilio_503_for_15_minutes(
    facto: Facto, caplog: pytest.LogCaptureFixture
) -> None:
    await start_outage(facto)
    for phone in PHONES:
        response = await facto.post_invoice(invoice_body("sms", phone))
        assert response.status == 201
    await dispatch_all(facto)
    for phone in PHONES:
        await sms_customer_writes(facto, phone, "aide")
    await dispatch_all(facto)

    with caplog.at_level(logging.WARNING, logger="bot.engine.outbox"):
        await run_for(facto, OUTAGE, step=5)
    # No tight loop: the circuit opened after a few 5xx, then one probe per cool-down.
    during = await send_requests(facto, "sms")
    assert during <= 30, during  # a probe a minute at most, not hundreds of calls
    assert any(r.getMessage() == "provider circuit open: sends paused" for r in caplog.records)
    assert all([await facto.messages("sms", p) == [] for p in PHONES])

    await end_outage(facto)
    await run_for(facto, 10 * 60, step=5)  # the outage is over
    for phone in PHONES:  # everything sent, once, in the order it was committed
        received = [opening(m["text"]) for m in await facto.messages("sms", phone)]
        assert received == await sms_said(facto, phone)
        assert len(received) == 2
    assert await send_requests(facto, "sms") == during + 2 * len(PHONES)


@pytest.fixture(
    params=[
        {"FACTO_DISPATCH_CONCURRENCY": 1, "FACTO_SEND_CONCURRENCY_SMS": 1},
        {"FACTO_DISPATCH_CONCURRENCY": 8, "FACTO_SEND_CONCURRENCY_SMS": 8},
        {"FACTO_DISPATCH_CONCURRENCY": 16, "FACTO_SEND_CONCURRENCY_SMS": 16},
    ],
    ids=["one-at-a-time", "default", "wide"],
)
async def busy_facto(
    request: pytest.FixtureRequest, redis_server: EmbeddedRedis, redis: aioredis.Redis
) -> AsyncIterator[Facto]:
    """Facto with conversations dispatched and sent one at a time, or many side by side."""
    app = await start_facto(redis_server.url, redis, **request.param)
    await app.add_merchant()
    yield app
    await app.client.close()


async def test_57_messages_queue_up_bounded_during_the_outage(busy_facto: Facto) -> None:
    """TESTCASES 57, "messages queue up (bounded)": whatever the backlog, only each
    conversation's head waits in the retry queue, the later messages wait in their
    conversation's send queue untouched (none dropped, none doubled), every wake-up is
    acknowledged, and provider calls do not grow with the backlog; then everything leaves
    in order, once. The same whether conversations are dispatched and sent one at a time
    or many side by side."""
    facto = busy_facto
    phones = [f"+3361235{i:04d}" for i in range(12)]
    await start_outage(facto)
    for phone in phones:
        response = await facto.post_invoice(invoice_body("sms", phone))
        assert response.status == 201
    await dispatch_all(facto)
    for text in ("aide", "merci", "bonjour"):
        for phone in phones:
            await sms_customer_writes(facto, phone, text)
        await dispatch_all(facto)
    committed = {phone: len(await sms_said(facto, phone)) for phone in phones}
    assert min(committed.values()) >= 3

    for _minute in range(OUTAGE // 60):
        await run_for(facto, 60, step=5)
        assert await facto.redis.zcard(keys.OUTBOX_RETRY) <= len(phones)
        assert await outbox.unacknowledged(facto.redis) <= len(phones)
        for phone in phones:
            queue = keys.outbox_conversation_queue(f"sms:{phone}")
            assert await facto.redis.llen(queue) == committed[phone]
    during = await send_requests(facto, "sms")
    assert during <= 30, during  # as with 5 conversations: the circuit, not the backlog
    assert len(await facto.redis.keys("outbox:msg:*")) == sum(committed.values())
    assert all([await facto.messages("sms", p) == [] for p in phones])

    await end_outage(facto)
    await run_for(facto, 15 * 60, step=5)  # the outage is over: drained in order, once
    for phone in phones:
        received = [opening(m["text"])[:12] for m in await facto.messages("sms", phone)]
        assert received == [said[:12] for said in await sms_said(facto, phone)]  # SMS adds choices
        assert await facto.redis.llen(keys.outbox_conversation_queue(f"sms:{phone}")) == 0
    assert await facto.redis.zcard(keys.OUTBOX_RETRY) == 0
    assert await send_requests(facto, "sms") == during + sum(committed.values())


def both_channels_body(phone: str, chat: int) -> dict[str, Any]:
    body = invoice_body("sms", phone)
    body["customer"]["telegram_chat_id"] = chat
    return body


async def failed_list(facto: Facto, api_key: str | None = None, **query: str) -> Any:
    response = await facto.client.get(
        "/api/v1/messages",
        params=query or {"state": "failed"},
        headers={"Authorization": f"Bearer {api_key or facto.api_key}"},
    )
    return response.status, await response.json()


async def test_past_the_24h_horizon_the_sms_fails_over_to_telegram_and_the_merchant_sees_it(
    facto: Facto,
) -> None:
    phone, chat = PHONES[0], 930_001
    await add_fault(facto, "sms", status=503, for_seconds=26 * 3600)
    await facto.issue(both_channels_body(phone, chat))
    [key] = [k.removeprefix("outbox:msg:") for k in await facto.redis.keys("outbox:msg:*")]

    await run_for(facto, 23 * 3600, step=600)
    record = await outbox.load(facto.redis, key)
    assert record is not None and record.state is DeliveryState.PENDING  # still trying
    assert await facto.messages("telegram", str(chat)) == []
    assert await failed_list(facto) == (200, {"messages": []})

    await run_for(facto, 2 * 3600, step=600)
    record = await outbox.load(facto.redis, key)
    assert record is not None and record.state is DeliveryState.FAILED
    [fallback] = await facto.messages("telegram", str(chat))
    # The invoice announced again, rendered for Telegram (with the invoice page's link too).
    assert fallback["text"].startswith(record.message.text) and "/i/" in fallback["text"]
    # The other conversation's transcript says what was sent there, once: the invoice is
    # announced again there (so replies in that chat find it), under its own event id.
    said = await transcript(facto.redis, f"telegram:{chat}")
    announced_again = key.removesuffix(":0") + ":fallback:0"
    assert [(e["dir"], e["text"], e["ref"]) for e in said] == [
        ("out", fallback["text"], announced_again)
    ]

    status, listed = await failed_list(facto)
    assert status == 200
    [item] = listed["messages"]
    assert item["id"] == key and item["channel"] == "sms" and item["state"] == "failed"
    assert item["fallback"] == {"channel": "telegram", "state": "sent"}
    assert item["invoice_id"] and item["attempts"] > 8

    # Replaying the failed message's entry sends nothing more, on either channel.
    await facto.redis.xadd(keys.outbox_stream("sms"), {"key": key})
    await run_for(facto, 3 * 3600, step=600)
    assert len(await facto.messages("telegram", str(chat))) == 1
    assert await facto.messages("sms", phone) == []
    assert len(await transcript(facto.redis, f"telegram:{chat}")) == 1

    _, other_key = await facto.add_merchant(name="Autre boutique", invoice_prefix="B")
    assert await failed_list(facto, other_key) == (200, {"messages": []})


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"state": "sent"},
        {"state": "failed", "limit": "0"},
        {"limit": "x"},
        {"state": "failed", "limit": "²"},  # a digit to str.isdigit, not to int(): was a 500
    ],
)
async def test_failed_messages_query_is_checked(facto: Facto, query: dict[str, str]) -> None:
    response = await facto.client.get(
        "/api/v1/messages", params=query, headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert response.status == 422
    assert (await response.json())["error"] == "invalid query"


async def test_failed_messages_need_an_api_key(facto: Facto) -> None:
    response = await facto.client.get("/api/v1/messages", params={"state": "failed"})
    assert response.status == 401


async def test_queueing_the_same_fallback_twice_sends_it_once(facto: Facto) -> None:
    message = OutboundMessage(ChannelName.TELEGRAM, "930002", "Bonjour", "k:fallback")
    for _ in range(2):
        await outbox.queue_now(
            facto.redis, message, "telegram:930002", merchant_id=None, invoice_id=None
        )
    assert await facto.redis.llen(keys.outbox_conversation_queue("telegram:930002")) == 1
    await facto.drain()
    await facto.drain()
    assert len(await facto.messages("telegram", "930002")) == 1


def test_backoff_is_capped_jittered_and_never_tight() -> None:
    policy, rng = SendPolicy(max_backoff_seconds=300), random.Random(7)
    for attempts in range(1, 40):
        ceiling = min(300.0, 2.0 * 2 ** (attempts - 1))
        delays = {outbox.backoff(attempts, ProviderUnavailable("503"), policy, rng) for _ in "ab"}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) == 2  # jittered: two senders do not retry in step
    assert outbox.backoff(3, RateLimited("429", retry_after=17), policy, rng) == 17
    assert outbox.backoff(1, PermanentError("400"), policy, rng) >= 1
