"""Payments of flash-sale holds: Stripe's events, reconciled through the recipient's
conversation like an invoice's (ingest deduplicated by event id, then dispatch).

A hold's id names its campaign (`hold.<campaign>.<random>`) and is the Checkout Session's
`invoice_id` metadata, so a webhook finds it without a lookup table. The dispatch re-reads the
session at Stripe (never trusts the event's copy): paid → the unit is sold (counted per variant
with its revenue) and the customer gets a receipt in the chat; expired → the unit goes back to
the stock. Each write happens once: they are committed with the event (bot.engine.effects_log).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from bot.clock import Clock
from bot.engine import outbox
from bot.engine.pipeline import Event, ingest
from bot.logs import log_fields
from bot.store import campaigns, customers, keys
from bot.store.conversations import append_transcript, split_key
from channels.base import OutboundMessage
from flows.campaign import receipt_text
from payments.money import Money, format_money
from payments.stripe_gateway import StripeGateway
from payments.webhook import payment_ref

log = logging.getLogger(__name__)

EVENT_TYPE = "offer_payment"
HOLD_PREFIX = "hold."


def hold_id(campaign_id: str, suffix: str) -> str:
    return f"{HOLD_PREFIX}{campaign_id}.{suffix}"


def campaign_of_hold(hold: str) -> str | None:
    if not hold.startswith(HOLD_PREFIX):
        return None
    parts = hold.split(".")
    return parts[1] if len(parts) == 3 else None


async def save_hold(
    redis: aioredis.Redis,
    merchant_id: str,
    campaign_id: str,
    hold: str,
    link: Mapping[str, str],
) -> None:
    """Who a hold is for, before its Checkout Session is created (one session per hold)."""
    await redis.hset(keys.offer_session(merchant_id, campaign_id, hold), mapping=dict(link))


async def route(redis: aioredis.Redis, event: Mapping[str, Any]) -> bool:
    """True when the event is about a hold's session (ingested into its conversation)."""
    ref = payment_ref(event)
    if ref is None or ref.invoice_id is None or ref.merchant_id is None:
        return False
    campaign_id = campaign_of_hold(ref.invoice_id)
    if campaign_id is None:
        return False
    record = await redis.hgetall(keys.offer_session(ref.merchant_id, campaign_id, ref.invoice_id))
    if not record or ref.session_id is None:
        log.warning("stripe event for an unknown hold", extra=log_fields(event=ref.event_id))
        return True  # ours by its shape, but nothing to apply it to: acknowledged, ignored
    await ingest(
        redis,
        Event(
            id=f"stripe:{ref.event_id}",
            type=EVENT_TYPE,
            conversation=record["conversation"],
            data={
                "merchant_id": ref.merchant_id,
                "campaign_id": campaign_id,
                "hold": ref.invoice_id,
                "session_id": ref.session_id,
            },
        ),
    )
    return True


@dataclass
class OfferPaymentDispatch:
    redis: aioredis.Redis
    pipe: aioredis.client.Pipeline
    event: Event
    clock: Clock
    stripe: StripeGateway

    async def run(self) -> None:
        data = self.event.data
        merchant_id, campaign_id = str(data["merchant_id"]), str(data["campaign_id"])
        hold, session_id = str(data["hold"]), str(data["session_id"])
        record = await self.redis.hgetall(keys.offer_session(merchant_id, campaign_id, hold))
        status = await campaigns.load(self.redis, merchant_id, campaign_id)
        if not record or status is None or record.get("outcome"):
            return  # unknown, or already settled (a redelivery, the other of two events)
        session = await self.stripe.retrieve_checkout_session(session_id)
        customer_id, variant = record["customer_id"], record["variant"]
        name = keys.offer_session(merchant_id, campaign_id, hold)
        counts = keys.campaign_counts(merchant_id, campaign_id)
        holds = keys.campaign_holds(merchant_id, campaign_id)
        if session.status == "complete" and session.payment_status == "paid":
            self.pipe.hset(name, "outcome", "paid")
            # Sold: the unit stays taken; the customer may buy again up to the offer's limit.
            if await self.redis.hget(holds, customer_id) == hold:
                self.pipe.hdel(holds, customer_id)
            self.pipe.hincrby(keys.campaign_bought(merchant_id, campaign_id), customer_id, 1)
            for counter, amount in (("paid", 1), ("revenue", session.amount_total)):
                self.pipe.hincrby(counts, counter, amount)
                self.pipe.hincrby(counts, f"{variant}:{counter}", amount)
            await self._receipt(merchant_id, customer_id, status, session.amount_total)
        elif session.status == "expired":
            self.pipe.hset(name, "outcome", "expired")
            if await self.redis.hget(holds, customer_id) == hold:
                # Back to the stock; the customer may tap their link again.
                self.pipe.hdel(holds, customer_id)
                self.pipe.hincrby(keys.campaign(merchant_id, campaign_id), "reserved", -1)
            self.pipe.hincrby(counts, "expired", 1)

    async def _receipt(
        self, merchant_id: str, customer_id: str, status: campaigns.Status, amount: int
    ) -> None:
        customer = await customers.get(self.redis, merchant_id, customer_id)
        locale = customer.locale if customer else "fr"
        offer = status.campaign.offer
        text = receipt_text(
            locale, offer.product, format_money(Money(amount, offer.currency), locale)
        )
        channel, address = split_key(self.event.conversation)
        message = OutboundMessage(
            channel=channel,
            address=address,
            text=text,
            idempotency_key=f"{self.event.id}:receipt",
        )
        outbox.queue(self.pipe, message, self.event.conversation, merchant_id=merchant_id)
        append_transcript(
            self.pipe,
            self.event.conversation,
            direction="out",
            text=text,
            at=self.clock.now(),
            ref=message.idempotency_key,
        )
        log.info("offer paid", extra=log_fields(campaign=status.campaign.id))
