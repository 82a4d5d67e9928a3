"""A sender that reads a campaign message's wake-up before its record exists keeps the
wake-up pending instead of acknowledging it, so the message is still sent."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine import effects_log, outbox
from bot.store import keys
from channels.base import ChannelName, OutboundMessage
from tests.scenario.harness import Facto
from tests.scenario.outbox_faults import received, sender
from tests.scenario.test_campaigns import CONSENT, campaign_body, post


@pytest.mark.fault
async def test_campaign_message_is_sent(facto: Facto, monkeypatch: pytest.MonkeyPatch) -> None:
    person = {"id": "t1", "name": "Tina", "telegram_chat_id": 5001, "consent": CONSENT}
    assert (await post(facto, "/api/v1/customers", person))[0] == 201
    _, audience = await post(facto, "/api/v1/audiences", {"customers": ["t1"]})
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience["id"]))
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})

    other = sender(facto, "other-worker")
    original = effects_log._apply_groups

    async def apply_then_race(redis: Any, commit_id: str, groups: Any) -> None:
        # One group at a time (they normally share one round trip), so that a sender can
        # run between the wake-up's group and a later one.
        for index, group in groups:
            await original(redis, commit_id, [(index, group)])
            if group[0][1] == keys.outbox_stream("telegram"):
                await other.run_once()  # a worker blocked on XREADGROUP wakes at once

    monkeypatch.setattr(effects_log, "_apply_groups", apply_then_race)
    # The dispatcher pipelines an entry's groups with its step when it can: not here.
    monkeypatch.setattr(effects_log, "queue_entry", lambda _pipe, _raw: None)
    await facto.drain()
    monkeypatch.undo()
    await facto.drain()
    queued = await facto.redis.lrange(keys.outbox_conversation_queue("telegram:5001"), 0, -1)
    assert len(await facto.messages("telegram", "5001")) == 1, queued
    assert queued == []


@pytest.mark.fault
async def test_wakeup_before_its_record_is_not_acknowledged(facto: Facto) -> None:
    """Whatever the caller's write order, a wake-up read while its record is still on its way
    (the conversation has effects left) stays pending, and the message goes out later."""
    conversation = "telegram:5002"
    message = OutboundMessage(ChannelName.TELEGRAM, "5002", "bonjour", "guard:1")
    await facto.redis.rpush(keys.outbox_conversation_queue(conversation), message.idempotency_key)
    await facto.redis.xadd(
        keys.outbox_stream("telegram"), {"key": message.idempotency_key, "conv": conversation}
    )
    await facto.redis.rpush(keys.conv_effects(conversation), "an effects entry not applied yet")
    first = sender(facto, "first-worker")
    await first.run_once()
    # The wake-up must not be acknowledged yet.
    assert await outbox.unacknowledged(facto.redis) == 1

    # The effects are applied: the record is written, the effects list emptied.
    await outbox.queue_now(facto.redis, message, conversation, merchant_id=None, invoice_id=None)
    await facto.redis.delete(keys.conv_effects(conversation))
    await first.reclaim(min_idle_ms=0)
    await first.run_once()
    await first.run_once()
    assert await received(facto, "telegram", ["5002"]) == {"5002": 1}
    assert await facto.redis.llen(keys.outbox_conversation_queue(conversation)) == 0
