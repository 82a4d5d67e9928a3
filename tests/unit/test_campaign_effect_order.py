"""A campaign message's outbox record is applied before its wake-up (effects_log order)."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.engine import outbox
from bot.engine.effects_log import command_keys, split
from bot.store import keys
from channels.base import ChannelName, OutboundMessage
from flows.campaign import with_marketing_mentions

CONV = "telegram:5001"


def test_campaign_record_group_is_applied_before_its_wakeup() -> None:
    pipe = aioredis.Redis().pipeline(transaction=True)
    text = with_marketing_mentions("offre", "fr", "telegram", "Atelier")
    message = OutboundMessage(ChannelName.TELEGRAM, "5001", text, "campaign:c1:t1")
    record = keys.outbox_message(message.idempotency_key)
    # What CampaignDispatch.run queues: the record's extra fields go with the record.
    outbox.queue(
        pipe,
        message,
        CONV,
        merchant_id="m1",
        extra={"class": "marketing", "sender": "Atelier", "campaign": "m1/c1/A"},
    )
    groups = split(CONV, pipe.command_stack).groups
    order = [command_keys(group[0])[0] for group in groups]
    # The wake-up must come after the record it announces (effects_log docstring).
    assert order.index(record) < order.index(keys.outbox_stream("telegram")), order
