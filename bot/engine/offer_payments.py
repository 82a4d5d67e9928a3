"""Payments of flash-sale holds: Stripe's events, reconciled through the recipient's
conversation like an invoice's (ingest deduplicated by event id, then dispatch).

A hold's id names its campaign (`hold.<campaign>.<random>`) and is the Checkout Session's
`invoice_id` metadata, so a webhook finds it without a lookup table. The dispatch re-reads the
session at Stripe (never trusts the event's copy): paid → the unit is sold (counted per variant
with its revenue), its invoice is issued (bot.engine.order_invoices) and the customer gets a
receipt in the chat naming it; expired → the unit goes back to
the stock. Each write happens once: they are committed with the event (bot.engine.effects_log).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from bot.clock import Clock
from bot.engine import order_invoices, outbox
from bot.engine.pipeline import Event, ingest
from bot.logs import log_fields
from bot.store import campaigns, customers, keys
from bot.store.conversations import append_transcript, split_key
from bot.store.merchants import get_merchant
from channels.base import OutboundMessage
from flows.campaign import receipt_text
from payments.invoice import Invoice
from payments.money import Money, format_money
from payments.stripe_gateway import PaymentProviderError, StripeGateway
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


async def track_session(
    redis: aioredis.Redis,
    merchant_id: str,
    campaign_id: str,
    hold: str,
    session_id: str,
    *,
    at: float,
) -> None:
    """Remember a hold's session for the sweep, in case its webhook never comes."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(keys.offer_session(merchant_id, campaign_id, hold), "session_id", session_id)
        pipe.zadd(keys.OFFER_SESSIONS_OPEN, {f"{merchant_id}/{campaign_id}/{hold}": at})
        await pipe.execute()


async def route(redis: aioredis.Redis, event: Mapping[str, Any]) -> bool:
    """True when the event is about a hold's session (ingested into its conversation)."""
    return await route_event(redis, event) is not None


async def route_event(redis: aioredis.Redis, event: Mapping[str, Any]) -> bool | None:
    """None when not a hold's event; else whether it was new (a duplicate is not)."""
    ref = payment_ref(event)
    if ref is None or ref.invoice_id is None or ref.merchant_id is None:
        return None
    campaign_id = campaign_of_hold(ref.invoice_id)
    if campaign_id is None:
        return None
    record = await redis.hgetall(keys.offer_session(ref.merchant_id, campaign_id, ref.invoice_id))
    if not record or ref.session_id is None:
        log.warning("stripe event for an unknown hold", extra=log_fields(event=ref.event_id))
        return False  # ours by its shape, but nothing to apply it to: acknowledged, ignored
    return await ingest(
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


async def sweep_sessions(redis: aioredis.Redis, stripe: StripeGateway) -> int:
    """Each tracked hold's session, read again at Stripe: paid or expired becomes the same
    `offer_payment` event a webhook would have caused (dispatch settles a hold once, whichever
    comes first); settled holds stop being tracked. Returns how many events were new."""
    delivered = 0
    for member in await redis.zrange(keys.OFFER_SESSIONS_OPEN, 0, -1):
        merchant_id, campaign_id, hold = member.split("/", 2)
        record = await redis.hgetall(keys.offer_session(merchant_id, campaign_id, hold))
        session_id = record.get("session_id")
        if not session_id or record.get("outcome"):
            await redis.zrem(keys.OFFER_SESSIONS_OPEN, member)  # settled (or gone)
            continue
        try:
            session = await stripe.retrieve_checkout_session(session_id)
        except PaymentProviderError as error:
            if not error.retryable:  # unknown to Stripe: nothing will ever happen to it
                await redis.zrem(keys.OFFER_SESSIONS_OPEN, member)
            continue
        paid = session.status == "complete" and session.payment_status == "paid"
        if not paid and session.status != "expired":
            continue  # still open, or an asynchronous payment on its way
        data = {
            "merchant_id": merchant_id,
            "campaign_id": campaign_id,
            "hold": hold,
            "session_id": session_id,
        }
        # One id per end state: a second sweep before dispatch settled it adds nothing.
        event = Event(
            id=f"stripe-session:{session_id}:{'paid' if paid else 'expired'}",
            type=EVENT_TYPE,
            conversation=record["conversation"],
            data=data,
        )
        if await ingest(redis, event):
            delivered += 1
            log.info("flash-sale session found by the sweep", extra=log_fields(hold=hold))
    return delivered


@dataclass
class OfferPaymentDispatch:
    redis: aioredis.Redis
    pipe: aioredis.client.Pipeline
    event: Event
    clock: Clock
    stripe: StripeGateway
    base_url: str = ""  # for the invoice's link in the receipt

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
            invoice = await self._invoice(record, status, hold, session.amount_total)
            now = self.clock.now()
            order = {"outcome": "paid", "amount": session.amount_total, "paid_at": now.isoformat()}
            if invoice is not None:
                order |= {"invoice_id": invoice.id, "invoice_number": invoice.number}
            self.pipe.hset(name, mapping=order)
            self.pipe.zadd(keys.campaign_orders(merchant_id, campaign_id), {hold: now.timestamp()})
            # Sold: the unit stays taken; the customer may buy again up to the offer's limit.
            if await self.redis.hget(holds, customer_id) == hold:
                self.pipe.hdel(holds, customer_id)
            self.pipe.hincrby(keys.campaign_bought(merchant_id, campaign_id), customer_id, 1)
            for counter, amount in (("paid", 1), ("revenue", session.amount_total)):
                self.pipe.hincrby(counts, counter, amount)
                self.pipe.hincrby(counts, f"{variant}:{counter}", amount)
            await self._receipt(merchant_id, customer_id, status, session.amount_total, invoice)
        elif session.status == "expired":
            self.pipe.hset(name, "outcome", "expired")
            if await self.redis.hget(holds, customer_id) == hold:
                # Back to the stock; the customer may tap their link again.
                self.pipe.hdel(holds, customer_id)
                self.pipe.hincrby(keys.campaign(merchant_id, campaign_id), "reserved", -1)
            self.pipe.hincrby(counts, "expired", 1)

    async def _invoice(
        self, record: Mapping[str, str], status: campaigns.Status, hold: str, paid: int
    ) -> Invoice | None:
        """The order's invoice, issued once (its id comes from the hold)."""
        merchant_id = status.campaign.merchant_id
        merchant = await get_merchant(self.redis, merchant_id)
        customer = await customers.get(self.redis, merchant_id, record["customer_id"])
        if merchant is None or customer is None:
            return None
        now = self.clock.now()
        try:
            draft = order_invoices.draft(
                merchant,
                customer,
                self.event.conversation,
                status.campaign.offer,
                hold=hold,
                paid=paid,
                now=now,
            )
        except ValueError:
            # An amount with no exact HT (refused when the offer is created; a campaign stored
            # before that check), or a customer record an invoice cannot hold: the sale stands.
            log.exception("ALERT paid order that could not be invoiced: invoice it by hand")
            return None
        return await order_invoices.issue(self.redis, draft, merchant.invoice_prefix, now)

    async def _receipt(
        self,
        merchant_id: str,
        customer_id: str,
        status: campaigns.Status,
        amount: int,
        invoice: Invoice | None,
    ) -> None:
        customer = await customers.get(self.redis, merchant_id, customer_id)
        locale = customer.locale if customer else "fr"
        offer = status.campaign.offer
        text = receipt_text(
            locale,
            offer.product,
            format_money(Money(amount, offer.currency), locale),
            invoice_number=invoice.number if invoice else None,
            invoice_url=f"{self.base_url}/i/{invoice.view_token}" if invoice else None,
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
