"""The sweep that backs up Stripe webhooks (TESTCASES design rule 5).

Every Checkout Session our pay links open is tracked until it ends. The sweep retrieves each
one again from Stripe; a completed session whose webhook never arrived becomes the same
`payment` event a webhook would have produced, for the same conversation. Replays are harmless:
the ledger ignores a session it has already counted, and ingest dedupes the sweep's own events.
"""

from __future__ import annotations

import dataclasses
import logging

import redis.asyncio as aioredis

from bot.engine.pipeline import Event, ingest
from bot.logs import log_fields
from bot.store import keys
from bot.store.conversations import conversation_key
from bot.store.invoices import locate_invoice
from payments.stripe_gateway import CheckoutSession, PaymentProviderError, StripeGateway
from payments.webhook import PaymentUpdate, interpret_event

log = logging.getLogger(__name__)


def track(pipe: aioredis.client.Pipeline, session_id: str) -> None:
    pipe.sadd(keys.CHECKOUT_SESSIONS_OPEN, session_id)


async def sweep(redis: aioredis.Redis, stripe: StripeGateway) -> int:
    """Check every tracked session once; returns how many payment events it delivered."""
    delivered = 0
    for session_id in await redis.smembers(keys.CHECKOUT_SESSIONS_OPEN):
        try:
            session = await stripe.retrieve_checkout_session(session_id)
        except PaymentProviderError as error:
            if not error.retryable:  # unknown to Stripe: nothing will ever happen to it
                await redis.srem(keys.CHECKOUT_SESSIONS_OPEN, session_id)
            continue
        if session.status == "open":
            continue
        if session.status == "complete" and await _deliver(redis, session):
            delivered += 1
        if session.status == "expired" or session.payment_status == "paid":
            await redis.srem(keys.CHECKOUT_SESSIONS_OPEN, session_id)
    return delivered


async def _deliver(redis: aioredis.Redis, session: CheckoutSession) -> bool:
    update = interpret_event(_as_event(session))
    if not isinstance(update, PaymentUpdate):
        return False
    located = await locate_invoice(redis, update.invoice_id)
    if located is None or located.merchant_id != update.merchant_id:
        return False
    fresh = await ingest(
        redis,
        Event(
            id=f"stripe-session:{session.id}:{update.outcome}",
            type="payment",
            conversation=conversation_key(located.channel, located.address),
            data={"update": dataclasses.asdict(update), "event_id": f"sweep:{session.id}"},
        ),
    )
    if fresh:
        log.info(
            "payment found by the sweep",
            extra=log_fields(session=session.id, outcome=update.outcome),
        )
    return fresh


def _as_event(session: CheckoutSession) -> dict[str, object]:
    """The session as the `checkout.session.completed` event that would carry it."""
    return {
        "id": f"sweep:{session.id}",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": session.id,
                "object": "checkout.session",
                "status": session.status,
                "payment_status": session.payment_status,
                "amount_total": session.amount_total,
                "currency": session.currency.lower(),
                "metadata": dict(session.metadata),
            }
        },
    }
