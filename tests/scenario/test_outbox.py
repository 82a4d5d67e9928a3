"""The outbox: send once, retry 429/5xx honouring Retry-After, give up on permanent errors."""

from __future__ import annotations

import asyncio

from bot.engine import outbox
from bot.store import keys
from channels.base import DeliveryState
from tests.scenario.harness import Facto, invoice_body


async def fail_next(
    facto: Facto, channel: str, status: int, count: int = 1, retry_after: float | None = None
) -> None:
    response = await facto.client.post(
        "/sandbox/api/faults",
        json={"channel": channel, "status": status, "count": count, "retry_after": retry_after},
    )
    assert response.status == 201, await response.text()


async def only_outbox_key(facto: Facto) -> str:
    [key] = [k.removeprefix("outbox:msg:") for k in await facto.redis.keys("outbox:msg:*")]
    return str(key)


async def test_telegram_429_waits_for_retry_after_then_sends_once(facto: Facto) -> None:
    await fail_next(facto, "telegram", 429, retry_after=17)
    await facto.issue(invoice_body())
    assert await facto.messages("telegram", "424242") == []
    key = await only_outbox_key(facto)
    score = await facto.redis.zscore(keys.OUTBOX_RETRY, key)
    assert score == facto.clock.now().timestamp() + 17

    facto.clock.advance(16)
    await facto.drain()
    assert await facto.messages("telegram", "424242") == []
    facto.clock.advance(1)
    await facto.drain()
    assert len(await facto.messages("telegram", "424242")) == 1
    await facto.drain()
    assert len(await facto.messages("telegram", "424242")) == 1


async def test_sms_5xx_backs_off_and_recovers(facto: Facto) -> None:
    await fail_next(facto, "sms", 503, count=2)
    await facto.issue(invoice_body("sms", "+33612345678"))
    key = await only_outbox_key(facto)
    first_due = await facto.redis.zscore(keys.OUTBOX_RETRY, key)
    assert first_due is not None and first_due > facto.clock.now().timestamp()
    for _ in range(3):
        facto.clock.advance(600)
        await facto.drain()
    assert len(await facto.messages("sms", "+33612345678")) == 1
    record = await outbox.load(facto.redis, key)
    assert record is not None and record.state is DeliveryState.SENT and record.attempts == 3


async def test_blocked_bot_is_not_retried(facto: Facto) -> None:
    await fail_next(facto, "telegram", 403)
    await facto.issue(invoice_body())
    key = await only_outbox_key(facto)
    record = await outbox.load(facto.redis, key)
    assert record is not None and record.state is DeliveryState.FAILED
    assert await facto.redis.zcard(keys.OUTBOX_RETRY) == 0


async def test_twilio_status_callbacks_are_recorded_in_order(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", "+33612345678"))
    record = await outbox.load(facto.redis, await only_outbox_key(facto))
    assert record is not None and record.provider_message_id
    for _ in range(100):  # the emulator reports sent, then delivered, over loopback
        state = await outbox.delivery_state(facto.redis, record.provider_message_id)
        if state is DeliveryState.DELIVERED:
            break
        await asyncio.sleep(0.01)
    assert state is DeliveryState.DELIVERED


async def test_late_status_callback_never_moves_backwards(facto: Facto) -> None:
    from channels.base import DeliveryReport

    assert await outbox.record_delivery(
        facto.redis, DeliveryReport("SMx", DeliveryState.DELIVERED)
    )
    assert not await outbox.record_delivery(facto.redis, DeliveryReport("SMx", DeliveryState.SENT))
    assert not await outbox.record_delivery(
        facto.redis, DeliveryReport("SMx", DeliveryState.DELIVERED)
    )
    assert await outbox.delivery_state(facto.redis, "SMx") is DeliveryState.DELIVERED
