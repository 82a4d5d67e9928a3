"""Marketing messages judged again when they are about to go: the campaign, STOP, quiet hours.

A campaign or cart message is decided at dispatch, but the rate limit can hold a committed
SMS for hours (a 1-message-a-second number, a large sale): by the time its turn comes the
merchant may have cancelled or paused the sale, the customer may have said STOP, or the
evening may have come. The sender asks here first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import campaigns, consent, customers, keys
from flows.campaign import PAUSED_RECHECK, next_marketing_moment

DEFAULT_ZONE = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class Gate:
    """`send`; or `wait_until` (quiet hours, a paused campaign); or neither: dropped.

    `reason` names why not: "quiet_hours" or "paused" (waiting), "no_consent", "cancelled" or
    "ended" (dropped; also the counter the drop moves to).
    """

    send: bool
    wait_until: datetime | None = None
    reason: str = ""


async def judge(
    redis: aioredis.Redis, key: str, merchant_id: str, conversation: str, now: datetime
) -> Gate:
    customer_id, campaign = await redis.hmget(keys.outbox_message(key), ["customer", "campaign"])
    window_end: datetime | None = None
    if campaign:
        # One read per campaign message: the state the merchant set last, not the one at
        # dispatch (a cancel or a pause while the paced queue held it).
        _merchant, campaign_id, _variant = str(campaign).split("/", 2)
        state, window_end = await campaigns.state_and_end(redis, merchant_id, campaign_id)
        if state == "cancelled":
            return Gate(send=False, reason="cancelled")
        if window_end is not None and now >= window_end:
            return Gate(send=False, reason="ended")  # the sale is over: its offer would lie
        if state == "paused":
            # Held, not lost: looked at again like a paused dispatch (flows.campaign).
            return Gate(send=False, wait_until=now + PAUSED_RECHECK, reason="paused")
    customer = await customers.get(redis, merchant_id, customer_id) if customer_id else None
    addresses = customer.addresses() if customer is not None else [conversation]
    if not await consent.may_market(redis, merchant_id, addresses, via=conversation):
        return Gate(send=False, reason="no_consent")
    zone = customer.timezone if customer is not None else DEFAULT_ZONE
    allowed = next_marketing_moment(now, zone)
    if allowed > now:
        if window_end is not None and allowed >= window_end:
            return Gate(send=False, reason="ended")  # the morning comes after the sale
        return Gate(send=False, wait_until=allowed, reason="quiet_hours")
    return Gate(send=True)


async def count_dropped(
    redis: aioredis.Redis, key: str, merchant_id: str, reason: str = "no_consent"
) -> None:
    """Counted where the merchant reads it: a campaign's counts, or the cart counters.

    `sent` was counted at dispatch; a message dropped at send time moves to the counter of
    its `reason` (no_consent: shown as skipped_no_consent; cancelled: dropped_cancelled; ended:
    dropped_ended), like
    one decided so at dispatch, so the counts still add up to the recipients. Called after the
    record is final, so a crash in between loses the move rather than counting it twice.
    """
    campaign, cart = await redis.hmget(keys.outbox_message(key), ["campaign", "cart"])
    async with redis.pipeline(transaction=True) as pipe:
        if campaign:
            _merchant, campaign_id, variant = str(campaign).split("/", 2)
            counts = keys.campaign_counts(merchant_id, campaign_id)
            pipe.hincrby(counts, "sent", -1)
            pipe.hincrby(counts, f"{variant}:sent", -1)
            pipe.hincrby(counts, reason, 1)
        elif cart:
            pipe.hincrby(keys.cart_counts(merchant_id), "relaunched", -1)
            pipe.hincrby(keys.cart_counts(merchant_id), "skipped_no_consent", 1)
        await pipe.execute()


async def count_delivered(redis: aioredis.Redis, provider_message_id: str) -> bool:
    """A campaign message the carrier says arrived: counted once per message and variant.

    The record's marker makes a repeated callback, or "read" after "delivered", count nothing;
    set before the counters (another slot), so a crash in between loses one count rather than
    doubling it. True when counted.
    """
    key = await redis.get(keys.outbox_by_provider_id(provider_message_id))
    if not key:
        return False
    name = keys.outbox_message(key)
    campaign, merchant_id = await redis.hmget(name, ["campaign", "merchant_id"])
    if not campaign:
        return False  # not a campaign message
    # A sent record is slimmed (bot.engine.outbox): its campaign stays, naming the merchant.
    merchant_id = merchant_id or str(campaign).split("/", 1)[0]
    if not await redis.hsetnx(name, "arrival_counted", "1"):
        return False
    _merchant, campaign_id, variant = str(campaign).split("/", 2)
    counts = keys.campaign_counts(str(merchant_id), campaign_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hincrby(counts, "delivered", 1)
        pipe.hincrby(counts, f"{variant}:delivered", 1)
        await pipe.execute()
    return True
